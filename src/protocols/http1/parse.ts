// Over 400 lines: one state machine (start line, headers, chunked and length bodies, gaps) whose states read best together.
/**
 * HTTP/1.x message parser: a resumable state machine over a StreamBuffer.
 *
 * Progress on the message at the head of a buffer is cached in the direction's cursor
 * (state.ts), keyed by the buffer's id and position, so feeding a message in many segments
 * costs O(bytes), not O(bytes x segments). Body bytes whose size is known are never read:
 * they are skipped by offset (they may be gaps) and released with `buf.forget()` while the
 * message is incomplete, so long bodies do not hit the captured-bytes cap.
 *
 * Gaps: when the start line, a header line, a chunk-size line or a trailer line runs into a
 * gap, the message ends at the end of that gap (the end of the segment holding it) and is
 * marked `truncated`, keeping the fields parsed so far. A head that is itself a gap is
 * `invalid`.
 *
 * Limits: start line < 8 KiB, header block (start line included) < 64 KiB, chunk-size line
 * < 4 KiB, trailer section < 64 KiB; beyond them the message is `invalid`.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { CONNECT_INDEX, HTTP_METHODS, METHOD_BYTES_LENGTH, METHOD_PARTIAL, matchMethod } from './detect.ts';
import type { HttpMessagePayload, HttpRequestFrame, HttpResponseFrame } from './types.ts';
import { keepHeader, keepRaw, messagePayload } from './payload.ts';
import type { Http1Cursor, Http1State } from './state.ts';
import {
  MAX_PENDING_METHODS,
  PH_BODY_LEN,
  PH_CHUNK_END,
  PH_CHUNK_SIZE,
  PH_HEADERS,
  PH_START,
  PH_TRAILERS,
  PH_UNTIL_CLOSE,
  resetCursor,
} from './state.ts';

export const MAX_START_LINE = 8 * 1024;
export const MAX_HEADER_BLOCK = 64 * 1024;
export const MAX_CHUNK_LINE = 4 * 1024;
export const MAX_TRAILERS = 64 * 1024;

type Frame = HttpRequestFrame | HttpResponseFrame;
type Result = ParseResult<Frame>;

const NEEDS_MORE: Result = Object.freeze({ state: 'needs-more-data' });
const INVALID: Result = Object.freeze({ state: 'invalid' });
const IGNORED: Result = Object.freeze({ state: 'ignored' });
const EOS: Result = Object.freeze({ state: 'eos' });

/** token characters (RFC 9110 5.6.2) */
const TOKEN = (() => {
  const t = new Uint8Array(256);
  const s = "!#$%&'*+-.^_`|~";
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (let i = 0; i < s.length; i++) t[s.charCodeAt(i)] = 1;
  return t;
})();

const HTTP1 = Buffer.from('HTTP/1.', 'latin1');
const N_HOST = Buffer.from('host');
const N_USER_AGENT = Buffer.from('user-agent');
const N_CONNECTION = Buffer.from('connection');
const N_TRACEPARENT = Buffer.from('traceparent');
const N_CONTENT_TYPE = Buffer.from('content-type');
const N_CONTENT_LENGTH = Buffer.from('content-length');
const N_TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CHUNKED = Buffer.from('chunked');

/** line parse outcomes */
const LINE_OK = 0;
const LINE_PARTIAL = 1;
const LINE_BAD = 2;

