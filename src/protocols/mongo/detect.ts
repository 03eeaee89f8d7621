/**
 * Recognising MongoDB messages: a 16-byte little-endian header (messageLength, requestID,
 * responseTo, opCode) and, for OP_MSG / OP_QUERY / OP_COMPRESSED, the first body bytes.
 * Detection of a new connection accepts only the opcodes current drivers open with (OP_MSG,
 * OP_QUERY for the legacy handshake, OP_COMPRESSED) and checks the body's start, so that
 * other binary protocols are not taken for MongoDB.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { OP_COMPRESSED, OP_MSG, OP_QUERY, OP_REPLY } from './types.ts';
import { HEADER_LEN, MAX_MESSAGE, REQUEST_OPCODES, RESPONSE_OPCODES } from './wire.ts';

/** OP_MSG flag bits that may be set (checksumPresent, moreToCome, exhaustAllowed) */
const MSG_KNOWN_FLAGS = 0x00010003;

function isBsonType(t: number): boolean {
  return (t >= 0x01 && t <= 0x13) || t === 0x7f || t === 0xff;
}

/** Does `head` (the first bytes of one direction) start a MongoDB message of `type`? */
export function detectMongo(head: Buffer, type: MessageType): boolean {
  if (head.length < HEADER_LEN + 5) return false;
  const len = head.readInt32LE(0);
  const responseTo = head.readInt32LE(8);
  const op = head.readInt32LE(12);
  if (len < HEADER_LEN + 5 || len > MAX_MESSAGE) return false;
  if (type === 'request' ? responseTo !== 0 : responseTo === 0) return false;
  if (type === 'request' ? op !== OP_MSG && op !== OP_QUERY && op !== OP_COMPRESSED : op !== OP_MSG && op !== OP_REPLY && op !== OP_COMPRESSED) return false;
  const o = HEADER_LEN;
  if (op === OP_MSG) {
    const flags = head.readUInt32LE(o);
    if ((flags & ~MSG_KNOWN_FLAGS) !== 0) return false;
    const kind = head[o + 4];
    if (kind !== 0 && kind !== 1) return false;
    if (kind === 0 && head.length >= o + 10) {
      const doc = head.readInt32LE(o + 5);
      if (doc < 5 || doc > len - o - 5) return false;
      if (!isBsonType(head[o + 9])) return false;
    }
    return true;
  }
  if (op === OP_COMPRESSED) {
    if (head.length < o + 9) return false;
    const original = head.readInt32LE(o);
    const size = head.readInt32LE(o + 4);
    return (type === 'request' ? REQUEST_OPCODES : RESPONSE_OPCODES).has(original) && original !== OP_COMPRESSED && size >= 0 && size <= MAX_MESSAGE && head[o + 8] <= 3;
  }
  if (op === OP_QUERY) {
    const flags = head.readInt32LE(o);
    if ((flags & ~0xfe) !== 0) return false; // bit 0 is reserved; bits 1-7 defined
    const nul = head.indexOf(0, o + 4);
    const ns = head.toString('latin1', o + 4, nul < 0 ? Math.min(head.length, o + 4 + 128) : nul);
    return /^[A-Za-z0-9_-]+\.[^\0]*$/.test(ns) || (nul < 0 && /^[A-Za-z0-9_-]+$/.test(ns));
  }
  // OP_REPLY: flags use bits 0-3 only; startingFrom and numberReturned are small non-negative
  const flags = head.readInt32LE(o);
  if ((flags & ~0x0f) !== 0) return false;
  if (head.length >= o + 20) {
    const from = head.readInt32LE(o + 12);
    const n = head.readInt32LE(o + 16);
    if (from < 0 || n < 0 || n > len) return false;
  }
  return true;
}

/**
 * Could a message of `type` start at `off`? 'maybe' when the buffer ends before the header
 * does and the bytes there fit.
 */
export function headerAt(buf: StreamBuffer, off: number, type: MessageType): 'yes' | 'no' | 'maybe' {
  const have = Math.min(HEADER_LEN, buf.length - off);
  const b = buf.slice(off, off + have);
  if (b === null || have <= 0) return 'no';
  if (have >= 4) {
    const len = b.readInt32LE(0);
    if (len < HEADER_LEN + 4 || len > MAX_MESSAGE) return 'no';
  }
  if (have >= 12 && type === 'request' && b.readInt32LE(8) !== 0) return 'no';
  if (have < HEADER_LEN) return buf.ended ? 'no' : 'maybe';
  return (type === 'request' ? REQUEST_OPCODES : RESPONSE_OPCODES).has(b.readInt32LE(12)) ? 'yes' : 'no';
}

/** ProtocolParser.findFrameBoundary: the next offset >= `from` where a plausible header starts. */
export function findMongoFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const limit = Math.min(buf.length, from + 64 * 1024);
  for (let i = from; i < limit; i++) {
    if (buf.byteAt(i) < 0) {
      const g = buf.gapEnd(i);
      if (g <= i) return -1;
      i = g - 1;
      continue;
    }
    const r = headerAt(buf, i, type);
    if (r !== 'no') return i;
  }
  return -1;
}
