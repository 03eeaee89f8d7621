/**
 * Content codings of captured HTTP bodies, undone for the payload extractors (http-extract.ts):
 * `gzip` (`x-gzip`), `deflate` (zlib, or raw deflate as some servers send) and `br`, with
 * node:zlib's synchronous decoders (pure computation, no I/O). Bounded: at most
 * MAX_DECODED_BODY bytes come out (a small body that inflates past it, a "zip bomb", is cut there).
 * A body cut by the capture decodes as far as its bytes go (a flush of what was read), and is
 * complete only when the coded body was complete and decoded whole.
 */
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import type { HttpHeader, HttpPayload } from './records.ts';

const EMPTY = Buffer.alloc(0);

/** the most body bytes a decoded body holds */
export const MAX_DECODED_BODY = 1024 * 1024;

type Coding = 'gzip' | 'deflate' | 'br';

/** the single content coding named by `content-encoding`, if it is one we undo; `identity` and none give undefined */
export function contentCoding(headers: readonly HttpHeader[]): Coding | 'unsupported' | undefined {
  let v: string | undefined;
  for (const [n, x] of headers) if (n === 'content-encoding') v = v === undefined ? x : `${v},${x}`;
  if (v === undefined) return undefined;
  const list = v
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '' && t !== 'identity');
  if (list.length === 0) return undefined;
  if (list.length > 1) return 'unsupported'; // stacked codings: not undone
  const c = list[0];
  if (c === 'gzip' || c === 'x-gzip') return 'gzip';
  if (c === 'deflate') return 'deflate';
  if (c === 'br') return 'br';
  return 'unsupported';
}

/**
 * Decode `body` coded with `coding`: the decoded bytes (at most `limit`) and whether they are the
 * whole body (`complete` only when the coded body was complete, decoded without error and within
 * the limit). Never throws.
 */
export function decodeBody(body: Buffer, coding: Coding, complete: boolean, limit = MAX_DECODED_BODY): { body: Buffer; complete: boolean } {
  if (body.length === 0) return { body: EMPTY, complete: false };
  const opts: ZlibOptions = { maxOutputLength: limit };
  const whole = (): Buffer => (coding === 'gzip' ? gunzipSync(body, opts) : coding === 'br' ? brotliDecompressSync(body, opts) : inflateOrRaw(body, opts));
  if (complete) {
    try {
      return { body: whole(), complete: true };
    } catch {
      // past the limit, or corrupt: fall through to the partial decode
    }
  }
  // a prefix (or over the limit): what a flush of the bytes there are gives; past the limit, the
  // longest input prefix whose output fits (a binary search: a few decodes of at most `limit`)
  const flush: ZlibOptions = { maxOutputLength: limit, finishFlush: coding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH };
  const attempt = (k: number): Buffer | 'big' | 'bad' => {
    const b = body.subarray(0, k);
    try {
      return coding === 'gzip' ? gunzipSync(b, flush) : coding === 'br' ? brotliDecompressSync(b, flush) : inflateOrRaw(b, flush);
    } catch (e) {
      return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'big' : 'bad';
    }
  };
  const all = attempt(body.length);
  if (all !== 'big') return { body: all === 'bad' ? EMPTY : all, complete: false };
  let lo = 0;
  let hi = body.length;
  let best: Buffer = EMPTY;
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    const r = attempt(mid);
    if (r === 'bad') break;
    if (r === 'big') hi = mid;
    else {
      best = r;
      lo = mid;
    }
  }
  return { body: best, complete: false };
}

function inflateOrRaw(body: Buffer, opts: ZlibOptions): Buffer {
  // RFC 9110 `deflate` is the zlib format; some servers send raw deflate: tell them by the header
  const zlibHeader = body.length >= 2 && (body[0] & 0x0f) === 8 && ((body[0] << 8) | body[1]) % 31 === 0;
  return zlibHeader ? inflateSync(body, opts) : inflateRawSync(body, opts);
}

/**
 * The payload with its request and response bodies decoded where `content-encoding` names a coding
 * we undo (the same object when neither side is coded). Lazy: a side is decoded the first time an
 * extractor reads its body (extractors look at the method, path and headers first), then kept. A
 * body with an unsupported or stacked coding reads as empty and incomplete: extractors then read
 * nothing from it rather than coded bytes.
 */
export function decodedPayload(p: HttpPayload): HttpPayload {
  const qc = contentCoding(p.requestHeaders);
  const rc = contentCoding(p.responseHeaders);
  if (qc === undefined && rc === undefined) return p;
  const side = (c: Coding | 'unsupported' | undefined, body: Buffer, complete: boolean): (() => { body: Buffer; complete: boolean }) => {
    if (c === undefined) return () => ({ body, complete });
    let done: { body: Buffer; complete: boolean } | undefined;
    return () => (done ??= c === 'unsupported' ? { body: EMPTY, complete: false } : decodeBody(body, c, complete));
  };
  const q = side(qc, p.requestBody, p.requestBodyComplete);
  const r = side(rc, p.responseBody, p.responseBodyComplete);
  return {
    requestHeaders: p.requestHeaders,
    responseHeaders: p.responseHeaders,
    get requestBody() {
      return q().body;
    },
    get requestBodyComplete() {
      return q().complete;
    },
    get responseBody() {
      return r().body;
    },
    get responseBodyComplete() {
      return r().complete;
    },
  };
}
