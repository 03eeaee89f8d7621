/**
 * Reading Kafka primitive types (protocol guide, "Protocol Primitive Types") from a StreamBuffer
 * whose frame may still be arriving and may hold gaps (bytes past the captured prefix).
 *
 * Decoders are generators: a read of bytes that have not arrived yet `yield`s (the caller
 * resumes the decoder when more bytes came), so a frame of any size is walked once, and the
 * bytes behind the cursor can be released (`StreamBuffer.forget`) as the walk goes.
 * A read returns the value, or `null` when its bytes lie in a gap (the content was not
 * captured). A read past the frame end, or a length that cannot be, marks the cursor `bad`:
 * the walk stops there and never throws.
 */
import type { StreamBuffer } from '../common/stream.ts';

/** A decoder step: yields while waiting for bytes, returns T. */
export type Step<T> = Generator<void, T, void>;

export class Cursor {
  readonly buf: StreamBuffer;
  /** offset of the next byte (relative to the head of `buf`) */
  o: number;
  /** frame end offset (exclusive) */
  readonly end: number;
  /** a read went past the frame end or met an impossible length */
  bad = false;

  constructor(buf: StreamBuffer, o: number, end: number) {
    this.buf = buf;
    this.o = o;
    this.end = end;
  }

  /** bytes of the frame left after the cursor */
  get left(): number {
    return this.end - this.o;
  }

  /** skip `n` bytes (they need not have arrived); false (and `bad`) past the end */
  skip(n: number): boolean {
    if (!(n >= 0) || this.o + n > this.end) {
      this.bad = true;
      return false;
    }
    this.o += n;
    return true;
  }
}

/** wait until `n` bytes at the cursor have arrived; false (and `bad`) when they pass the frame end */
export function* arrive(c: Cursor, n: number): Step<boolean> {
  if (c.bad || c.o + n > c.end) {
    c.bad = true;
    return false;
  }
  while (c.buf.length < c.o + n) yield;
  return true;
}

/** unsigned big-endian integer of n (<= 6) bytes at the cursor, or null in a gap */
function* uint(c: Cursor, n: number): Step<number | null> {
  if (!(yield* arrive(c, n))) return null;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const b = c.buf.byteAt(c.o + i);
    if (b < 0) {
      c.o += n;
      return null;
    }
    v = v * 256 + b;
  }
  c.o += n;
  return v;
}

export function* int8(c: Cursor): Step<number | null> {
  const v = yield* uint(c, 1);
  return v === null ? null : v >= 0x80 ? v - 0x100 : v;
}

export function* int16(c: Cursor): Step<number | null> {
  const v = yield* uint(c, 2);
  return v === null ? null : v >= 0x8000 ? v - 0x10000 : v;
}

export function* int32(c: Cursor): Step<number | null> {
  const v = yield* uint(c, 4);
  return v === null ? null : v >= 0x80000000 ? v - 0x100000000 : v;
}

/** int64 as a number (exact below 2^53, which offsets and ids stay under) */
export function* int64(c: Cursor): Step<number | null> {
  const hi = yield* int32(c);
  const lo = yield* uint(c, 4);
  if (hi === null || lo === null) return null;
  return hi * 0x100000000 + lo;
}

/** unsigned varint (protocol guide: UNSIGNED_VARINT, at most 5 bytes) */
export function* uvarint(c: Cursor): Step<number | null> {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (!(yield* arrive(c, 1))) return null;
    const b = c.buf.byteAt(c.o);
    c.o++;
    if (b < 0) return null;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return v;
    mul *= 128;
  }
  c.bad = true;
  return null;
}

/** zig-zag varint / varlong (record fields), at most 10 bytes; a number */
export function* varint(c: Cursor): Step<number | null> {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (!(yield* arrive(c, 1))) return null;
    const b = c.buf.byteAt(c.o);
    c.o++;
    if (b < 0) return null;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    mul *= 128;
  }
  c.bad = true;
  return null;
}

/**
 * Length of a STRING / BYTES / array (int16, int32 or compact uvarint-minus-one): -1 for null,
 * `null` when not captured or impossible (then `bad` when impossible).
 */
export function* length(c: Cursor, kind: 'i16' | 'i32' | 'compact'): Step<number | null> {
  let n: number | null;
  if (kind === 'compact') {
    const u = yield* uvarint(c);
    n = u === null ? null : u - 1;
  } else n = kind === 'i16' ? yield* int16(c) : yield* int32(c);
  if (n === null) return null;
  if (n < -1 || n > c.left) {
    c.bad = true;
    return null;
  }
  return n;
}

/** at most this many characters of a string are kept (topic names are at most 249) */
export const MAX_STRING = 512;

/**
 * A STRING / NULLABLE_STRING / COMPACT_(NULLABLE_)STRING. Returns the text (`undefined` for
 * null), or `null` when its bytes were not captured (the cursor still moves past it when its
 * length is known; `bad` when not).
 */
export function* str(c: Cursor, flexible: boolean): Step<string | undefined | null> {
  const n = yield* length(c, flexible ? 'compact' : 'i16');
  if (n === null) {
    c.bad = true; // the length is lost: nothing after it can be placed
    return null;
  }
  if (n < 0) return undefined;
  if (!(yield* arrive(c, n))) return null;
  const keep = n > MAX_STRING ? MAX_STRING : n;
  const b = c.buf.slice(c.o, c.o + keep);
  c.o += n;
  return b === null ? null : b.toString('utf8');
}

/** a UUID (16 bytes) as Kafka prints it: URL-safe base64 without padding; null when not captured */
export function* uuid(c: Cursor): Step<string | null> {
  if (!(yield* arrive(c, 16))) return null;
  const b = c.buf.slice(c.o, c.o + 16);
  c.o += 16;
  return b === null ? null : b.toString('base64url');
}

/** skip a tagged-field section (flexible versions); false when it could not be placed */
export function* taggedFields(c: Cursor): Step<boolean> {
  const n = yield* uvarint(c);
  if (n === null || n > c.left) {
    c.bad = true;
    return false;
  }
  for (let i = 0; i < n; i++) {
    const tag = yield* uvarint(c);
    const size = yield* uvarint(c);
    if (tag === null || size === null || !c.skip(size)) {
      c.bad = true;
      return false;
    }
  }
  return true;
}

/** an array count (int32 or compact); null for a null array; `bad` when lost or impossible (each element >= minSize bytes) */
export function* arrayCount(c: Cursor, flexible: boolean, minSize: number): Step<number | null> {
  const n = yield* length(c, flexible ? 'compact' : 'i32');
  if (n === null) {
    c.bad = true;
    return null;
  }
  if (n < 0) return null;
  if (n * minSize > c.left) {
    c.bad = true;
    return null;
  }
  return n;
}
