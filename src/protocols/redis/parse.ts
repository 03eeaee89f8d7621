/**
 * RESP2 / RESP3 framing over a StreamBuffer.
 *
 * Requests are RESP arrays of bulk strings (`*3\r\n$3\r\nSET\r\n...`) or inline command lines;
 * replies are any RESP value, aggregates nested. The scanner is resumable: when a value is
 * incomplete it keeps its progress in the connection state (keyed by the buffer's id and
 * position), so a long reply arriving in many segments is scanned once, and it releases the
 * captured bytes of long bulk strings it has walked past.
 *
 * Captured prefixes: a bulk string's body may lie in a gap (its length is known); a header in a
 * gap cannot be read. A command cut that way ends at the gap (the client wrote it in one call).
 * A reply cut that way puts the reply direction out of step: its bytes are then discarded
 * until the client sends its next command, and stitching closes the commands that were waiting
 * (see stitch.ts).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import type { RedisDbCache } from './dbcache.ts';
import type { RedisCommandFrame, RedisFrame, RedisReplyFrame } from './types.ts';

/** longest header / simple line read (type byte to CRLF) */
export const MAX_LINE = 64 * 1024;
/** bytes kept of the command name and first arguments */
export const MAX_ARG = 128;
/** nesting limit of aggregates */
export const MAX_DEPTH = 32;
/** largest aggregate count or bulk length accepted */
const MAX_COUNT = 1 << 30;

const NEED = -1;
const BAD = -2;
const GAP = -3;

const CRLF = Buffer.from('\r\n');

/** Progress of one value being scanned (resumable). */
interface Scan {
  bufId: number;
  pos: number;
  /** offset of the next element header */
  p: number;
  /** remaining elements per open aggregate; negative = attribute (does not fill a parent slot) */
  stack: number[];
  /** index of the next element at depth 1 */
  idx: number;
  type: number;
  count: number;
  first?: string;
  second?: string;
  third?: number;
  /** element 2 (a command's second argument) */
  el2?: string;
  error?: string;
}

export interface RedisState {
  /** DB index selected with `SELECT n` (known once its reply said OK), kept only with a DB cache */
  db?: string;
  /** `ebpf.redis_db_cache` when enabled (shared by the connections of one parser); undefined: no namespaces */
  readonly dbCache?: RedisDbCache;
  /** in (RESP2) subscribed mode: arrays starting with `message` are pushes */
  subscribed: boolean;
  /** confirmations still expected for the last (P|S)SUBSCRIBE / UNSUBSCRIBE */
  extraConfirmations: number;
  /** replies out of step: discard them until the next command */
  desync: boolean;
  /** monotonic ns when the reply direction went out of step */
  desyncNs: number;
  /** monotonic ns of the last reply bytes seen */
  lastReplyNs: number;
  reqScan?: Scan;
  respScan?: Scan;
}

/** Parser state of one connection; with `dbCache`, `SELECT n` sets `db.namespace` of later commands. */
export function newRedisState(dbCache?: RedisDbCache): RedisState {
  return { dbCache, subscribed: false, extraConfirmations: 0, desync: false, desyncNs: 0, lastReplyNs: 0 };
}

/** offset of the CR of the line starting at `off`, or NEED / BAD / GAP */
function lineEnd(buf: StreamBuffer, off: number, max: number): number {
  if (off >= buf.length) return NEED;
  const run = buf.capturedRunEnd(off);
  if (run === off) return GAP;
  const lim = Math.min(run, off + max + 2);
  const cr = buf.indexOf(CRLF, off, lim);
  if (cr >= 0) return cr;
  if (lim === off + max + 2) return BAD;
  return run < buf.length ? GAP : NEED;
}

/** signed decimal integer in `[from, to)`, or NaN */
function readInt(buf: StreamBuffer, from: number, to: number): number {
  if (from >= to || to - from > 12) return NaN;
  let i = from;
  let neg = false;
  if (buf.byteAt(i) === 0x2d) {
    neg = true;
    i++;
    if (i >= to) return NaN;
  }
  let n = 0;
  for (; i < to; i++) {
    const c = buf.byteAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
    n = n * 10 + (c - 0x30);
  }
  return neg ? -n : n;
}

function readText(buf: StreamBuffer, from: number, to: number): string | undefined {
  const end = Math.min(to, from + MAX_ARG, buf.capturedRunEnd(from));
  if (end <= from) return from === to ? '' : undefined;
  const b = buf.slice(from, end);
  return b === null ? undefined : b.toString('utf8');
}

