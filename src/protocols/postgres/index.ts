/**
 * PostgreSQL (frontend/backend protocol v3) support: `pgParser` implements the shared
 * ProtocolParser contract.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { maskSql } from '../common/sql.ts';
import { detectPg, findPgFrameBoundary } from './detect.ts';
import { MAX_STATEMENTS, newPgState, parsePgFrame } from './parse.ts';
import type { PgState } from './parse.ts';
import { stitchPg } from './stitch.ts';
import type { PgOperation, PgRequestFrame, PgResponseFrame } from './types.ts';

export interface PgParserOptions {
  /** prepared statements remembered per connection (`ebpf.postgres_prepared_statements_cache_size`); default 1024 */
  readonly preparedStatementsCacheSize?: number;
}

/** A PostgreSQL parser whose connections remember `preparedStatementsCacheSize` statements. */
export function createPgParser(opts: PgParserOptions = {}): ProtocolParser<PgRequestFrame, PgResponseFrame, PgOperation, PgState> {
  const size = opts.preparedStatementsCacheSize ?? MAX_STATEMENTS;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`preparedStatementsCacheSize must be a positive integer, got ${size}`);
  return Object.freeze({
    newState: () => newPgState(size),
    findFrameBoundary: findPgFrameBoundary,
    parseFrame: parsePgFrame,
    stitch: stitchPg,
  });
}

export const pgParser: ProtocolParser<PgRequestFrame, PgResponseFrame, PgOperation, PgState> = createPgParser();


/** PostgreSQL frontend/backend protocol v3, client and server side (category `db`, instrumentation `sql`). */
export const postgres: ProtocolDescriptor<PgOperation> = Object.freeze({
  name: 'sql',
  wire: 'postgresql',
  category: 'db',
  detect: detectPg,
  createParser: (s?: ProtocolSettings) => createPgParser({ preparedStatementsCacheSize: s?.postgres_prepared_statements_cache_size }),
  queryText: (rec: PgOperation) => (rec.query === undefined ? undefined : maskSql(rec.query, 'postgresql')),
});

export { detectPg, findPgFrameBoundary } from './detect.ts';
export { parsePgFrame, newPgState, MAX_QUERY, MAX_STATEMENTS, PG_PROTOCOL_3, PG_SSL_REQUEST, PG_GSSENC_REQUEST, PG_CANCEL_REQUEST } from './parse.ts';
export type { PgState } from './parse.ts';
export { stitchPg } from './stitch.ts';
export type { PgError, PgExecute, PgFrame, PgOperation, PgRequestFrame, PgResponseFrame } from './types.ts';
