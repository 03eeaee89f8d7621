/**
 * PostgreSQL detection from the first bytes of one direction, and resynchronisation.
 *
 * Requests: a StartupMessage (protocol 3.x, `user` parameter first or later), an SSLRequest or
 * GSSENCRequest, or, on a connection seen mid-way, a simple Query / Parse whose text starts like
 * SQL. Responses: an Authentication request, or a well-formed first message of a type the
 * server sends when answering (ParseComplete, RowDescription, CommandComplete, ReadyForQuery,
 * ErrorResponse), length included.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { looksLikeSql } from '../common/sql-detect.ts';
import { PG_GSSENC_REQUEST, PG_PROTOCOL_3, PG_SSL_REQUEST } from './parse.ts';

function be32(b: Buffer, off: number): number {
  return b.readUInt32BE(off);
}

function isStartup(b: Buffer): boolean {
  if (b.length < 8 || b[0] !== 0) return false;
  const len = be32(b, 0);
  const code = be32(b, 4);
  if (len === 8 && (code === PG_SSL_REQUEST || code === PG_GSSENC_REQUEST)) return true;
  if (code !== PG_PROTOCOL_3 || len < 16 || len > 10240) return false;
  // parameters: printable keys
  const keys = b.toString('latin1', 8, Math.min(b.length, len));
  return /^(user|database|application_name|client_encoding|options|replication|DateStyle|TimeZone|extra_float_digits|search_path|_pq_\.[a-z_]+)\0/.test(keys);
}

function typedLength(b: Buffer): number {
  if (b.length < 5) return -1;
  return be32(b, 1);
}

function isQuery(b: Buffer): boolean {
  const t = b[0];
  if (t !== 0x51 /* Q */ && t !== 0x50 /* P */) return false;
  const len = typedLength(b);
  if (len < 5 || len > 1 << 30) return false;
  if (b.length > 1 + len && b.length < 1 + len + 5) return false; // trailing bytes that are no message header
  let off = 5;
  if (t === 0x50) {
    const nul = b.indexOf(0, 5);
    if (nul < 0 || nul - 5 > 63) return false;
    off = nul + 1;
  }
  const end = Math.min(b.length, 1 + len);
  const nul = b.indexOf(0, off);
  const text = b.toString('utf8', off, nul >= 0 && nul < end ? nul : end);
  return looksLikeSql(text);
}

const AUTH_CODES = new Set([0, 2, 3, 5, 7, 8, 9, 10, 11, 12]);

function isResponse(b: Buffer): boolean {
  if (b.length < 5) return false;
  const t = b[0];
  const len = typedLength(b);
  switch (t) {
    case 0x52: // R authentication
      return len >= 8 && len <= 2048 && b.length >= 9 && AUTH_CODES.has(be32(b, 5));
    case 0x31: // 1 ParseComplete
    case 0x32: // 2 BindComplete
      return len === 4;
    case 0x5a: // Z ReadyForQuery
      return len === 5 && b.length >= 6 && (b[5] === 0x49 || b[5] === 0x54 || b[5] === 0x45);
    case 0x43: // C CommandComplete
      return len >= 5 && len < 128 && /^[A-Z]{3,}[A-Z0-9 ]*\0/.test(b.toString('latin1', 5, Math.min(b.length, 1 + len)));
    case 0x54: // T RowDescription
      return len >= 6 && b.length >= 7 && b.readUInt16BE(5) <= 1664 && len < 1 << 20;
    case 0x45: // E ErrorResponse
      return len >= 8 && len < 1 << 16 && b.length >= 6 && 'SVCM'.includes(String.fromCharCode(b[5]));
    default:
      return false;
  }
}

export function detectPg(head: Buffer, type: MessageType): boolean {
  return type === 'request' ? isStartup(head) || isQuery(head) : isResponse(head);
}

/** next offset >= from where a message of a known type may start (a weak guess; typed messages only) */
export function findPgFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const types = type === 'request' ? 'QPBDESHCFXdcfp' : 'RSKZTDCIEN123ntsGHWdcAVv';
  const len = buf.length;
  for (let i = Math.max(from, 1); i < len; i++) {
    const t = buf.byteAt(i);
    if (t < 0 || !types.includes(String.fromCharCode(t))) continue;
    if (i + 5 > len) return i;
    const a = buf.byteAt(i + 1);
    const b = buf.byteAt(i + 2);
    if (a === 0 && b === 0) return i; // message lengths below 64 KiB
  }
  return -1;
}