function startScan(buf: StreamBuffer): Scan {
  return { bufId: buf.id, pos: buf.position, p: 0, stack: [], idx: 0, type: 0, count: 0 };
}

/**
 * Scan one value from `s.p`. Returns its end offset, or NEED / BAD / GAP with `s` holding the
 * progress made (the offset of the element that could not be read).
 * `request`: a command (only arrays of bulk strings, elements 0-2 kept).
 */
function scanValue(buf: StreamBuffer, s: Scan, request: boolean): number {
  const stack = s.stack;
  for (;;) {
    const p = s.p;
    const t = buf.byteAt(p);
    if (t < 0) return p >= buf.length ? NEED : GAP;
    const depth = stack.length;
    if (request && (depth === 0 ? t !== 0x2a : t !== 0x24)) return BAD;
    const le = lineEnd(buf, p + 1, MAX_LINE);
    if (le < 0) return le;
    let next = le + 2;
    let open = 0; // elements of an aggregate opened here
    let attr = false;
    switch (t) {
      case 0x24: // $ bulk string
      case 0x21: // ! blob error
      case 0x3d: {
        // = verbatim string
        const n = readInt(buf, p + 1, le);
        if (!(n >= -1 && n <= MAX_COUNT)) return BAD;
        if (n >= 0) {
          const body = le + 2;
          next = body + n + 2;
          if (depth === 0 && t === 0x21) s.error = readText(buf, body, body + n);
          if (depth === 1) {
            if (s.idx === 0) s.first = readText(buf, body, body + n);
            else if (s.idx === 1) s.second = readText(buf, body, body + n);
            else if (s.idx === 2 && request) s.el2 = readText(buf, body, body + n);
          }
          if (next > buf.length) {
            // release the body's captured bytes already walked past (kept: the first MAX_ARG)
            if (n > 4 * MAX_ARG && buf.length > body + MAX_ARG) buf.forget(body + MAX_ARG, buf.length);
            return NEED;
          }
          const cr = buf.byteAt(next - 2);
          if ((cr >= 0 && cr !== 0x0d) || (buf.byteAt(next - 1) >= 0 && buf.byteAt(next - 1) !== 0x0a)) return BAD;
        }
        break;
      }
      case 0x2a: // * array
      case 0x7e: // ~ set
      case 0x3e: // > push
      case 0x25: // % map
      case 0x7c: {
        // | attribute
        const n = readInt(buf, p + 1, le);
        if (!(n >= -1 && n <= MAX_COUNT)) return BAD;
        if (depth === 0 && t !== 0x7c) {
          s.type = t;
          s.count = n;
        }
        if (n > 0) open = t === 0x25 || t === 0x7c ? 2 * n : n;
        attr = t === 0x7c;
        if (request && depth === 0 && n <= 0) return BAD;
        break;
      }
      case 0x2d: // - error
        if (depth === 0) s.error = readText(buf, p + 1, le);
        break;
      case 0x3a: // : integer
        if (depth === 1 && s.idx === 2) {
          const v = readInt(buf, p + 1, le);
          if (!Number.isNaN(v)) s.third = v;
        }
        if (!(le - p - 1 > 0)) return BAD;
        break;
      case 0x2b: // + simple string
        if (depth === 1 && s.idx === 0) s.first = readText(buf, p + 1, le);
        break;
      case 0x5f: // _ null
      case 0x2c: // , double
      case 0x23: // # boolean
      case 0x28: // ( big number
        break;
      default:
        return BAD;
    }
    if (depth === 0 && open === 0 && !attr) s.type = t;
    s.p = next;
    if (open > 0) {
      if (stack.length >= MAX_DEPTH) return BAD;
      stack.push(attr ? -open : open);
      continue;
    }
    if (attr) continue; // an empty attribute still precedes a value
    // one element done: close the aggregates it completes
    if (depth === 1) s.idx++;
    for (;;) {
      if (stack.length === 0) return next;
      const top = stack.length - 1;
      const wasAttr = stack[top] < 0;
      const left = wasAttr ? -stack[top] - 1 : stack[top] - 1;
      if (left > 0) {
        stack[top] = wasAttr ? -left : left;
        break;
      }
      stack.pop();
      if (wasAttr) break; // the attributed value still follows in the same slot
      if (stack.length === 1) s.idx++;
    }
  }
}

