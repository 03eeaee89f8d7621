/**
 * NATS detection from the first bytes of one direction, and resynchronisation.
 *
 * A server speaks first with `INFO {...}`; a client's first line is `CONNECT {...}`. On a
 * connection already open when capture started, a client's `PUB`/`HPUB`/`SUB` line or a
 * server's `MSG`/`HMSG` line with the right number of fields is accepted too. `+OK`, `PING`
 * and `PONG` are too common in other text protocols to claim a connection.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';

function startsWithCi(b: Buffer, word: string): boolean {
  if (b.length < word.length) return false;
  for (let i = 0; i < word.length; i++) if ((b[i] | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
  return true;
}

/** the first line's fields (separated by spaces/tabs), or undefined when no CRLF within 1 KiB */
function firstLineFields(b: Buffer): string[] | undefined {
  const end = b.indexOf('\r\n', 0, 'latin1');
  if (end < 0 || end > 1024) return undefined;
  const line = b.toString('latin1', 0, end);
  if (!/^[\x21-\x7e \t]*$/.test(line)) return undefined;
  return line.split(/[ \t]+/).filter((f) => f.length > 0);
}

const DIGITS = /^\d{1,10}$/;

export function isNatsClient(b: Buffer): boolean {
  if (startsWithCi(b, 'CONNECT {')) return true;
  const f = firstLineFields(b);
  if (f === undefined) return false;
  const op = f[0].toUpperCase();
  if (op === 'PUB') return (f.length === 3 || f.length === 4) && DIGITS.test(f[f.length - 1]);
  if (op === 'HPUB') return (f.length === 4 || f.length === 5) && DIGITS.test(f[f.length - 1]) && DIGITS.test(f[f.length - 2]);
  if (op === 'SUB') return f.length === 3 || f.length === 4;
  return false;
}

export function isNatsServer(b: Buffer): boolean {
  if (startsWithCi(b, 'INFO {')) return true;
  const f = firstLineFields(b);
  if (f === undefined) return false;
  const op = f[0].toUpperCase();
  if (op === 'MSG') return (f.length === 4 || f.length === 5) && DIGITS.test(f[f.length - 1]);
  if (op === 'HMSG') return (f.length === 5 || f.length === 6) && DIGITS.test(f[f.length - 1]) && DIGITS.test(f[f.length - 2]);
  return false;
}

export function detectNats(head: Buffer, type: MessageType): boolean {
  return type === 'request' ? isNatsClient(head) : isNatsServer(head);
}

const CLIENT_START = new Set(['C', 'P', 'H', 'S', 'U']);
const SERVER_START = new Set(['I', 'M', 'H', '+', '-', 'P']);

/** next offset >= from just after a CRLF where a control line may start */
export function findNatsFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const starts = type === 'request' ? CLIENT_START : SERVER_START;
  let i = from < 1 ? 1 : from;
  const len = buf.length;
  while (i <= len) {
    const nl = buf.indexOf(0x0a, i - 1, len);
    if (nl < 0) return -1;
    const at = nl + 1;
    if (at >= len) return at > from ? at : -1;
    const c = buf.byteAt(at);
    if (at >= from && c >= 0 && starts.has(String.fromCharCode(c).toUpperCase())) return at;
    i = at + 1;
  }
  return -1;
}
