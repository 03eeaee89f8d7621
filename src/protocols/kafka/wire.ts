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
 *
 * Cost: a read whose bytes have arrived (the common case) creates no generator: it hands
 * `yield*` a shared iterator already done with the value (`ready`); only a read that must wait
 * runs as a generator (`later`).
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

  /** `n` bytes at the cursor lie within the frame (else `bad`) */
  fits(n: number): boolean {
    if (this.bad || this.o + n > this.end) {
      this.bad = true;
      return false;
    }
    return true;
  }

  /** the bytes up to `min(o + n, end)` have arrived */
  arrived(n: number): boolean {
    const to = this.o + n;
    return this.buf.length >= (to < this.end ? to : this.end);
  }
}

// a `yield*` operand that completes at once with a value: one shared object, no allocation
const RESULT: { done: true; value: unknown } = { done: true, value: undefined };
const READY = {
  next(): { done: true; value: unknown } {
    return RESULT;
  },
  [Symbol.iterator](): unknown {
    return this;
  },
};

/** a step already done with `v` (valid until the next `ready`: `yield*` reads it at once) */
function ready<T>(v: T): Step<T> {
  RESULT.value = v;
  return READY as unknown as Step<T>;
}

/** wait until `n` bytes at the cursor (or up to the frame end) have arrived, then `read()` */
function* later<T>(c: Cursor, n: number, read: () => T): Step<T> {
  while (!c.arrived(n)) yield;
  return read();
}

/** wait until `n` bytes at the cursor have arrived; false (and `bad`) when they pass the frame end */
export function arrive(c: Cursor, n: number): Step<boolean> {
  if (!c.fits(n)) return ready(false);
  if (c.arrived(n)) return ready(true);
  return later(c, n, () => true);
}

/** unsigned big-endian integer of n (<= 6) arrived bytes at the cursor, or null in a gap; moves the cursor */
function readUint(c: Cursor, n: number): number | null {
  const b = c.buf;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const x = b.byteAt(c.o + i);
    if (x < 0) {
      c.o += n;
      return null;
    }
    v = v * 256 + x;
  }
  c.o += n;
  return v;
}

function readInt(c: Cursor, n: number): number | null {
  const v = readUint(c, n);
  if (v === null) return null;
  const half = 2 ** (8 * n - 1);
  return v >= half ? v - 2 * half : v;
}

function int(c: Cursor, n: number): Step<number | null> {
  if (!c.fits(n)) return ready(null);
  if (c.arrived(n)) return ready(readInt(c, n));
  return later(c, n, () => readInt(c, n));
}

export function int8(c: Cursor): Step<number | null> {
  return int(c, 1);
}

export function int16(c: Cursor): Step<number | null> {
  return int(c, 2);
}

export function int32(c: Cursor): Step<number | null> {
  return int(c, 4);
}

/** int64 as a number (exact below 2^53, which offsets and ids stay under) */
export function int64(c: Cursor): Step<number | null> {
  if (!c.fits(8)) return ready(null);
  if (c.arrived(8)) return ready(readInt64(c));
  return later(c, 8, () => readInt64(c));
}

function readInt64(c: Cursor): number | null {
  const hi = readInt(c, 4);
  const lo = readUint(c, 4);
  return hi === null || lo === null ? null : hi * 0x100000000 + lo;
}

/** a varint of at most `max` bytes from arrived bytes (null in a gap or too long: `bad` when too long) */
function readVarint(c: Cursor, max: number, zigzag: boolean): number | null {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < max; i++) {
    if (c.o >= c.end) {
      c.bad = true;
      return null;
    }
    const b = c.buf.byteAt(c.o);
    c.o++;
    if (b < 0) return null;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return !zigzag ? v : v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    mul *= 128;
  }
  c.bad = true;
  return null;
}

function vint(c: Cursor, max: number, zigzag: boolean): Step<number | null> {
  if (c.bad || c.o >= c.end) {
    c.bad = true;
    return ready(null);
  }
  if (c.arrived(max)) return ready(readVarint(c, max, zigzag));
  return later(c, max, () => readVarint(c, max, zigzag));
}

/** unsigned varint (protocol guide: UNSIGNED_VARINT, at most 5 bytes) */
export function uvarint(c: Cursor): Step<number | null> {
  return vint(c, 5, false);
}

/** zig-zag varint / varlong (record fields), at most 10 bytes; a number */
export function varint(c: Cursor): Step<number | null> {
  return vint(c, 10, true);
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

/** `n` arrived bytes at the cursor as text (at most MAX_STRING kept), null in a gap; moves the cursor */
function readText(c: Cursor, n: number, encoding: BufferEncoding): string | null {
  const keep = n > MAX_STRING ? MAX_STRING : n;
  const b = c.buf.slice(c.o, c.o + keep);
  c.o += n;
  return b === null ? null : b.toString(encoding);
}

/** `n` bytes at the cursor as text, once arrived; null in a gap or past the end */
export function text(c: Cursor, n: number, encoding: BufferEncoding = 'utf8'): Step<string | null> {
  if (!c.fits(n)) return ready(null);
  if (c.arrived(n)) return ready(readText(c, n, encoding));
  return later(c, n, () => readText(c, n, encoding));
}

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
  return yield* text(c, n);
}

/** a UUID (16 bytes) as Kafka prints it: URL-safe base64 without padding; null when not captured */
export function uuid(c: Cursor): Step<string | null> {
  if (!c.fits(16)) return ready(null);
  if (c.arrived(16)) return ready(readText(c, 16, 'base64url'));
  return later(c, 16, () => readText(c, 16, 'base64url'));
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
