// Over 400 lines: StreamBuffer's captured segments, wire gaps and offsets are one data structure with shared invariants.
/**
 * StreamBuffer: the bytes of one direction of one connection, as a queue of segments.
 *
 * A segment is what one syscall carried: `data` (the captured prefix of its payload) and
 * `wireLen` (how many bytes really crossed the socket, `>= data.length`). The bytes past the
 * prefix are a *gap*: their length is known, their content is not. Every offset in this API is
 * relative to the current head of the buffer and counts wire bytes (gaps included).
 *
 * Ownership: `append()` keeps a reference to `data` without copying, so the common case
 * (one segment, parsed and consumed in full) never copies. A caller whose Buffers are reused
 * after the call (e.g. one ring-buffer drain Buffer) must call `compact()` before reusing them;
 * `compact()` copies only what is still buffered. `ProtocolSession` does this after each feed.
 *
 * Memory is bounded: captured bytes, wire bytes and segment count each have a cap. `append()`
 * drops whole segments from the head (never the segment being appended) to make room;
 * `compact()` enforces the caps fully. Every dropped byte is counted in `droppedBytes`.
 */

/** default cap on captured bytes held per direction */
export const DEFAULT_MAX_CAPTURED_BYTES = 64 * 1024;
/** default cap on wire bytes (gaps included) held per direction: generous, since gaps cost no memory */
export const DEFAULT_MAX_WIRE_BYTES = 4 * 1024 * 1024 * 1024;
/** default cap on segments held per direction (each costs a small object) */
export const DEFAULT_MAX_SEGMENTS = 4096;

export interface StreamBufferOptions {
  /** cap on captured bytes buffered (default 64 KiB) */
  readonly maxCapturedBytes?: number;
  /** cap on wire bytes buffered, gaps included (default 4 GiB) */
  readonly maxWireBytes?: number;
  /** cap on buffered segments (default 4096) */
  readonly maxSegments?: number;
}

interface Segment {
  /** captured bytes; `data.length === cap` */
  data: Buffer;
  cap: number;
  /** wire length, `>= cap` */
  wire: number;
  /** absolute stream offset of the segment's first byte */
  start: number;
  ts: number;
  /** `data` is a private copy (not the caller's memory) */
  owned: boolean;
}

const EMPTY = Buffer.alloc(0);
let nextId = 1;

export class StreamBuffer {
  /** unique per instance; lets parsers key cached progress to (id, position) */
  readonly id: number;
  readonly maxCapturedBytes: number;
  readonly maxWireBytes: number;
  readonly maxSegments: number;

  private _segs: Segment[] = [];
  private _first = 0;
  private _pos = 0;
  private _len = 0;
  private _cap = 0;
  private _hint = 0;
  private _dropped = 0;
  private _ended = false;

  constructor(options?: StreamBufferOptions) {
    this.id = nextId++;
    this.maxCapturedBytes = positive(options?.maxCapturedBytes, DEFAULT_MAX_CAPTURED_BYTES);
    this.maxWireBytes = positive(options?.maxWireBytes, DEFAULT_MAX_WIRE_BYTES);
    this.maxSegments = positive(options?.maxSegments, DEFAULT_MAX_SEGMENTS);
  }

  /** wire bytes buffered, gaps included */
  get length(): number {
    return this._len;
  }

  /** captured bytes buffered (what costs memory) */
  get capturedLength(): number {
    return this._cap;
  }

  /** segments buffered */
  get segmentCount(): number {
    return this._segs.length - this._first;
  }

  /**
   * Absolute stream offset of the head: total wire bytes consumed (or dropped) so far.
   * Monotonic; a parser may cache progress keyed by `(id, position)`, which stays valid
   * until the head moves.
   */
  get position(): number {
    return this._pos;
  }

  /** wire bytes discarded from the head because a cap was exceeded */
  get droppedBytes(): number {
    return this._dropped;
  }

  /** no more data will arrive (connection closed); parsers may end frames delimited by close */
  get ended(): boolean {
    return this._ended;
  }

  /** Mark the stream ended; later appends are ignored. */
  end(): void {
    this._ended = true;
  }

