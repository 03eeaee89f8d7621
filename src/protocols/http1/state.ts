/**
 * Per-connection HTTP/1 state: one resumable parse cursor per direction, the FIFO of request
 * methods (a response to HEAD has no body) and the end-of-stream flag (101 / CONNECT tunnel).
 */
import type { HttpHeader } from '../common/records.ts';

/** parse phases of a message */
export const PH_START = 0;
export const PH_HEADERS = 1;
export const PH_BODY_LEN = 2;
export const PH_CHUNK_SIZE = 3;
export const PH_CHUNK_END = 4;
export const PH_TRAILERS = 5;
export const PH_UNTIL_CLOSE = 6;

/**
 * Progress on the message at the head of one StreamBuffer. Valid while `bufId` and `pos`
 * equal the buffer's `id` and `position` (i.e. until the head moves); `bufId === 0` = idle.
 * Offsets are relative to the head.
 */
export interface Http1Cursor {
  bufId: number;
  pos: number;
  phase: number;
  /** next offset to examine */
  scan: number;
  startNs: number;
  method: string;
  target: string;
  version: string;
  status: number;
  host: string | undefined;
  traceparent: string | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
  connection: string | undefined;
  /** -1 when absent */
  contentLength: number;
  /** a Transfer-Encoding header was seen */
  te: boolean;
  /** the last transfer coding is `chunked` */
  chunked: boolean;
  /** this response is a 2xx to CONNECT: the connection becomes a tunnel */
  tunnel: boolean;
  bodyStart: number;
  bodyEnd: number;
  bodySize: number;
  /** start of the trailer section (chunked) */
  trailerStart: number;
  /** captured bytes before this offset have been released with forget() */
  released: number;
  /** the start line and header bytes (before `bodyStart`) have been released: the cursor holds what they said */
  headReleased: boolean;
  /** body bytes kept per message for the HTTP payload extractors (0: keep none); survives resets */
  readonly capture: number;
  /** headers as sent (lower-case names), only when `capture` > 0 */
  headers: HttpHeader[] | undefined;
  /** raw body bytes kept from `bodyStart` (chunk framing included), only when `capture` > 0 */
  raw: Buffer[] | undefined;
  rawLen: number;
  /** the raw body stopped before its end: a gap (bytes not captured) or the limit */
  rawCut: boolean;
}

export interface Http1State {
  readonly request: Http1Cursor;
  readonly response: Http1Cursor;
  /** methods of parsed requests still waiting for a final response (bounded) */
  readonly methods: string[];
  /** a 101 or a CONNECT 2xx was seen: neither direction carries HTTP/1 any more */
  eos: boolean;
}

/** bound on the method FIFO */
export const MAX_PENDING_METHODS = 1024;

export function newCursor(capture = 0): Http1Cursor {
  return {
    bufId: 0,
    pos: 0,
    phase: PH_START,
    scan: 0,
    startNs: 0,
    method: '',
    target: '',
    version: '',
    status: 0,
    host: undefined,
    traceparent: undefined,
    contentType: undefined,
    userAgent: undefined,
    connection: undefined,
    contentLength: -1,
    te: false,
    chunked: false,
    tunnel: false,
    bodyStart: 0,
    bodyEnd: 0,
    bodySize: 0,
    trailerStart: 0,
    released: 0,
    headReleased: false,
    capture,
    headers: capture > 0 ? [] : undefined,
    raw: capture > 0 ? [] : undefined,
    rawLen: 0,
    rawCut: false,
  };
}

export function resetCursor(c: Http1Cursor, bufId: number, pos: number): void {
  c.bufId = bufId;
  c.pos = pos;
  c.phase = PH_START;
  c.scan = 0;
  c.startNs = 0;
  c.method = '';
  c.target = '';
  c.version = '';
  c.status = 0;
  c.host = undefined;
  c.traceparent = undefined;
  c.contentType = undefined;
  c.userAgent = undefined;
  c.connection = undefined;
  c.contentLength = -1;
  c.te = false;
  c.chunked = false;
  c.tunnel = false;
  c.bodyStart = 0;
  c.bodyEnd = 0;
  c.bodySize = 0;
  c.trailerStart = 0;
  c.released = 0;
  c.headReleased = false;
  if (c.capture > 0) {
    c.headers = [];
    c.raw = [];
    c.rawLen = 0;
    c.rawCut = false;
  }
}

/** `capture`: body bytes kept per message for the HTTP payload extractors (0: none) */
export function newHttp1State(capture = 0): Http1State {
  return { request: newCursor(capture), response: newCursor(capture), methods: [], eos: false };
}

/** is a request's body still arriving (headers parsed, cursor live)? */
export function requestInProgress(state: Http1State): boolean {
  const c = state.request;
  return c.bufId !== 0 && c.phase >= PH_BODY_LEN;
}
