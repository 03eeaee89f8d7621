/**
 * Redis detection from the first bytes of one direction, and resynchronisation.
 *
 * A command is a RESP array whose first element is a bulk string made of letters
 * (`*1\r\n$4\r\nPING\r\n`). Inline commands are parsed but not used for detection (plain text
 * lines are too common). A reply must be a well-formed first RESP line: `+OK`, `-ERR ...`,
 * `:12`, `$5`, `*2` followed by another element, RESP3 `%`, `~`, `>`, `_`, `#`, `,`.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';

function digitsThenCrlf(b: Buffer, i: number, allowMinus: boolean): number {
  let j = i;
  if (allowMinus && b[j] === 0x2d) j++;
  const d0 = j;
  while (j < b.length && j - d0 < 11 && b[j] >= 0x30 && b[j] <= 0x39) j++;
  if (j === d0 || j + 1 >= b.length || b[j] !== 0x0d || b[j + 1] !== 0x0a) return -1;
  return j + 2;
}

function isCommandChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d || c === 0x7c || (c >= 0x30 && c <= 0x39);
}

/** `*N\r\n$L\r\n<command>\r\n` with N in 1..1e6 and a plausible command name */
export function isRedisCommand(b: Buffer): boolean {
  if (b.length < 8 || b[0] !== 0x2a) return false;
  const a = digitsThenCrlf(b, 1, false);
  if (a < 0 || b[a] !== 0x24) return false;
  const n = Number(b.toString('latin1', 1, a - 2));
  if (!(n >= 1 && n <= 1_000_000)) return false;
  const c = digitsThenCrlf(b, a + 1, false);
  if (c < 0) return false;
  const len = Number(b.toString('latin1', a + 1, c - 2));
  if (!(len >= 1 && len <= 32)) return false;
  const avail = Math.min(len, b.length - c);
  if (avail < 1) return false;
  const first = b[c];
  if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) return false;
  for (let i = c; i < c + avail; i++) if (!isCommandChar(b[i])) return false;
  if (c + len + 2 <= b.length && (b[c + len] !== 0x0d || b[c + len + 1] !== 0x0a)) return false;
  return true;
}

function printableLine(b: Buffer, from: number, max: number): number {
  let i = from;
  for (; i < b.length && i - from <= max; i++) {
    const c = b[i];
    if (c === 0x0d) return i + 1 < b.length && b[i + 1] === 0x0a ? i + 2 : -1;
    if (c < 0x20 || c === 0x7f) return -1;
  }
  return -1;
}

/** a first reply line that could only be RESP */
export function isRedisReply(b: Buffer): boolean {
  if (b.length < 3) return false;
  switch (b[0]) {
    case 0x2b: // +
      return printableLine(b, 1, 256) >= 4;
    case 0x2d: {
      // -PREFIX message
      let i = 1;
      while (i < b.length && b[i] >= 0x41 && b[i] <= 0x5a) i++;
      if (i < 3 || (b[i] !== 0x20 && b[i] !== 0x0d)) return false;
      return printableLine(b, 1, 1024) > 0;
    }
    case 0x3a: // :
    case 0x24: // $
      return digitsThenCrlf(b, 1, true) > 0;
    case 0x2a: // *
    case 0x25: // %
    case 0x7e: // ~
    case 0x3e: {
      // >
      const e = digitsThenCrlf(b, 1, true);
      if (e < 0) return false;
      if (e >= b.length) return true;
      return '+-:$*%~>_,#!=(|'.includes(String.fromCharCode(b[e]));
    }
    case 0x5f: // _
      return b[1] === 0x0d && b[2] === 0x0a;
    case 0x23: // #t / #f
      return b.length >= 4 && (b[1] === 0x74 || b[1] === 0x66) && b[2] === 0x0d && b[3] === 0x0a;
    default:
      return false;
  }
}

export function detectRedis(head: Buffer, type: MessageType): boolean {
  return type === 'request' ? isRedisCommand(head) : isRedisReply(head);
}

const REPLY_TYPES = new Set([0x2b, 0x2d, 0x3a, 0x24, 0x2a, 0x25, 0x7e, 0x3e, 0x5f, 0x2c, 0x23, 0x21, 0x3d, 0x28, 0x7c]);

/** next offset >= from just after a line end where a command (`*`) or reply may start */
export function findRedisFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  let i = from < 1 ? 1 : from;
  const len = buf.length;
  while (i <= len) {
    const nl = buf.indexOf(0x0a, i - 1, len);
    if (nl < 0) return -1;
    const at = nl + 1;
    if (at >= len) return at > from ? at : -1;
    const c = buf.byteAt(at);
    if (at >= from && (type === 'request' ? c === 0x2a : REPLY_TYPES.has(c))) return at;
    i = at + 1;
  }
  return -1;
}