  /** Add one segment. `wireLen < data.length` is taken as `data.length`. Empty segments are ignored. */
  append(data: Buffer, wireLen: number, tsNs: number): void {
    if (this._ended) return;
    const cap = data.length;
    const wire = wireLen > cap ? wireLen : cap;
    if (!(wire > 0)) return;
    if (this._len > 0) {
      // make room by dropping older segments; the new one is always kept whole here
      while (
        this._len > 0 &&
        (this._cap + cap > this.maxCapturedBytes ||
          this._len + wire > this.maxWireBytes ||
          this._segs.length - this._first + 1 > this.maxSegments)
      ) {
        const s = this._segs[this._first];
        this._drop(s.start + s.wire - this._pos);
      }
    }
    this._segs.push({ data, cap, wire, start: this._pos + this._len, ts: tsNs, owned: false });
    this._len += wire;
    this._cap += cap;
  }

  /**
   * Enforce every cap (dropping from the head, even inside the newest segment) and copy the
   * still-buffered captured bytes that reference caller memory into private Buffers.
   */
  compact(): void {
    while (this._len > 0) {
      const live = this._segs.length - this._first;
      if (live > this.maxSegments || (live > 1 && (this._cap > this.maxCapturedBytes || this._len > this.maxWireBytes))) {
        const s = this._segs[this._first];
        this._drop(s.start + s.wire - this._pos);
        continue;
      }
      let n = 0;
      if (this._cap > this.maxCapturedBytes) n = this._cap - this.maxCapturedBytes;
      if (this._len > this.maxWireBytes && this._len - this.maxWireBytes > n) n = this._len - this.maxWireBytes;
      if (n === 0) break;
      this._drop(n);
    }
    const segs = this._segs;
    // segments not yet owned are always the newest ones: walk back to the first owned one
    let from = segs.length;
    while (from > this._first && !segs[from - 1].owned) from--;
    for (let i = from; i < segs.length; i++) {
      const s = segs[i];
      const local = i === this._first ? this._pos - s.start : 0;
      if (local > 0) {
        // rebase the first segment on the head so the copy holds only live bytes
        s.start += local;
        s.wire -= local;
        s.cap = local >= s.cap ? 0 : s.cap - local;
      }
      if (s.cap === 0) {
        s.data = EMPTY;
      } else {
        const copy = Buffer.allocUnsafeSlow(s.cap);
        s.data.copy(copy, 0, local, local + s.cap);
        s.data = copy;
      }
      s.owned = true;
    }
  }

  /** byte at `off` (0..255), or -1 when `off` is inside a gap or out of range */
  byteAt(off: number): number {
    if (off < 0 || off >= this._len) return -1;
    const p = this._pos + off;
    const s = this._segs[this._find(p)];
    const local = p - s.start;
    return local < s.cap ? s.data[local] : -1;
  }

  /** is `off` inside a gap? (false when out of range) */
  isGap(off: number): boolean {
    if (off < 0 || off >= this._len) return false;
    const p = this._pos + off;
    const s = this._segs[this._find(p)];
    return p - s.start >= s.cap;
  }

  /**
   * End offset of the contiguous captured run containing `off` (the run continues across
   * segment boundaries when no gap lies between). Returns `off` when `off` is in a gap or
   * out of range.
   */
  capturedRunEnd(off: number): number {
    if (off < 0 || off >= this._len) return off;
    const segs = this._segs;
    const p = this._pos + off;
    let i = this._find(p);
    let s = segs[i];
    if (p >= s.start + s.cap) return off;
    while (s.cap === s.wire && i + 1 < segs.length && segs[i + 1].cap > 0) s = segs[++i];
    return s.start + s.cap - this._pos;
  }

  /**
   * End offset of the gap containing `off` (consecutive gaps merged). Returns `off` when
   * `off` is captured or out of range.
   */
  gapEnd(off: number): number {
    if (off < 0 || off >= this._len) return off;
    const segs = this._segs;
    const p = this._pos + off;
    let i = this._find(p);
    let s = segs[i];
    if (p < s.start + s.cap) return off;
    while (i + 1 < segs.length && segs[i + 1].cap === 0) s = segs[++i];
    return s.start + s.wire - this._pos;
  }

