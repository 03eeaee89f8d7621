/**
 * HTTP/1 method table, protocol detection and frame-boundary search (resynchronisation).
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';

/** request methods recognised (RFC 9110, PATCH, common WebDAV) */
export const HTTP_METHODS: readonly string[] = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
]);
export const CONNECT_INDEX = HTTP_METHODS.indexOf('CONNECT');

const METHOD_BYTES: readonly Buffer[] = HTTP_METHODS.map((m) => Buffer.from(m, 'latin1'));
/** byte length of each method in HTTP_METHODS */
export const METHOD_BYTES_LENGTH: readonly number[] = METHOD_BYTES.map((m) => m.length);
/** method indexes by first byte */
const BY_FIRST: readonly (readonly number[])[] = (() => {
  const t: number[][] = Array.from({ length: 256 }, () => []);
  METHOD_BYTES.forEach((m, k) => t[m[0]].push(k));
  return t;
})();

/** result of matchMethod when the bytes are a proper prefix of `METHOD SP` */
export const METHOD_PARTIAL = -2;
/** result of matchMethod when no method starts here */
export const METHOD_NONE = -1;

/**
 * Match `METHOD SP` at `b[i..end)`. Returns the method index when the method and the SP that
 * follows it are present, METHOD_PARTIAL when the bytes run out on a proper prefix,
 * METHOD_NONE otherwise. Requires `i < end`.
 */
export function matchMethod(b: Uint8Array, i: number, end: number): number {
  const cands = BY_FIRST[b[i]];
  if (cands.length === 0) return METHOD_NONE;
  let partial = false;
  for (let c = 0; c < cands.length; c++) {
    const k = cands[c];
    const m = METHOD_BYTES[k];
    const n = m.length;
    let j = 1;
    while (j < n && i + j < end && b[i + j] === m[j]) j++;
    if (j < n) {
      if (i + j >= end) partial = true;
      continue;
    }
    if (i + n >= end) {
      partial = true;
      continue;
    }
    if (b[i + n] === 0x20) return k;
  }
  return partial ? METHOD_PARTIAL : METHOD_NONE;
}

const HTTP1 = Buffer.from('HTTP/1.', 'latin1');

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a);
}

/**
 * Can a request target start at `b[i..end)`? `/`, `*`, `http` (absolute-form) or, for CONNECT,
 * an authority. Returns 1 yes, 0 no, -1 undecided (bytes run out).
 */
function targetStart(b: Uint8Array, i: number, end: number, method: number): number {
  if (i >= end) return -1;
  const c = b[i];
  if (c === 0x2f || c === 0x2a) return 1;
  if (method === CONNECT_INDEX && (isAlnum(c) || c === 0x5b)) return 1;
  if ((c | 0x20) !== 0x68) return 0;
  const rest = 'ttp';
  for (let j = 0; j < 3; j++) {
    if (i + 1 + j >= end) return -1;
    if ((b[i + 1 + j] | 0x20) !== rest.charCodeAt(j)) return 0;
  }
  return 1;
}

/**
 * Status-line prefix check at `b[i..end)`: `HTTP/1.` DIGIT SP DIGIT DIGIT DIGIT.
 * Returns 1 when all of it is present and valid, 0 when invalid, -1 when valid so far.
 */
function statusStart(b: Uint8Array, i: number, end: number): number {
  for (let j = 0; j < 12; j++) {
    if (i + j >= end) return -1;
    const c = b[i + j];
    if (j < 7) {
      if (c !== HTTP1[j]) return 0;
    } else if (j === 8) {
      if (c !== 0x20) return 0;
    } else if (!isDigit(c)) return 0;
  }
  return 1;
}

/**
 * Is `head` (the first bytes of one direction of a new connection) the start of an HTTP/1
 * message? Requests: a known method, SP, then `/`, `*`, `http` (or an authority for CONNECT).
 * Responses: `HTTP/1.` then, as far as `head` goes, DIGIT SP 3DIGIT.
 */
export function detectHttp1(head: Buffer, type: MessageType): boolean {
  const n = head.length;
  if (n === 0) return false;
  if (type === 'response') {
    if (n < 7) return false;
    return statusStart(head, 0, n) !== 0;
  }
  const k = matchMethod(head, 0, n);
  if (k < 0) return false;
  return targetStart(head, METHOD_BYTES[k].length + 1, n, k) === 1;
}

/** first offset in `win` where a request may start; partial prefixes count only at `atEnd` */
function findRequestStart(win: Buffer, atEnd: boolean): number {
  const n = win.length;
  for (let i = 0; i < n; i++) {
    if (BY_FIRST[win[i]].length === 0) continue;
    const k = matchMethod(win, i, n);
    if (k === METHOD_NONE) continue;
    if (k === METHOD_PARTIAL) {
      if (atEnd) return i;
      continue;
    }
    const t = targetStart(win, i + METHOD_BYTES[k].length + 1, n, k);
    if (t === 1 || (t === -1 && atEnd)) return i;
  }
  return -1;
}

/** first offset in `win` where a response may start; partial prefixes count only at `atEnd` */
function findResponseStart(win: Buffer, atEnd: boolean): number {
  const n = win.length;
  let from = 0;
  for (;;) {
    const r = win.indexOf(HTTP1, from);
    if (r < 0) break;
    const s = statusStart(win, r, n);
    if (s === 1 || (s === -1 && atEnd)) return r;
    from = r + 1;
  }
  if (!atEnd) return -1;
  // a proper prefix of `HTTP/1.` at the very end
  for (let q = n > 6 ? n - 6 : 0; q < n; q++) {
    if (statusStart(win, q, n) === -1) return q;
  }
  return -1;
}

/**
 * Offset >= `from` where an HTTP/1 message of `type` may start, or -1. Searches every
 * captured run; a proper prefix of a start at the very end of the buffer counts.
 */
export function findHttp1FrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const len = buf.length;
  let pos = from < 0 ? 0 : from;
  while (pos < len) {
    const runEnd = buf.capturedRunEnd(pos);
    if (runEnd <= pos) {
      const g = buf.gapEnd(pos);
      if (g <= pos) break;
      pos = g;
      continue;
    }
    const win = buf.slice(pos, runEnd);
    if (win === null) break;
    const atEnd = runEnd === len;
    const r = type === 'request' ? findRequestStart(win, atEnd) : findResponseStart(win, atEnd);
    if (r >= 0) return pos + r;
    pos = runEnd;
  }
  return -1;
}
