/**
 * FastCGI record parsing. One call consumes one record (8-byte header, content, padding) of one
 * direction; the messages are assembled in the per-connection state:
 * - request: BEGIN_REQUEST, PARAMS records (name-value pairs with 1- or 4-byte lengths, a pair
 *   may be split across records: the content is joined first, at most MAX_PARAMS_BYTES kept),
 *   the empty PARAMS record ends the request frame (`success`); STDIN records that follow are
 *   counted as its body while it waits for its response (PHP-FPM reads a GET's empty STDIN only
 *   after answering);
 * - response: STDOUT (the CGI header block is read from its first bytes, at most MAX_HEAD_BYTES),
 *   STDERR, and END_REQUEST ends the response frame (`success`).
 * Other records are `ignored`. Bytes past the capture prefix: a body or PARAMS content in a gap
 * is skipped by its known length; a record header in a gap ends the message in progress
 * (truncated) at the end of that gap (nginx writes a whole request in one writev, PHP-FPM a
 * whole short response in one write).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { typeOfDirection } from './detect.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_HEADER_LEN,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  type FcgiFrame,
  type FcgiParams,
  type FcgiRequestFrame,
  type FcgiResponseFrame,
} from './types.ts';

/** PARAMS content kept per request (the variables obi-ts reads come first in nginx's and Apache's lists) */
export const MAX_PARAMS_BYTES = 16 * 1024;
/** STDOUT bytes kept to find the CGI header block */
export const MAX_HEAD_BYTES = 4096;
/** longest value kept of one variable */
const MAX_VALUE = 2048;

interface ReqProgress {
  startNs: number;
  requestId: number;
  role: number;
  chunks: Buffer[];
  kept: number;
  truncated: boolean;
}

interface RespProgress {
  startNs: number;
  requestId: number;
  head: Buffer[];
  headLen: number;
  /** the header block was found (headerLen set) or can no longer be (gap, limit) */
  headDone: boolean;
  headerLen: number;
  status: number;
  stdout: number;
  stderr: number;
  truncated: boolean;
}

export interface FcgiState {
  req?: ReqProgress;
  /** the last request frame emitted: its STDIN is counted while it waits for its response */
  lastReq?: FcgiRequestFrame;
  /**
   * when request-direction records of no waiting request (the previous request's empty STDIN,
   * which PHP-FPM reads only after answering, just before the next BEGIN_REQUEST on a kept
   * connection) came first in this turn: when that turn began. The next request starts then, so
   * that its record starts where ingest saw the request start (the correlation context is keyed
   * by it).
   */
  turnStartNs?: number;
  resp?: RespProgress;
}

export function newFcgiState(): FcgiState {
  return {};
}

/** one name-value pair length (1 byte, or 4 with the high bit set); [length, bytes used] or undefined */
function pairLen(b: Buffer, off: number): [number, number] | undefined {
  if (off >= b.length) return undefined;
  const c = b[off];
  if (c < 0x80) return [c, 1];
  if (off + 4 > b.length) return undefined;
  return [b.readUInt32BE(off) & 0x7fffffff, 4];
}

/** the CGI variables obi-ts reads, from the joined PARAMS content (pairs cut off at the end are left out) */
export function decodeParams(b: Buffer): FcgiParams {
  const p: FcgiParams = {};
  let off = 0;
  while (off < b.length) {
    const n = pairLen(b, off);
    if (n === undefined) break;
    const v = pairLen(b, off + n[1]);
    if (v === undefined) break;
    const nameAt = off + n[1] + v[1];
    const valueAt = nameAt + n[0];
    const end = valueAt + v[0];
    if (end > b.length || end < valueAt) break;
    if (n[0] <= 32 && v[0] <= MAX_VALUE) {
      const name = b.toString('latin1', nameAt, valueAt);
      const value = (): string => b.toString('utf8', valueAt, end);
      switch (name) {
        case 'REQUEST_METHOD':
          p.method = value();
          break;
        case 'REQUEST_URI':
          p.requestUri = value();
          break;
        case 'SCRIPT_NAME':
          p.scriptName = value();
          break;
        case 'SCRIPT_FILENAME':
          p.scriptFilename = value();
          break;
        case 'QUERY_STRING':
          p.queryString = value();
          break;
        case 'HTTP_HOST':
          p.host = value();
          break;
        case 'HTTP_USER_AGENT':
          p.userAgent = value();
          break;
        case 'CONTENT_LENGTH': {
          const s = value();
          if (/^\d{1,15}$/.test(s)) p.contentLength = Number(s);
          break;
        }
      }
    }
    off = end;
  }
  return p;
}