  /**
   * First offset in `[from, to)` where `needle` starts and ends within `[from, to)`, searching
   * captured bytes only: a match never spans a gap (it may span segment boundaries). -1 if none.
   */
  indexOf(needle: Buffer | number, from = 0, to: number = this._len): number {
    if (from < 0) from = 0;
    if (to > this._len) to = this._len;
    if (typeof needle !== 'number') {
      if (needle.length === 1) needle = needle[0];
      else if (needle.length === 0) return from <= to ? from : -1;
    }
    if (from >= to) return -1;
    const segs = this._segs;
    const base = this._pos;
    const pe = base + to;
    let p = base + from;
    let i = this._find(p);
    if (typeof needle === 'number') {
      while (p < pe && i < segs.length) {
        const s = segs[i];
        const capEnd = s.start + s.cap;
        if (p < capEnd) {
          const r = s.data.indexOf(needle, p - s.start);
          if (r >= 0 && s.start + r < pe) return s.start + r - base;
        }
        p = s.start + s.wire;
        i++;
      }
      return -1;
    }
    const n = needle.length;
    while (p < pe && i < segs.length) {
      const s = segs[i];
      const capEnd = s.start + s.cap;
      if (p < capEnd) {
        const r = s.data.indexOf(needle, p - s.start);
        if (r >= 0 && s.start + r + n <= pe && r + n <= s.cap) return s.start + r - base;
        // a match straddling into the next segment, when no gap lies between
        if (s.cap === s.wire && i + 1 < segs.length && segs[i + 1].cap > 0) {
          let k = capEnd - n + 1;
          if (k < p) k = p;
          for (; k < capEnd && k + n <= pe; k++) {
            if (this._matchAt(k - base, needle)) return k - base;
          }
        }
      }
      p = s.start + s.wire;
      i++;
    }
    return -1;
  }

  /**
   * Bytes `[start, end)` as a Buffer, or `null` when the range touches a gap or is out of range.
   * Zero-copy (a view) when the range lies in one segment; a copy when it spans segments.
   * A view may alias caller memory until `compact()`; do not keep it past the current call.
   */
  slice(start: number, end: number): Buffer | null {
    if (start < 0 || end > this._len || start > end) return null;
    if (start === end) return EMPTY;
    const segs = this._segs;
    const ps = this._pos + start;
    const pe = this._pos + end;
    let i = this._find(ps);
    let s = segs[i];
    if (pe <= s.start + s.cap) return s.data.subarray(ps - s.start, pe - s.start);
    // spans segments: every byte must be captured
    const out = Buffer.allocUnsafe(end - start);
    let p = ps;
    let o = 0;
    for (;;) {
      const capEnd = s.start + s.cap;
      if (p >= capEnd) return null;
      const hi = pe < capEnd ? pe : capEnd;
      s.data.copy(out, o, p - s.start, hi - s.start);
      o += hi - p;
      if (hi === pe) return out;
      if (capEnd < s.start + s.wire) return null; // gap follows inside this segment
      p = hi;
      s = segs[++i];
    }
  }

  /** timestamp of the segment holding `off`; past the end: the last segment's; empty buffer: 0 */
  tsAt(off: number): number {
    if (this._len === 0) return 0;
    if (off < 0) off = 0;
    if (off >= this._len) return this._segs[this._segs.length - 1].ts;
    return this._segs[this._find(this._pos + off)].ts;
  }

  /** Drop `n` bytes from the head (captured bytes and gaps alike). */
  consume(n: number): void {
    if (n > this._len) n = this._len;
    if (!(n > 0)) return;
    const segs = this._segs;
    const target = this._pos + n;
    let p = this._pos;
    let i = this._first;
    for (;;) {
      const s = segs[i];
      const segEnd = s.start + s.wire;
      const capEnd = s.start + s.cap;
      const hi = target < segEnd ? target : segEnd;
      if (p < capEnd) this._cap -= (hi < capEnd ? hi : capEnd) - p;
      if (target < segEnd) break;
      i++;
      if (target === segEnd) break;
      p = segEnd;
    }
    this._pos = target;
    this._len -= n;
    if (i >= segs.length) {
      segs.length = 0;
      this._first = 0;
    } else if (i >= 64 && i * 2 >= segs.length) {
      segs.splice(0, i);
      this._first = 0;
    } else {
      this._first = i;
    }
    this._hint = this._first;
  }

