/**
 * Is this the start of one direction of an HTTP/2 connection?
 *
 * - request: the client connection preface (h2c prior knowledge, h2 over TLS), an HTTP/1.1
 *   request carrying `Upgrade: h2c`, or, on a connection that predates the agent, a run of
 *   plausible frames holding a HEADERS frame whose first field is a request pseudo-header;
 * - response: `HTTP/1.1 101` switching to h2c, the server preface (a SETTINGS frame first), or a
 *   run of frames holding a HEADERS frame whose first field is `:status`.
 * Frames must chain exactly over the captured head (each header plausible under RFC 9113's
 * rules), which keeps binary protocols detected after this one (MySQL, PostgreSQL) out.
 */
import type { MessageType } from '../common/contract.ts';
import { DEFAULT_MAX_FRAME, FLAG_PADDED, FLAG_PRIORITY, FRAME_HEADER, HEADERS, PREFACE, SETTINGS, frameChainAt } from './frame.ts';
import { readInt } from './hpack.ts';

const PREFACE_START = PREFACE.subarray(0, 14); // `PRI * HTTP/2.0`

export function detectHttp2(head: Buffer, type: MessageType): boolean {
  if (type === 'request') {
    if (head.length >= PREFACE_START.length && head.subarray(0, PREFACE_START.length).equals(PREFACE_START)) return true;
    if (isUpgradeRequest(head)) return true;
  } else if (head.length >= 12 && head.toString('latin1', 0, 12) === 'HTTP/1.1 101') {
    return /\r\nupgrade:[ \t]*h2c[ \t]*\r\n/i.test(head.toString('latin1', 0, Math.min(head.length, 4096)));
  }
  if (!frameChainAt((i) => (i < head.length ? head[i] : -1), 0, head.length, DEFAULT_MAX_FRAME, 1)) return false;
  if (type === 'response' && head[3] === SETTINGS) return true;
  // the first HEADERS frame: what does its first field say?
  for (let p = 0; p + FRAME_HEADER <= head.length; ) {
    const len = (head[p] << 16) | (head[p + 1] << 8) | head[p + 2];
    if (head[p + 3] === HEADERS) {
      const kind = firstFieldKind(head, p, len);
      return kind === type;
    }
    p += FRAME_HEADER + len;
  }
  return false;
}

function isUpgradeRequest(head: Buffer): boolean {
  const text = head.toString('latin1', 0, Math.min(head.length, 4096));
  if (!/^[A-Z]{3,10} \S+ HTTP\/1\.1\r\n/.test(text)) return false;
  const stop = text.indexOf('\r\n\r\n');
  return /\r\nupgrade:[ \t]*h2c[ \t]*(\r\n|$)/i.test(stop < 0 ? text : text.slice(0, stop));
}

/**
 * `request` when the block's first field with a static index is a request pseudo-header
 * (:authority, :method, :path, :scheme), `response` when it is :status. Dynamic references (a
 * connection already in use) and literal names are stepped over.
 */
function firstFieldKind(head: Buffer, p: number, len: number): MessageType | undefined {
  const flags = head[p + 4];
  let q = p + FRAME_HEADER;
  const end = Math.min(head.length, q + len);
  if (flags & FLAG_PADDED) q++;
  if (flags & FLAG_PRIORITY) q += 5;
  for (let fields = 0; q < end && fields < 32; fields++) {
    const b = head[q];
    if ((b & 0xe0) === 0x20) {
      const r = readInt(head, q, 5); // dynamic table size update
      if (r === undefined) return undefined;
      q = r.next;
      continue;
    }
    const indexed = (b & 0x80) !== 0;
    const r = readInt(head, q, indexed ? 7 : (b & 0xc0) === 0x40 ? 6 : 4);
    if (r === undefined) return undefined;
    q = r.next;
    if (r.value >= 1 && r.value <= 7) return 'request';
    if (r.value >= 8 && r.value <= 14) return 'response';
    if (indexed) continue;
    // a literal: skip its name (when literal) and value strings
    for (let k = r.value === 0 ? 2 : 1; k > 0; k--) {
      if (q >= end) return undefined;
      const sl = readInt(head, q, 7);
      if (sl === undefined) return undefined;
      q = sl.next + sl.value;
    }
  }
  return undefined;
}