/** the CGI header block of a response (`Status: 404 Not Found`, `Location:`): [status, header block length] or undefined when not complete */
export function cgiHead(b: Buffer): [number, number] | undefined {
  let end = -1;
  let sep = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x0a) continue;
    if (b[i + 1] === 0x0a) {
      end = i + 2;
      break;
    }
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) {
      end = i + 3;
      break;
    }
  }
  if (end < 0) return undefined;
  sep = end;
  return [cgiStatus(b.toString('latin1', 0, sep)), sep];
}

function cgiStatus(head: string): number {
  let location = false;
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'status') {
      const m = /^\s*(\d{3})/.exec(line.slice(colon + 1));
      if (m) return Number(m[1]);
    } else if (name === 'location') location = true;
  }
  return location ? 302 : 200;
}

function requestFrame(r: ReqProgress, endNs: number): FcgiRequestFrame {
  const params = decodeParams(r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks));
  return { startNs: r.startNs, endNs, requestId: r.requestId, role: r.role, params, bodySize: 0, truncated: r.truncated };
}

function responseFrame(r: RespProgress, endNs: number, end?: Buffer): FcgiResponseFrame {
  if (!r.headDone) finishHead(r);
  const frame: FcgiResponseFrame = {
    startNs: r.startNs,
    endNs,
    requestId: r.requestId,
    status: r.status,
    bodySize: Math.max(0, r.stdout - r.headerLen),
    stderrBytes: r.stderr,
    truncated: r.truncated,
  };
  if (end === undefined) return frame;
  return { ...frame, appStatus: end.readUInt32BE(0), protocolStatus: end[4] };
}

/** no more header bytes will come: take the status from what was kept */
function finishHead(r: RespProgress): void {
  r.headDone = true;
  const b = Buffer.concat(r.head);
  r.head = [];
  const h = cgiHead(b);
  if (h !== undefined) {
    r.status = h[0];
    r.headerLen = h[1];
  } else {
    // header block not seen whole: a Status line among the bytes kept still counts
    r.status = b.length > 0 ? cgiStatus(b.toString('latin1')) : 200;
    r.headerLen = b.length;
    r.truncated = true;
  }
}

function addHead(r: RespProgress, content: Buffer | null, contentLength: number): void {
  if (r.headDone) return;
  if (content === null || content.length < contentLength) {
    if (content !== null && content.length > 0) r.head.push(Buffer.from(content));
    finishHead(r); // the rest is not captured
    return;
  }
  const room = MAX_HEAD_BYTES - r.headLen;
  const take = content.length > room ? content.subarray(0, room) : content;
  r.head.push(Buffer.from(take));
  r.headLen += take.length;
  const h = cgiHead(r.head.length === 1 ? r.head[0] : Buffer.concat(r.head));
  if (h !== undefined) {
    r.headDone = true;
    r.status = h[0];
    r.headerLen = h[1];
    r.head = [];
  } else if (r.headLen >= MAX_HEAD_BYTES) finishHead(r);
}

/** the captured bytes of [start, end) from its start (a prefix when a gap cuts it), or null when none */
function captured(buf: StreamBuffer, start: number, end: number): Buffer | null {
  const whole = buf.slice(start, end);
  if (whole !== null) return whole;
  const run = Math.min(buf.capturedRunEnd(start), end);
  return run > start ? buf.slice(start, run) : null;
}

/** a record header not captured: end the message in progress at the end of this gap */
function headerInGap(type: MessageType, buf: StreamBuffer, state: FcgiState): ParseResult<FcgiFrame> {
  const skip = buf.gapEnd(buf.capturedRunEnd(0));
  const endNs = buf.tsAt(Math.max(0, skip - 1));
  if (type === 'request' && state.req !== undefined) {
    const r = state.req;
    state.req = undefined;
    r.truncated = true;
    buf.consume(skip > 0 ? skip : buf.length);
    const frame = requestFrame(r, endNs);
    state.lastReq = frame;
    return { state: 'success', frame };
  }
  if (type === 'response' && state.resp !== undefined) {
    const r = state.resp;
    state.resp = undefined;
    r.truncated = true;
    buf.consume(skip > 0 ? skip : buf.length);
    return { state: 'success', frame: responseFrame(r, endNs) };
  }
  return { state: 'invalid' };
}