  /** Drop everything buffered (the position advances; not counted as dropped). */
  clear(): void {
    this.consume(this._len);
  }

  /**
   * Release the captured bytes of `[start, end)`: they become gap (offsets and length do not
   * change). A parser calls this for bytes it has already accounted for and will never read
   * again (e.g. a body whose size is known), so that long messages do not hit the
   * captured-bytes cap. Adjacent all-gap segments ending at or before `end` (other than the head
   * segment) are merged, keeping the later timestamp, so a long message does not hit the segment
   * cap either: `tsAt()` inside such gaps may then return a later timestamp. Call it only for
   * bytes of the message being parsed, whose first byte is in the head segment.
   */
  forget(start: number, end: number): void {
    if (start < 0) start = 0;
    if (end > this._len) end = this._len;
    if (start >= end) return;
    const segs = this._segs;
    const ps = this._pos + start;
    const pe = this._pos + end;
    let i = this._find(ps);
    let touched = false;
    while (i < segs.length) {
      const s = segs[i];
      if (s.start >= pe) break;
      const capEnd = s.start + s.cap;
      const a = ps > s.start ? ps : s.start;
      const b = pe < capEnd ? pe : capEnd;
      if (a < b) {
        touched = true;
        // captured bytes of [a, b) that are still live (at or after the head)
        this._cap -= b - (a > this._pos ? a : this._pos);
        if (b === capEnd) {
          const keep = a - s.start;
          if (keep === 0) s.data = EMPTY;
          else if (s.owned && keep * 2 < s.cap) s.data = Buffer.from(s.data.subarray(0, keep));
          else s.data = s.data.subarray(0, keep);
          s.cap = keep;
        } else {
          // the range ends inside the captured part: split into [captured | gap] + [captured ...]
          const cut = b - s.start;
          const tail: Segment = {
            data: s.data.subarray(cut),
            cap: s.cap - cut,
            wire: s.wire - cut,
            start: b,
            ts: s.ts,
            owned: s.owned,
          };
          s.data = s.data.subarray(0, a - s.start);
          s.cap = a - s.start;
          s.wire = cut;
          segs.splice(i + 1, 0, tail);
          i++;
        }
      }
      i++;
    }
    if (!touched) return;
    // merge runs of fully released segments lying wholly inside the range
    let w = this._first;
    for (let r = this._first; r < segs.length; r++) {
      const s = segs[r];
      const prev = w > this._first ? segs[w - 1] : undefined;
      if (prev !== undefined && prev.cap === 0 && s.cap === 0 && s.start + s.wire <= pe && w - 1 !== this._first) {
        prev.wire += s.wire;
        prev.ts = s.ts;
        continue;
      }
      segs[w++] = s;
    }
    segs.length = w;
    this._hint = this._first;
  }

  private _matchAt(off: number, needle: Buffer): boolean {
    for (let j = 0; j < needle.length; j++) {
      if (this.byteAt(off + j) !== needle[j]) return false;
    }
    return true;
  }

  private _drop(n: number): void {
    if (n > this._len) n = this._len;
    this.consume(n);
    this._dropped += n;
  }

  /** index of the segment holding absolute offset `p` (caller ensures it is in range) */
  private _find(p: number): number {
    const segs = this._segs;
    let i = this._hint;
    if (i < this._first || i >= segs.length) i = this._first;
    let s = segs[i];
    if (p < s.start) {
      do s = segs[--i];
      while (p < s.start);
    } else {
      while (p >= s.start + s.wire) s = segs[++i];
    }
    this._hint = i;
    return i;
  }
}

function positive(v: number | undefined, dflt: number): number {
  return v !== undefined && v > 0 ? v : dflt;
}
