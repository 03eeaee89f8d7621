/**
 * MySQL / MariaDB protocol support: `mysqlParser` implements the shared ProtocolParser contract.
 */
import type { ProtocolParser } from '../common/contract.ts';
import { detectMysql, findMysqlFrameBoundary } from './detect.ts';
import { newMysqlState, parseMysqlFrame } from './parse.ts';
import type { MysqlState } from './parse.ts';
import { stitchMysql } from './stitch.ts';
import type { MysqlOperation, MysqlRequestFrame, MysqlResponseFrame } from './types.ts';

export const mysqlParser: ProtocolParser<MysqlRequestFrame, MysqlResponseFrame, MysqlOperation, MysqlState> = Object.freeze({
  name: 'mysql',
  detect: detectMysql,
  newState: newMysqlState,
  findFrameBoundary: findMysqlFrameBoundary,
  parseFrame: parseMysqlFrame,
  stitch: stitchMysql,
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
