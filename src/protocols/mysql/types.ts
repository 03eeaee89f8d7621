/**
 * MySQL / MariaDB client/server protocol: frames and records.
 *
 * A request frame is one command that gets a response (COM_QUERY, COM_STMT_PREPARE,
 * COM_STMT_EXECUTE, COM_INIT_DB, COM_PING, ...) or the handshake response (login). A response
 * frame is one complete response: OK, ERR, a result set (several, with
 * SERVER_MORE_RESULTS_EXISTS), a prepared-statement OK with its definitions, or the end of the
 * authentication exchange.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DbRecord } from '../common/records.ts';

export type MysqlCommandKind = 'login' | 'query' | 'prepare' | 'execute' | 'init_db' | 'other';

export interface MysqlRequestFrame extends FrameTiming {
  readonly kind: MysqlCommandKind;
  /** command byte (COM_*), 0 for the login */
  readonly command: number;
  /** statement text: COM_QUERY / COM_STMT_PREPARE text, or the prepared text of a COM_STMT_EXECUTE */
  readonly query?: string;
  /** COM_STMT_EXECUTE statement id */
  readonly statementId?: number;
  /** login / COM_INIT_DB database */
  readonly database?: string;
  readonly truncated: boolean;
}

export interface MysqlError {
  /** vendor error number (1146) */
  readonly code: number;
  /** SQLSTATE (`42S02`), when sent */
  readonly sqlState?: string;
  readonly message: string;
}

export interface MysqlResponseFrame extends FrameTiming {
  readonly kind: 'response';
  readonly error?: MysqlError;
  /** COM_STMT_PREPARE answered with this statement id */
  readonly statementId?: number;
  /** result sets seen (0 for OK / ERR) */
  readonly resultSets: number;
  readonly truncated: boolean;
}

export type MysqlFrame = MysqlRequestFrame | MysqlResponseFrame;

/** One statement execution. */
export interface MysqlOperation extends DbRecord {
  readonly system: 'mysql';
  /** statement text as captured (mask it before export) */
  readonly query?: string;
  /** COM_STMT_EXECUTE: the prepared statement's id */
  readonly statementId?: number;
  readonly truncated: boolean;
}
