/**
 * FastCGI (nginx `fastcgi_pass` to PHP-FPM, over TCP or a unix socket): `fastcgiParser`
 * implements the shared ProtocolParser contract. OBI reports FastCGI requests as HTTP spans:
 * the instrumentation name is `http`, the wire `fastcgi`; the web server's side gives client
 * spans, the FastCGI application's side server spans.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectFastCgi, findFcgiFrameBoundary } from './detect.ts';
import { newFcgiState, parseFcgiFrame, type FcgiState } from './parse.ts';
import { stitchFcgi } from './stitch.ts';
import type { FcgiExchange, FcgiRequestFrame, FcgiResponseFrame } from './types.ts';

export const fastcgiParser: ProtocolParser<FcgiRequestFrame, FcgiResponseFrame, FcgiExchange, FcgiState> = Object.freeze({
  newState: newFcgiState,
  findFrameBoundary: findFcgiFrameBoundary,
  parseFrame: parseFcgiFrame,
  stitch: stitchFcgi,
});

/** FastCGI, reported as HTTP (category `http`). */
export const fastcgi: ProtocolDescriptor<FcgiExchange> = Object.freeze({
  name: 'http',
  wire: 'fastcgi',
  category: 'http',
  detect: detectFastCgi,
  createParser: () => fastcgiParser,
});

export { detectFastCgi, findFcgiFrameBoundary } from './detect.ts';
export { cgiHead, decodeParams, newFcgiState, parseFcgiFrame, MAX_HEAD_BYTES, MAX_PARAMS_BYTES } from './parse.ts';
export type { FcgiState } from './parse.ts';
export { stitchFcgi } from './stitch.ts';
export type { FcgiExchange, FcgiFrame, FcgiParams, FcgiRequestFrame, FcgiResponseFrame } from './types.ts';
