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
