/**
 * PostgreSQL (frontend/backend protocol v3) support: `pgParser` implements the shared
 * ProtocolParser contract.
 */
import type { ProtocolParser } from '../common/contract.ts';
import { detectPg, findPgFrameBoundary } from './detect.ts';
import { newPgState, parsePgFrame } from './parse.ts';
import type { PgState } from './parse.ts';
import { stitchPg } from './stitch.ts';
import type { PgOperation, PgRequestFrame, PgResponseFrame } from './types.ts';

export const pgParser: ProtocolParser<PgRequestFrame, PgResponseFrame, PgOperation, PgState> = Object.freeze({
  name: 'postgresql',
  detect: detectPg,
  newState: newPgState,
  findFrameBoundary: findPgFrameBoundary,
  parseFrame: parsePgFrame,
  stitch: stitchPg,
});

export { detectPg, findPgFrameBoundary } from './detect.ts';
export { parsePgFrame, newPgState, MAX_QUERY, MAX_STATEMENTS, PG_PROTOCOL_3, PG_SSL_REQUEST, PG_GSSENC_REQUEST, PG_CANCEL_REQUEST } from './parse.ts';
export type { PgState } from './parse.ts';
export { stitchPg } from './stitch.ts';
export type { PgError, PgExecute, PgFrame, PgOperation, PgRequestFrame, PgResponseFrame } from './types.ts';
