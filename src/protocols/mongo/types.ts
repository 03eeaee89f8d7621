/**
 * MongoDB wire protocol frames and records (MongoDB Wire Protocol reference; OP_MSG spec).
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DbRecord } from '../common/records.ts';

export const OP_REPLY = 1;
export const OP_UPDATE = 2001;
export const OP_INSERT = 2002;
export const OP_QUERY = 2004;
export const OP_GET_MORE = 2005;
export const OP_DELETE = 2006;
export const OP_KILL_CURSORS = 2007;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

/** OP_MSG flag bits */
export const MSG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_MORE_TO_COME = 1 << 1;
export const MSG_EXHAUST_ALLOWED = 1 << 16;

/** OP_COMPRESSED compressor ids */
export const COMPRESSORS: Readonly<Record<number, string>> = Object.freeze({ 0: 'noop', 1: 'snappy', 2: 'zlib', 3: 'zstd' });

/** One message sent by the client. */
export interface MongoRequestFrame extends FrameTiming {
  readonly kind: 'request';
  /** the opcode of the message (the original one for OP_COMPRESSED) */
  readonly opCode: number;
  readonly requestId: number;
  /** the client expects no reply (OP_MSG moreToCome; legacy OP_INSERT/UPDATE/DELETE/KILL_CURSORS) */
  readonly noReply: boolean;
  /** the client accepts a stream of replies (OP_MSG exhaustAllowed, OP_QUERY Exhaust) */
  readonly exhaust: boolean;
  /** command name as sent (`find`, `insert`, `getMore`, `hello`); undefined when not captured */
  readonly command?: string;
  /** collection named by the command (its first value, or `collection` for getMore) */
  readonly collection?: string;
  /** database (`$db`, or the namespace prefix of legacy opcodes) */
  readonly database?: string;
  /** getMore / OP_GET_MORE: the cursor id, as a decimal string */
  readonly cursorId?: string;
  /** the command document with its values masked (db.query.text); undefined when not captured */
  readonly statement?: string;
  /** compressor of an OP_COMPRESSED message */
  readonly compressor?: string;
  /** part of the message was not captured or could not be decompressed */
  readonly truncated: boolean;
}

/** One message sent by the server. */
export interface MongoResponseFrame extends FrameTiming {
  readonly kind: 'response';
  readonly opCode: number;
  readonly requestId: number;
  readonly responseTo: number;
  /** OP_MSG moreToCome: another reply to the same request follows (exhaust) */
  readonly moreToCome: boolean;
  /** `ok` was 0 (or OP_REPLY QueryFailure / `$err`) */
  readonly failed: boolean;
  /** error code: `code` of the reply, else of the first write error or the write concern error */
  readonly code?: number;
  readonly codeName?: string;
  readonly errmsg?: string;
  /** cursor returned by find / aggregate / getMore, when not exhausted: id and namespace */
  readonly cursorId?: string;
  readonly cursorNs?: string;
  readonly truncated: boolean;
}

export type MongoFrame = MongoRequestFrame | MongoResponseFrame;

/** One MongoDB command and its outcome. */
export interface MongoOperation extends DbRecord {
  readonly system: 'mongodb';
  /** db.query.text: the command with values masked */
  readonly statement?: string;
  /** the command or its reply was not fully seen */
  readonly truncated: boolean;
}