/** ProtocolParser.parseFrame for FastCGI: one record */
export function parseFcgiFrame(type: MessageType, buf: StreamBuffer, state: FcgiState): ParseResult<FcgiFrame> {
  if (buf.isGap(0)) return headerInGap(type, buf, state);
  if (buf.length < FCGI_HEADER_LEN) return buf.ended ? endOfStream(type, buf, state) : { state: 'needs-more-data' };
  const h = buf.slice(0, FCGI_HEADER_LEN);
  if (h === null) return headerInGap(type, buf, state);
  if (h[0] !== 1 || !typeOfDirection(type, h[1])) return { state: 'invalid' };
  const t = h[1];
  const requestId = h.readUInt16BE(2);
  const contentLength = h.readUInt16BE(4);
  const total = FCGI_HEADER_LEN + contentLength + h[6];
  if (buf.length < total) {
    if (buf.ended) return endOfStream(type, buf, state);
    // long bodies: release what will not be read (the CGI head of the first STDOUT is read whole)
    const keep = t === FCGI_PARAMS || t === FCGI_BEGIN_REQUEST || t === FCGI_END_REQUEST || (t === FCGI_STDOUT && state.resp?.headDone !== true) ? total : FCGI_HEADER_LEN;
    if (keep < buf.length) buf.forget(keep, buf.length);
    return { state: 'needs-more-data' };
  }
  const startNs = buf.tsAt(0);
  const endNs = buf.tsAt(total - 1);
  const content = contentLength === 0 ? Buffer.alloc(0) : captured(buf, FCGI_HEADER_LEN, FCGI_HEADER_LEN + contentLength);
  let result: ParseResult<FcgiFrame> = { state: 'ignored' };
  switch (t) {
    case FCGI_BEGIN_REQUEST: {
      if (content === null || content.length < 8) return { state: 'invalid' };
      state.req = { startNs: state.turnStartNs ?? startNs, requestId, role: content.readUInt16BE(0), chunks: [], kept: 0, truncated: false };
      state.turnStartNs = undefined;
      break;
    }
    case FCGI_PARAMS: {
      const r = state.req;
      if (r === undefined || r.requestId !== requestId) break; // a request begun before the capture
      if (contentLength === 0) {
        state.req = undefined;
        const frame = requestFrame(r, endNs);
        state.lastReq = frame;
        result = { state: 'success', frame };
        break;
      }
      if (r.truncated) break; // pairs after a gap cannot be told apart
      const got = content ?? Buffer.alloc(0);
      const take = Math.min(got.length, MAX_PARAMS_BYTES - r.kept);
      if (take > 0) {
        r.chunks.push(Buffer.from(got.subarray(0, take)));
        r.kept += take;
      }
      if (take < contentLength) r.truncated = true;
      break;
    }
    case FCGI_STDIN: {
      const last = state.lastReq;
      if (last !== undefined && last.requestId === requestId) last.bodySize += contentLength;
      else if (state.req === undefined) state.turnStartNs ??= startNs;
      break;
    }
    case FCGI_STDOUT:
    case FCGI_STDERR: {
      if (contentLength === 0) break; // end of the stream; END_REQUEST ends the response
      let r = state.resp;
      if (r === undefined || r.requestId !== requestId) {
        r = { startNs, requestId, head: [], headLen: 0, headDone: false, headerLen: 0, status: 200, stdout: 0, stderr: 0, truncated: false };
        state.resp = r;
      }
      if (t === FCGI_STDOUT) {
        r.stdout += contentLength;
        addHead(r, content, contentLength);
      } else r.stderr += contentLength;
      break;
    }
    case FCGI_END_REQUEST: {
      state.turnStartNs = undefined; // a new request turn follows the answer
      let r = state.resp;
      if (r === undefined || r.requestId !== requestId) {
        // no output at all (or output before the capture): a response without a CGI head
        r = { startNs, requestId, head: [], headLen: 0, headDone: false, headerLen: 0, status: 200, stdout: 0, stderr: 0, truncated: false };
      }
      state.resp = undefined;
      result = { state: 'success', frame: responseFrame(r, endNs, content !== null && content.length >= 5 ? content : undefined) };
      break;
    }
    default:
      break; // ABORT_REQUEST, DATA, GET_VALUES(_RESULT), UNKNOWN_TYPE: nothing to report
  }
  buf.consume(total);
  return result;
}

/** the connection ended inside a record: the message in progress ends there (truncated) */
function endOfStream(type: MessageType, buf: StreamBuffer, state: FcgiState): ParseResult<FcgiFrame> {
  const endNs = buf.tsAt(buf.length - 1);
  if (type === 'response' && state.resp !== undefined) {
    const r = state.resp;
    state.resp = undefined;
    r.truncated = true;
    buf.consume(buf.length);
    return { state: 'success', frame: responseFrame(r, endNs) };
  }
  if (type === 'request' && state.req !== undefined) {
    const r = state.req;
    state.req = undefined;
    r.truncated = true;
    buf.consume(buf.length);
    const frame = requestFrame(r, endNs);
    state.lastReq = frame;
    return { state: 'success', frame };
  }
  return { state: 'needs-more-data' };
}
