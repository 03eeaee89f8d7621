/**
 * MySQL / MariaDB protocol support: `mysqlParser` implements the shared ProtocolParser contract.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { maskSql } from '../common/sql.ts';
import { detectMysql, findMysqlFrameBoundary } from './detect.ts';
import { MAX_STATEMENTS, newMysqlState, parseMysqlFrame } from './parse.ts';
import type { MysqlState } from './parse.ts';
import { stitchMysql } from './stitch.ts';
import type { MysqlOperation, MysqlRequestFrame, MysqlResponseFrame } from './types.ts';

export interface MysqlParserOptions {
  /** prepared statements remembered per connection (`ebpf.mysql_prepared_statements_cache_size`); default 1024 */
  readonly preparedStatementsCacheSize?: number;
}

/** A MySQL parser whose connections remember `preparedStatementsCacheSize` statements. */
export function createMysqlParser(opts: MysqlParserOptions = {}): ProtocolParser<MysqlRequestFrame, MysqlResponseFrame, MysqlOperation, MysqlState> {
  const size = opts.preparedStatementsCacheSize ?? MAX_STATEMENTS;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`preparedStatementsCacheSize must be a positive integer, got ${size}`);
  return Object.freeze({
    newState: () => newMysqlState(size),
    findFrameBoundary: findMysqlFrameBoundary,
    parseFrame: parseMysqlFrame,
    stitch: stitchMysql,
  });
}

export const mysqlParser: ProtocolParser<MysqlRequestFrame, MysqlResponseFrame, MysqlOperation, MysqlState> = createMysqlParser();


/** MySQL / MariaDB client/server protocol (category `db`, instrumentation `sql`). */
export const mysql: ProtocolDescriptor<MysqlOperation> = Object.freeze({
  name: 'sql',
  wire: 'mysql',
  category: 'db',
  detect: detectMysql,
  createParser: (s?: ProtocolSettings) => createMysqlParser({ preparedStatementsCacheSize: s?.mysql_prepared_statements_cache_size }),
  queryText: (rec: MysqlOperation) => (rec.query === undefined ? undefined : maskSql(rec.query, 'mysql')),
});

export { detectMysql, findMysqlFrameBoundary } from './detect.ts';
export {
  parseMysqlFrame,
  newMysqlState,
  MAX_QUERY,
  MAX_STATEMENTS,
  COM_QUERY,
  COM_STMT_PREPARE,
  COM_STMT_EXECUTE,
  COM_STMT_CLOSE,
  COM_INIT_DB,
  COM_PING,
  COM_QUIT,
  CLIENT_DEPRECATE_EOF,
} from './parse.ts';
export type { MysqlState } from './parse.ts';
export { stitchMysql } from './stitch.ts';
export type { MysqlCommandKind, MysqlError, MysqlFrame, MysqlOperation, MysqlRequestFrame, MysqlResponseFrame } from './types.ts';
