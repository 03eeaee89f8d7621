/**
 * HTTP/1.x protocol support: `http1Parser` implements the shared ProtocolParser contract.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { detectHttp1, findHttp1FrameBoundary } from './detect.ts';
import { parseHttp1Frame } from './parse.ts';
import { stitchHttp1 } from './stitch.ts';
import { newHttp1State } from './state.ts';
import type { Http1State } from './state.ts';
import type { HttpExchange, HttpRequestFrame, HttpResponseFrame } from './types.ts';

export const http1Parser: ProtocolParser<HttpRequestFrame, HttpResponseFrame, HttpExchange, Http1State> = Object.freeze({
  newState: newHttp1State,
  findFrameBoundary: findHttp1FrameBoundary,
  parseFrame: parseHttp1Frame,
  stitch: stitchHttp1,
});


/** HTTP/1.x, servers and clients (category `http`). */
export const http1: ProtocolDescriptor<HttpExchange> = Object.freeze({
  name: 'http',
  wire: 'http1',
  category: 'http',
  detect: detectHttp1,
  createParser: (settings?: ProtocolSettings) => {
    const capture = settings?.http_payload_capture ?? 0;
    return capture > 0 ? Object.freeze({ ...http1Parser, newState: () => newHttp1State(capture) }) : http1Parser;
  },
});

export { detectHttp1, findHttp1FrameBoundary, HTTP_METHODS } from './detect.ts';
export { parseHttp1Frame, MAX_START_LINE, MAX_HEADER_BLOCK, MAX_CHUNK_LINE, MAX_TRAILERS } from './parse.ts';
export { stitchHttp1, toExchange } from './stitch.ts';
export { newHttp1State } from './state.ts';
export type { Http1State } from './state.ts';
export type { HttpExchange, HttpRequestFrame, HttpResponseFrame } from './types.ts';
