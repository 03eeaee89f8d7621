/**
 * What an HTTP/1 message keeps for the HTTP payload extractors (src/protocols/common/http-extract.ts),
 * only when the parser was created with a capture limit: its headers and a bounded prefix of its
 * body. The parser copies the raw body bytes (chunk framing included) before it releases them
 * (`keepRaw`), and `messagePayload` decodes the chunked framing when the message ends.
 * Bytes not captured by the kernel end the prefix: nothing past them is kept or guessed.
 */
import type { StreamBuffer } from '../common/stream.ts';
import { MAX_PAYLOAD_HEADERS, MAX_PAYLOAD_HEADER_VALUE } from '../common/http-extract.ts';
import type { Http1Cursor } from './state.ts';
import type { HttpMessagePayload } from './types.ts';

/** room for chunk-size lines and CRLFs beyond the body limit in the raw copy */
const FRAMING_SLACK = 1024;

const EMPTY = Buffer.alloc(0);

/** keep one header (name in lower case) when capturing */
export function keepHeader(c: Http1Cursor, win: Buffer, p: number, q: number, vs: number, ve: number): void {
  const h = c.headers;
  if (h === undefined || h.length >= MAX_PAYLOAD_HEADERS) return;
  const end = ve - vs > MAX_PAYLOAD_HEADER_VALUE ? vs + MAX_PAYLOAD_HEADER_VALUE : ve;
  h.push([win.toString('latin1', p, q).toLowerCase(), win.toString('latin1', vs, end)]);
}

/** copy the captured body bytes `[from, to)` of `buf` into the cursor's raw prefix, up to the limit */
export function keepRaw(buf: StreamBuffer, c: Http1Cursor, from: number, to: number): void {
  const raw = c.raw;
  if (raw === undefined || c.rawCut || from >= to) return;
  const limit = c.capture + (c.chunked ? FRAMING_SLACK : 0);
  let p = from;
  while (p < to) {
    const room = limit - c.rawLen;
    if (room <= 0) {
      c.rawCut = true;
      return;
    }
    const run = buf.capturedRunEnd(p);
    if (run === p) {
      c.rawCut = true; // a gap: what follows is not known
      return;
    }
    let e = run < to ? run : to;
    if (e - p > room) e = p + room;
    const s = buf.slice(p, e);
    if (s === null) {
      c.rawCut = true;
      return;
    }
    raw.push(Buffer.from(s)); // a copy: the view dies with the segment
    c.rawLen += e - p;
    p = e;
  }
}

/** the payload of a message that ends now (headers and decoded body prefix) */
export function messagePayload(c: Http1Cursor, bodySize: number, truncated: boolean): HttpMessagePayload {
  const headers = c.headers ?? [];
  const raw = c.raw;
  if (raw === undefined || raw.length === 0) {
    return { headers, body: EMPTY, complete: bodySize === 0 && !truncated };
  }
  const all = raw.length === 1 ? raw[0] : Buffer.concat(raw, c.rawLen);
  if (c.chunked) return { headers, ...dechunk(all, c.capture) };
  const n = all.length < bodySize ? all.length : bodySize;
  const body = n > c.capture ? all.subarray(0, c.capture) : all.subarray(0, n);
  return { headers, body, complete: !truncated && body.length === bodySize };
}

/**
 * Decode chunked framing from `raw` (which may stop anywhere): the data of the chunks present,
 * at most `limit` bytes; complete when the last chunk (size 0) was reached within the limit.
 */
export function dechunk(raw: Buffer, limit: number): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let total = 0;
  let p = 0;
  for (;;) {
    const nl = raw.indexOf(0x0a, p);
    if (nl < 0) break;
    let size = 0;
    let i = p;
    for (; i < nl; i++) {
      const b = raw[i] | 0x20;
      const d = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x61 + 10 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > 0x7fffffff) return { body: join(parts, total), complete: false };
    }
    if (i === p) break; // not a chunk-size line: stop, keep what was decoded
    if (size === 0) return { body: join(parts, total), complete: total <= limit };
    const ds = nl + 1;
    const avail = raw.length - ds;
    const take = Math.min(size, avail, limit - total);
    if (take > 0) {
      parts.push(raw.subarray(ds, ds + take));
      total += take;
    }
    if (take < size) break; // cut by the capture or the limit
    p = ds + size;
    if (raw[p] === 0x0d) p++;
    if (raw[p] === 0x0a) p++;
  }
  return { body: join(parts, total), complete: false };
}

function join(parts: Buffer[], total: number): Buffer {
  return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}
