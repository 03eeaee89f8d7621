/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header).
 *
 * Only version `00` is accepted: `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`,
 * exactly 55 characters, lowercase hex, trace-id and parent-id not all zeros. Anything
 * else is ignored (the spec says a vendor MUST ignore a traceparent it cannot parse).
 */

export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  /** trace-flags byte (bit 0 = sampled) */
  readonly flags: number;
}

const TRACEPARENT_LEN = 55;

/** 0..15 for a lowercase hex digit, -1 otherwise */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** true if [from, to) are lowercase hex digits and not all '0' */
function validId(s: string, from: number, to: number): boolean {
  let nonZero = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (hexVal(c) < 0) return false;
    if (c !== 0x30) nonZero = true;
  }
  return nonZero;
}

/** Parse a `traceparent` header value; `undefined` when absent or malformed. */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  let s = value;
  if (s.length !== TRACEPARENT_LEN) {
    s = s.trim(); // optional whitespace around a header value
    if (s.length !== TRACEPARENT_LEN) return undefined;
  }
  // version 00 and the three dashes
  if (s.charCodeAt(0) !== 0x30 || s.charCodeAt(1) !== 0x30) return undefined;
  if (s.charCodeAt(2) !== 0x2d || s.charCodeAt(35) !== 0x2d || s.charCodeAt(52) !== 0x2d) return undefined;
  if (!validId(s, 3, 35) || !validId(s, 36, 52)) return undefined;
  const hi = hexVal(s.charCodeAt(53));
  const lo = hexVal(s.charCodeAt(54));
  if (hi < 0 || lo < 0) return undefined;
  return { traceId: s.slice(3, 35), parentId: s.slice(36, 52), flags: (hi << 4) | lo };
}

/** Format a version-00 `traceparent` value. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

const TP_NAME = 'traceparent';
/** how far into a request's first segment the header block is searched */
const PEEK_LIMIT = 8192;

/**
 * The `traceparent` of an HTTP/1 request from the first captured segment of the request (its
 * header block, up to the first empty line or the end of the capture); undefined when absent,
 * malformed or not in that segment. Used at request start, before the request is parsed whole.
 * One pass in JavaScript over the bytes (cheaper than native searches for short header blocks).
 */
export function peekTraceparent(head: Buffer): TraceParent | undefined {
  const end = Math.min(head.length, PEEK_LIMIT);
  for (let i = 0; i < end; i++) {
    if (head[i] !== 0x0a) continue;
    const start = i + 1;
    if (start >= end) return undefined;
    const c = head[start];
    if (c === 0x0d || c === 0x0a) return undefined; // end of the header block
    if ((c | 0x20) !== 0x74 /* t */ || start + TP_NAME.length >= end || !matchesName(head, start)) continue;
    let v = start + TP_NAME.length;
    while (v < end && head[v] === 0x20) v++;
    if (head[v] !== 0x3a /* : */) continue;
    let eol = v + 1;
    while (eol < end && head[eol] !== 0x0a) eol++;
    if (eol >= end) return undefined;
    return parseTraceparent(head.toString('latin1', v + 1, eol).trim());
  }
  return undefined;
}

function matchesName(b: Buffer, at: number): boolean {
  for (let k = 1; k < TP_NAME.length; k++) if ((b[at + k] | 0x20) !== TP_NAME.charCodeAt(k)) return false;
  return true;
}