/** inline command (`PING\r\n`, `GET k\n`): end offset after the line, or NEED / BAD / GAP */
function inlineLine(buf: StreamBuffer): number {
  const run = buf.capturedRunEnd(0);
  const lim = Math.min(run, 64 * 1024);
  const nl = buf.indexOf(0x0a, 0, lim);
  if (nl >= 0) return nl + 1;
  if (lim === 64 * 1024) return BAD;
  return run < buf.length ? GAP : NEED;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function commandFrame(buf: StreamBuffer, end: number, command: string | undefined, firstArg: string | undefined, secondArg: string | undefined, argc: number, truncated: boolean): RedisCommandFrame {
  return {
    kind: 'command',
    command: command === undefined ? undefined : command.toUpperCase(),
    firstArg,
    secondArg,
    argc,
    truncated,
    startNs: buf.tsAt(0),
    endNs: buf.tsAt(end - 1),
  };
}

function parseCommand(buf: StreamBuffer, state: RedisState): ParseResult<RedisFrame> {
  const c0 = buf.byteAt(0);
  if (c0 < 0) {
    // a segment with no captured bytes at a command start: nothing to read, skip it
    buf.consume(buf.gapEnd(0));
    return { state: 'ignored' };
  }
  if (c0 === 0x0d || c0 === 0x0a) {
    buf.consume(1); // stray line ends between inline commands
    return { state: 'ignored' };
  }
  if (c0 !== 0x2a) {
    if (!isLetter(c0)) return { state: 'invalid' };
    const end = inlineLine(buf);
    if (end === NEED) return { state: 'needs-more-data' };
    if (end === BAD) return { state: 'invalid' };
    const run = buf.capturedRunEnd(0);
    const lineStop = end === GAP ? run : end;
    const text = buf.slice(0, Math.min(lineStop, 4096));
    const words = text === null ? [] : text.toString('utf8').trim().split(/\s+/);
    const stop = end === GAP ? buf.gapEnd(run) : end;
    const f = commandFrame(buf, stop, words[0], words[1], words[2], words.length, end === GAP);
    buf.consume(stop);
    return { state: 'success', frame: f };
  }
  let s = state.reqScan;
  if (s === undefined || s.bufId !== buf.id || s.pos !== buf.position) s = startScan(buf);
  const r = scanValue(buf, s, true);
  if (r === NEED) {
    state.reqScan = s;
    return { state: 'needs-more-data' };
  }
  state.reqScan = undefined;
  if (r === BAD) return { state: 'invalid' };
  if (r === GAP) {
    // the rest of the command lies in a gap: it ends with the gap (written in one call)
    const stop = buf.gapEnd(buf.capturedRunEnd(s.p));
    const f = commandFrame(buf, stop, s.first, s.second, s.el2, s.count, true);
    buf.consume(stop > 0 ? stop : buf.length);
    return { state: 'success', frame: f };
  }
  const f = commandFrame(buf, r, s.first, s.second, s.el2, s.count, false);
  buf.consume(r);
  return { state: 'success', frame: f };
}

function parseReply(buf: StreamBuffer, state: RedisState): ParseResult<RedisFrame> {
  if (state.desync) {
    state.lastReplyNs = buf.tsAt(buf.length - 1);
    buf.consume(buf.length);
    return { state: 'ignored' };
  }
  let s = state.respScan;
  if (s === undefined || s.bufId !== buf.id || s.pos !== buf.position) s = startScan(buf);
  const r = scanValue(buf, s, false);
  if (r === NEED) {
    state.respScan = s;
    return { state: 'needs-more-data' };
  }
  state.respScan = undefined;
  if (r === BAD) return { state: 'invalid' };
  if (r === GAP) {
    state.desync = true;
    state.desyncNs = buf.tsAt(0);
    state.lastReplyNs = buf.tsAt(buf.length - 1);
    buf.consume(buf.length);
    return { state: 'ignored' };
  }
  const f: RedisReplyFrame = {
    kind: 'reply',
    type: s.type,
    error: s.error,
    count: s.count,
    first: s.first === undefined ? undefined : s.first.toLowerCase(),
    third: s.third,
    startNs: buf.tsAt(0),
    endNs: buf.tsAt(r - 1),
  };
  state.lastReplyNs = f.endNs;
  buf.consume(r);
  return { state: 'success', frame: f };
}

/** ProtocolParser.parseFrame for Redis. */
export function parseRedisFrame(type: MessageType, buf: StreamBuffer, state: RedisState): ParseResult<RedisFrame> {
  return type === 'request' ? parseCommand(buf, state) : parseReply(buf, state);
}
