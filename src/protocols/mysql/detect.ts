/**
 * MySQL / MariaDB detection from the first bytes of one direction, and resynchronisation.
 *
 * Responses: the server greeting (protocol version 10, a printable version string, sequence 0),
 * or, on a connection seen mid-way, an ERR packet with a SQLSTATE or an OK packet answering a
 * command (sequence 1). Requests: a command packet (sequence 0) whose length matches: COM_QUERY /
 * COM_STMT_PREPARE with text that starts like SQL, or a COM_STMT_EXECUTE; or the handshake
 * response (what TLS plaintext starts with).
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { looksLikeSql } from '../common/sql-detect.ts';

function packetLength(b: Buffer): number {
  return b[0] | (b[1] << 8) | (b[2] << 16);
}

/**
 * The payload fits the head exactly, or runs past it where the capture cut the segment
 * (`segment` > the head), or another packet follows. A whole segment shorter than the packet it
 * declares is something else: the first 3 bytes of a MongoDB header (its length, little-endian,
 * then a requestID byte) read as a MySQL packet of exactly 4 bytes more than the message.
 */
function lengthFits(b: Buffer, len: number, segment: number): boolean {
  const end = 4 + len;
  if (end === b.length) return true;
  if (end > b.length) return segment > b.length && end <= segment;
  return b.length - end >= 4 && b[end + 3] === 0; // a pipelined command (sequence 0)
}

function isGreeting(b: Buffer): boolean {
  if (b.length < 16 || b[3] !== 0 || b[4] !== 0x0a) return false;
  const len = packetLength(b);
  if (len < 30 || len > 1024) return false;
  const nul = b.indexOf(0, 5);
  if (nul < 6 || nul > 5 + 64) return false;
  for (let i = 5; i < nul; i++) if (b[i] < 0x20 || b[i] > 0x7e) return false;
  return b[5] >= 0x30 && b[5] <= 0x39; // versions start with a digit (5.5.5-10.11..., 8.0...)
}

function isCommand(b: Buffer, segment: number): boolean {
  if (b.length < 5 || b[3] !== 0) return false;
  const len = packetLength(b);
  if (len < 1 || !lengthFits(b, len, segment)) return false;
  const cmd = b[4];
  if (cmd === 0x03 || cmd === 0x16) {
    if (len < 2) return false;
    return looksLikeSql(b.toString('utf8', 5, Math.min(b.length, 4 + len)), 'mysql');
  }
  if (cmd === 0x17) {
    // statement id(4) flags(1) iteration count(4) = 1
    return len >= 10 && b.length >= 14 && b[9] <= 0x0f && b.readUInt32LE(10) === 1;
  }
  return false;
}

function isAnswer(b: Buffer, segment: number): boolean {
  if (b.length < 5 || b[3] !== 1) return false;
  const len = packetLength(b);
  if (4 + len > b.length && !(segment > b.length && 4 + len <= segment)) return false;
  if (b[4] === 0xff) return len >= 9 && b.length >= 13 && b[7] === 0x23 && /^[0-9A-Z]{5}$/.test(b.toString('latin1', 8, 13));
  if (b[4] === 0x00) return len >= 7 && len <= 64 && 4 + len === b.length;
  return false;
}

/** a HandshakeResponse41 (sequence 1, or 2 when it follows an SSL request over TLS) */
function isLogin(b: Buffer, segment: number): boolean {
  if (b.length < 38 || (b[3] !== 1 && b[3] !== 2)) return false;
  const len = packetLength(b);
  if (len < 33 || len > 4096 || !lengthFits(b, len, segment)) return false;
  if ((b.readUInt32LE(4) & 0x200) === 0) return false;
  for (let i = 13; i < 36; i++) if (b[i] !== 0) return false;
  return b[36] >= 0x20 && b[36] < 0x7f;
}

export function detectMysql(head: Buffer, type: MessageType, length = head.length): boolean {
  return type === 'request' ? isCommand(head, length) || isLogin(head, length) : isGreeting(head) || isAnswer(head, length);
}

/** next offset >= from where a packet may start: a header whose length fits and whose sequence is small (a weak guess) */
export function findMysqlFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const len = buf.length;
  for (let i = Math.max(from, 1); i + 4 <= len; i++) {
    const a = buf.byteAt(i);
    const b = buf.byteAt(i + 1);
    const c = buf.byteAt(i + 2);
    const s = buf.byteAt(i + 3);
    if ((a | b | c | s) < 0) continue;
    const plen = a | (b << 8) | (c << 16);
    if (plen === 0 || plen > 1 << 20) continue;
    if (type === 'request' ? s === 0 : s <= 3) return i;
  }
  return -1;
}