/** Parse one HTTP/1 message of `type` at the head of `buf` (ProtocolParser.parseFrame). */
export function parseHttp1Frame(type: MessageType, buf: StreamBuffer, state: Http1State): Result {
  if (state.eos) return EOS;
  if (buf.length === 0) return NEEDS_MORE;
  const isReq = type === 'request';
  const c = isReq ? state.request : state.response;
  if (c.bufId !== buf.id || c.pos !== buf.position) resetCursor(c, buf.id, buf.position);
  for (;;) {
    let r: Result | null;
    switch (c.phase) {
      case PH_START:
        r = startLine(isReq, buf, c, state);
        break;
      case PH_HEADERS:
        r = headers(isReq, buf, c, state);
        break;
      case PH_BODY_LEN:
        r = bodyLength(isReq, buf, c, state);
        break;
      case PH_CHUNK_SIZE:
        r = chunkSize(isReq, buf, c, state);
        break;
      case PH_CHUNK_END:
        r = chunkEnd(isReq, buf, c, state);
        break;
      case PH_TRAILERS:
        r = trailers(isReq, buf, c, state);
        break;
      default:
        r = untilClose(isReq, buf, c, state);
    }
    if (r !== null) {
      if (r === INVALID) c.bufId = 0; // the driver resynchronises: this message is gone
      return r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// phases: each returns a result, or null after moving to another phase

function startLine(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  const len = buf.length;
  const b0 = buf.byteAt(0);
  if (b0 === 0x0d || b0 === 0x0a) {
    // empty lines between messages are tolerated (RFC 9112 2.2)
    let n = 1;
    for (; n < len; n++) {
      const b = buf.byteAt(n);
      if (b !== 0x0d && b !== 0x0a) break;
    }
    buf.consume(n);
    c.bufId = 0;
    return IGNORED;
  }
  const runEnd = buf.capturedRunEnd(0);
  if (runEnd === 0) return INVALID; // the head is a gap
  const lim = runEnd < MAX_START_LINE ? runEnd : MAX_START_LINE;
  const win = buf.slice(0, lim) as Buffer;
  const nl = win.indexOf(0x0a);
  const complete = nl >= 0;
  const end = complete ? nl : lim;
  const st = isReq ? requestLine(win, end, complete, c) : statusLine(win, end, complete, c);
  if (st === LINE_BAD) return INVALID;
  if (st === LINE_OK) {
    c.startNs = buf.tsAt(0);
    c.scan = nl + 1;
    c.phase = PH_HEADERS;
    return null;
  }
  // partial start line
  if (lim === MAX_START_LINE) return INVALID;
  const known = isReq ? c.method !== '' : c.status !== 0;
  if (runEnd < len) {
    // cut by a gap: the message ends with that gap
    if (!known) return INVALID;
    c.startNs = buf.tsAt(0);
    if (isReq) c.target = win.toString('utf8', c.bodyStart, c.bodyEnd);
    c.bodyStart = 0;
    c.bodyEnd = 0;
    return finish(isReq, buf, c, state, buf.gapEnd(runEnd), true);
  }
  if (buf.ended && !isReq && known) {
    c.startNs = buf.tsAt(0);
    return finish(isReq, buf, c, state, len, true);
  }
  return NEEDS_MORE;
}

function headers(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  const len = buf.length;
  const scan = c.scan;
  if (scan >= MAX_HEADER_BLOCK) return INVALID;
  if (scan >= len) return waitOrEnd(isReq, buf, c, state);
  const runEnd = buf.capturedRunEnd(scan);
  if (runEnd === scan) return finish(isReq, buf, c, state, buf.gapEnd(scan), true);
  const lim = runEnd < MAX_HEADER_BLOCK ? runEnd : MAX_HEADER_BLOCK;
  const win = buf.slice(scan, lim) as Buffer;
  const n = win.length;
  let p = 0;
  for (;;) {
    // one pass per line: the name's token bytes, then on to LF
    let q = p;
    while (q < n && TOKEN[win[q]] === 1) q++;
    const colon = q;
    while (q < n && win[q] !== 0x0a) q++;
    if (q >= n) break;
    let e = q;
    if (e > p && win[e - 1] === 0x0d) e--;
    if (e === p) {
      c.scan = scan + q + 1;
      return beginBody(isReq, buf, c, state);
    }
    if (!headerLine(win, p, colon, e, c)) return INVALID;
    p = q + 1;
  }
  c.scan = scan + p;
  if (lim === MAX_HEADER_BLOCK) return INVALID;
  if (runEnd < len) return finish(isReq, buf, c, state, buf.gapEnd(runEnd), true);
  return waitOrEnd(isReq, buf, c, state);
}

/** headers complete at c.scan: decide how the body is delimited */
function beginBody(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  c.bodyStart = c.scan;
  c.released = c.scan;
  if (isReq) {
    if (c.te) {
      if (!c.chunked) return INVALID; // length cannot be determined (RFC 9112 6.3)
      c.phase = PH_CHUNK_SIZE;
      return null;
    }
    if (c.contentLength > 0) {
      c.bodySize = c.contentLength;
      c.bodyEnd = c.scan + c.contentLength;
      c.phase = PH_BODY_LEN;
      return null;
    }
    return finish(true, buf, c, state, c.scan, false);
  }
  const st = c.status;
  if (st < 200 && st !== 101) return interim(buf, c, c.scan);
  const m = state.methods.length > 0 ? state.methods[0] : '';
  if (st === 101 || st === 204 || st === 304 || m === 'HEAD') {
    c.contentLength = -1;
    return finish(false, buf, c, state, c.scan, false);
  }
  if (m === 'CONNECT' && st < 300) {
    c.tunnel = true;
    return finish(false, buf, c, state, c.scan, false);
  }
  if (c.te) {
    c.phase = c.chunked ? PH_CHUNK_SIZE : PH_UNTIL_CLOSE;
    return null;
  }
  if (c.contentLength >= 0) {
    if (c.contentLength === 0) return finish(false, buf, c, state, c.scan, false);
    c.bodySize = c.contentLength;
    c.bodyEnd = c.scan + c.contentLength;
    c.phase = PH_BODY_LEN;
    return null;
  }
  c.phase = PH_UNTIL_CLOSE;
  return null;
}

function bodyLength(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result {
  const len = buf.length;
  if (len >= c.bodyEnd) return finish(isReq, buf, c, state, c.bodyEnd, false);
  if (buf.ended && !isReq) return finish(false, buf, c, state, len, true);
  release(buf, c, len);
  return NEEDS_MORE;
}

function chunkSize(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  const len = buf.length;
  const scan = c.scan;
  if (scan >= len) return waitOrEnd(isReq, buf, c, state);
  const runEnd = buf.capturedRunEnd(scan);
  if (runEnd === scan) return finish(isReq, buf, c, state, buf.gapEnd(scan), true);
  const lim = runEnd - scan < MAX_CHUNK_LINE ? runEnd : scan + MAX_CHUNK_LINE;
  const win = buf.slice(scan, lim) as Buffer;
  const nl = win.indexOf(0x0a);
  if (nl < 0) {
    if (lim - scan === MAX_CHUNK_LINE) return INVALID;
    if (chunkLine(win, win.length, false) === -1) return INVALID;
    if (runEnd < len) return finish(isReq, buf, c, state, buf.gapEnd(runEnd), true);
    return waitOrEnd(isReq, buf, c, state);
  }
  const size = chunkLine(win, nl, true);
  if (size < 0) return INVALID;
  if (size === 0) {
    c.scan = scan + nl + 1;
    c.trailerStart = c.scan;
    c.phase = PH_TRAILERS;
    return null;
  }
  c.bodySize += size;
  c.scan = scan + nl + 1 + size;
  c.phase = PH_CHUNK_END;
  return null;
}

function chunkEnd(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  const len = buf.length;
  const scan = c.scan;
  if (scan >= len) return waitOrEnd(isReq, buf, c, state);
  const b = buf.byteAt(scan);
  if (b === 0x0a) {
    c.scan = scan + 1;
  } else if (b === 0x0d || b === -1) {
    // CRLF after the chunk data; inside a gap it is taken on trust (sizes are known)
    if (scan + 1 >= len) return waitOrEnd(isReq, buf, c, state);
    const b2 = buf.byteAt(scan + 1);
    if (b === 0x0d && b2 !== 0x0a && b2 !== -1) return INVALID;
    c.scan = scan + 2;
  } else {
    return INVALID;
  }
  c.phase = PH_CHUNK_SIZE;
  return null;
}

function trailers(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result | null {
  const len = buf.length;
  const scan = c.scan;
  const max = c.trailerStart + MAX_TRAILERS;
  if (scan >= max) return INVALID;
  if (scan >= len) return waitOrEnd(isReq, buf, c, state);
  const runEnd = buf.capturedRunEnd(scan);
  if (runEnd === scan) return finish(isReq, buf, c, state, buf.gapEnd(scan), true);
  const lim = runEnd < max ? runEnd : max;
  const win = buf.slice(scan, lim) as Buffer;
  let p = 0;
  for (;;) {
    const nl = win.indexOf(0x0a, p);
    if (nl < 0) break;
    let e = nl;
    if (e > p && win[e - 1] === 0x0d) e--;
    if (e === p) return finish(isReq, buf, c, state, scan + nl + 1, false);
    p = nl + 1;
  }
  c.scan = scan + p;
  if (lim === max) return INVALID;
  if (runEnd < len) return finish(isReq, buf, c, state, buf.gapEnd(runEnd), true);
  return waitOrEnd(isReq, buf, c, state);
}

function untilClose(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result {
  const len = buf.length;
  if (buf.ended) {
    c.bodySize = len - c.bodyStart;
    return finish(isReq, buf, c, state, len, false);
  }
  release(buf, c, len);
  return NEEDS_MORE;
}

// ---------------------------------------------------------------------------------------------
// helpers

/** out of bytes mid-message: wait, or (response, connection closed) end it truncated */
function waitOrEnd(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State): Result {
  if (buf.ended && !isReq) return finish(false, buf, c, state, buf.length, true);
  if (c.phase >= PH_BODY_LEN) release(buf, c, c.scan < buf.length ? c.scan : buf.length);
  return NEEDS_MORE;
}

/**
 * Release the captured bytes before `upto` that will never be read again: the head (start line
 * and headers, parsed into the cursor) the first time, so a message waiting for its body does
 * not keep them (the buffer would copy them at every compaction), then the body bytes.
 */
function release(buf: StreamBuffer, c: Http1Cursor, upto: number): void {
  if (!c.headReleased) {
    c.headReleased = true;
    buf.forget(0, c.bodyStart);
  }
  if (upto > c.released) {
    if (c.raw !== undefined) keepRaw(buf, c, c.released, upto);
    buf.forget(c.released, upto);
    c.released = upto;
  }
}

/** a 1xx other than 101: consumed and ignored */
function interim(buf: StreamBuffer, c: Http1Cursor, end: number): Result {
  buf.consume(end);
  c.bufId = 0;
  return IGNORED;
}

/** the message ends at `end`: build the frame, consume it, update the connection state */
function finish(isReq: boolean, buf: StreamBuffer, c: Http1Cursor, state: Http1State, end: number, truncated: boolean): Result {
  let frame: Frame;
  if (!isReq && c.status < 200 && c.status !== 101) return interim(buf, c, end);
  const endNs = buf.tsAt(end - 1);
  let bodySize = c.bodySize;
  if (truncated && c.phase < PH_BODY_LEN) bodySize = c.contentLength > 0 ? c.contentLength : 0;
  let payload: HttpMessagePayload | undefined;
  if (c.capture > 0) {
    if (c.phase >= PH_BODY_LEN) keepRaw(buf, c, c.released, end);
    payload = messagePayload(c, bodySize, truncated);
  }
  if (isReq) {
    frame = {
      kind: 'request',
      method: c.method,
      target: c.target,
      version: c.version,
      host: c.host,
      traceparent: c.traceparent,
      contentType: c.contentType,
      userAgent: c.userAgent,
      connection: c.connection,
      bodySize,
      truncated,
      startNs: c.startNs,
      endNs,
    };
    if (payload !== undefined) frame = { ...frame, payload };
    const q = state.methods;
    if (q.length >= MAX_PENDING_METHODS) q.shift();
    q.push(c.method);
  } else {
    frame = {
      kind: 'response',
      status: c.status,
      version: c.version,
      contentType: c.contentType,
      connection: c.connection,
      bodySize,
      truncated,
      startNs: c.startNs,
      endNs,
    };
    if (payload !== undefined) frame = { ...frame, payload };
    if (state.methods.length > 0) state.methods.shift();
    if (c.status === 101 || c.tunnel) state.eos = true;
  }
  buf.consume(end);
  c.bufId = 0;
  return { state: 'success', frame };
}

/**
 * `METHOD SP target SP HTTP/1.d [CR]` in `win[0..end)`. On LINE_OK fills method, target,
 * version. On LINE_PARTIAL sets `method` once it is known and leaves the target bounds in
 * bodyStart/bodyEnd (scratch) for a gap-truncated frame.
 */
function requestLine(win: Buffer, end: number, complete: boolean, c: Http1Cursor): number {
  c.method = '';
  const k = matchMethod(win, 0, end);
  if (k < 0) return k === METHOD_PARTIAL && !complete ? LINE_PARTIAL : LINE_BAD;
  const method = HTTP_METHODS[k];
  const t0 = METHOD_BYTES_LENGTH[k] + 1;
  if (t0 < end && k !== CONNECT_INDEX && win[t0] !== 0x2f && win[t0] !== 0x2a && (win[t0] | 0x20) !== 0x68) return LINE_BAD;
  let p = t0;
  while (p < end && win[p] > 0x20 && win[p] !== 0x7f) p++;
  if (p === end) {
    if (complete) return LINE_BAD; // no version (HTTP/0.9) or a control byte before LF
    c.method = method;
    c.bodyStart = t0;
    c.bodyEnd = p;
    return LINE_PARTIAL;
  }
  if (win[p] !== 0x20 || p === t0) return LINE_BAD;
  const t1 = p;
  p++;
  const v = version(win, p, end, complete);
  if (v === LINE_BAD) return LINE_BAD;
  c.method = method;
  c.bodyStart = t0;
  c.bodyEnd = t1;
  if (v === LINE_PARTIAL) return LINE_PARTIAL;
  c.target = win.toString('utf8', t0, t1);
  c.version = versionString(win[p + 7]);
  c.bodyStart = 0;
  c.bodyEnd = 0;
  return LINE_OK;
}

/** `HTTP/1.x SP DDD [SP reason] [CR]` in `win[0..end)`; sets status/version once known */
function statusLine(win: Buffer, end: number, complete: boolean, c: Http1Cursor): number {
  c.status = 0;
  for (let j = 0; j < 12; j++) {
    if (j >= end) return complete ? LINE_BAD : LINE_PARTIAL;
    const b = win[j];
    if (j < 7) {
      if (b !== HTTP1[j]) return LINE_BAD;
    } else if (j === 8) {
      if (b !== 0x20) return LINE_BAD;
    } else if (b < 0x30 || b > 0x39) return LINE_BAD;
  }
  const status = (win[9] - 0x30) * 100 + (win[10] - 0x30) * 10 + (win[11] - 0x30);
  if (status < 100) return LINE_BAD;
  if (end > 12) {
    const b = win[12];
    if (b !== 0x20 && !(b === 0x0d && end === 13)) return LINE_BAD;
  }
  c.status = status;
  c.version = versionString(win[7]);
  return complete ? LINE_OK : LINE_PARTIAL;
}

/** `HTTP/1.d [CR]` at `win[p..end)` */
function version(win: Buffer, p: number, end: number, complete: boolean): number {
  for (let j = 0; j < 8; j++) {
    if (p + j >= end) return complete ? LINE_BAD : LINE_PARTIAL;
    const b = win[p + j];
    if (j < 7 ? b !== HTTP1[j] : b < 0x30 || b > 0x39) return LINE_BAD;
  }
  const q = p + 8;
  if (q === end) return complete ? LINE_OK : LINE_PARTIAL;
  if (q + 1 === end && win[q] === 0x0d) return complete ? LINE_OK : LINE_PARTIAL;
  return LINE_BAD;
}

function versionString(d: number): string {
  return d === 0x31 ? '1.1' : d === 0x30 ? '1.0' : `1.${String.fromCharCode(d)}`;
}

/** `buf.toString('latin1', s, e)` without its argument checks (hot path) */
const latin1: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (b, s, e) => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e)
    : (b, s, e) => b.toString('latin1', s, e);

/** compare a header name (token bytes) with a lower-case name */
function eqName(win: Buffer, p: number, name: Buffer): boolean {
  for (let j = 0; j < name.length; j++) {
    if ((win[p + j] | 0x20) !== name[j]) return false;
  }
  return true;
}

/**
 * One header line `win[p..e)` (no CR/LF); `q` is the end of the token bytes at its start.
 * Returns false when malformed.
 */
function headerLine(win: Buffer, p: number, q: number, e: number, c: Http1Cursor): boolean {
  const b0 = win[p];
  if (b0 === 0x20 || b0 === 0x09) return true; // obs-fold continuation: ignored
  if (q === p || q >= e || win[q] !== 0x3a) return false;
  let vs = q + 1;
  while (vs < e && (win[vs] === 0x20 || win[vs] === 0x09)) vs++;
  let ve = e;
  while (ve > vs && (win[ve - 1] === 0x20 || win[ve - 1] === 0x09)) ve--;
  switch (q - p) {
    case 4:
      if (eqName(win, p, N_HOST)) c.host = latin1(win, vs, ve);
      break;
    case 10:
      if (eqName(win, p, N_USER_AGENT)) c.userAgent = latin1(win, vs, ve);
      else if (eqName(win, p, N_CONNECTION)) c.connection = latin1(win, vs, ve);
      break;
    case 11:
      if (eqName(win, p, N_TRACEPARENT)) c.traceparent = latin1(win, vs, ve);
      break;
    case 12:
      if (eqName(win, p, N_CONTENT_TYPE)) c.contentType = latin1(win, vs, ve);
      break;
    case 14:
      if (eqName(win, p, N_CONTENT_LENGTH)) {
        const n = contentLength(win, vs, ve);
        if (n < 0 || (c.contentLength >= 0 && c.contentLength !== n)) return false;
        c.contentLength = n;
      }
      break;
    case 17:
      if (eqName(win, p, N_TRANSFER_ENCODING)) {
        c.te = true;
        c.chunked = lastCodingIsChunked(win, vs, ve);
      }
      break;
  }
  if (c.headers !== undefined) keepHeader(c, win, p, q, vs, ve);
  return true;
}

/** `1*DIGIT` or a list of identical values (`5, 5`); -1 when invalid */
function contentLength(win: Buffer, i: number, e: number): number {
  let value = -1;
  for (;;) {
    let n = 0;
    const d0 = i;
    while (i < e && win[i] >= 0x30 && win[i] <= 0x39) {
      n = n * 10 + (win[i] - 0x30);
      i++;
    }
    if (i === d0 || n > Number.MAX_SAFE_INTEGER) return -1;
    if (value >= 0 && n !== value) return -1;
    value = n;
    while (i < e && (win[i] === 0x20 || win[i] === 0x09)) i++;
    if (i === e) return value;
    if (win[i] !== 0x2c) return -1;
    i++;
    while (i < e && (win[i] === 0x20 || win[i] === 0x09)) i++;
  }
}

/** is the last transfer coding in `win[vs..ve)` `chunked` (case-insensitive)? */
function lastCodingIsChunked(win: Buffer, vs: number, ve: number): boolean {
  let s = vs;
  for (let i = ve - 1; i >= vs; i--) {
    if (win[i] === 0x2c) {
      s = i + 1;
      break;
    }
  }
  while (s < ve && (win[s] === 0x20 || win[s] === 0x09)) s++;
  let e = s;
  while (e < ve && win[e] !== 0x3b && win[e] !== 0x20 && win[e] !== 0x09) e++;
  return e - s === 7 && eqName(win, s, CHUNKED);
}

/**
 * chunk-size line `1*HEXDIG [BWS] [; ext...] [CR]` in `win[0..end)`.
 * complete: the size, or -1 when malformed. Partial: 0 when valid so far, -1 when malformed.
 */
function chunkLine(win: Buffer, end: number, complete: boolean): number {
  let n = 0;
  let i = 0;
  for (; i < end; i++) {
    const b = win[i];
    let d: number;
    if (b >= 0x30 && b <= 0x39) d = b - 0x30;
    else if ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) d = (b | 0x20) - 0x61 + 10;
    else break;
    n = n * 16 + d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  if (i === 0) return complete || end > 0 ? -1 : 0;
  while (i < end && (win[i] === 0x20 || win[i] === 0x09)) i++;
  if (i < end && win[i] !== 0x3b) {
    if (!(win[i] === 0x0d && i + 1 === end)) return -1;
  }
  // chunk extensions are not interpreted; a lone CR before LF is tolerated
  return complete ? n : 0;
}
