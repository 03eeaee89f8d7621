/**
 * Base-2 exponential histograms (OTel metrics data model, "ExponentialHistogram"), the
 * aggregation behind `otel_metrics_export.histogram_aggregation:
 * base2_exponential_bucket_histogram` (OBI: max_size 160, max_scale 20).
 *
 * At scale `s` the base is `2^(2^-s)` and bucket `i` holds the values in `(base^i, base^(i+1)]`.
 * A histogram starts at `maxScale` and halves its resolution (scale − 1, indexes `>> 1`) as
 * often as needed to keep the populated index range within `maxSize` buckets. Zero goes to
 * the zero bucket; negative and non-finite values are ignored (durations and sizes only).
 */
import type { HistogramSink, SeriesIndex } from '../../telemetry/histogram.ts';

export const DEFAULT_MAX_SIZE = 160;
export const DEFAULT_MAX_SCALE = 20;
/** the spec's lowest scale: indexes of every finite double fit in 160 buckets well before it */
const MIN_SCALE = -10;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// little-endian hosts (x86-64, arm64): word 1 holds the sign, exponent and top mantissa bits
const HI = 1;
const LO = 0;

/** Index of the bucket holding `v` (> 0, finite) at `scale`. */
export function mapToIndex(v: number, scale: number): number {
  f64[0] = v;
  const hi = u32[HI];
  const expBits = (hi >>> 20) & 0x7ff;
  const exact = (hi & 0xfffff) === 0 && u32[LO] === 0 && expBits !== 0;
  // unbiased exponent; subnormals are treated as the smallest normal (far below any duration)
  const e = expBits === 0 ? -1022 : expBits - 1023;
  if (scale <= 0) {
    // an exact power of two is the (inclusive) upper bound of the bucket below
    const idx0 = exact ? e - 1 : e;
    return idx0 >> -scale;
  }
  if (exact) return (e << scale) - 1;
  return Math.ceil(Math.log(v) * (2 ** scale / Math.LN2)) - 1;
}

/** Lower bound of bucket `index` at `scale` (tests, debugging). */
export function lowerBoundary(index: number, scale: number): number {
  return 2 ** (index * 2 ** -scale);
}

export interface ExponentialHistogramValue {
  readonly count: number;
  readonly sum: number;
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly bucketCounts: number[] };
  readonly negative: { readonly offset: number; readonly bucketCounts: number[] };
  readonly min?: number;
  readonly max?: number;
}

export class ExponentialHistogram {
  readonly maxSize: number;
  private _scale: number;
  private _count = 0;
  private _sum = 0;
  private _zero = 0;
  private _min = Infinity;
  private _max = -Infinity;
  /** index of `_buckets[0]`; meaningful when `_buckets.length > 0` */
  private _start = 0;
  private _buckets: number[] = [];

  constructor(maxSize = DEFAULT_MAX_SIZE, maxScale = DEFAULT_MAX_SCALE) {
    if (!Number.isInteger(maxSize) || maxSize < 2) throw new RangeError(`maxSize must be an integer >= 2, got ${maxSize}`);
    if (!Number.isInteger(maxScale) || maxScale < MIN_SCALE || maxScale > 20) throw new RangeError(`maxScale must be an integer in [${MIN_SCALE}, 20], got ${maxScale}`);
    this.maxSize = maxSize;
    this._scale = maxScale;
  }

  get scale(): number {
    return this._scale;
  }

  get count(): number {
    return this._count;
  }

  record(v: number): void {
    if (!(v >= 0) || v === Infinity) return;
    this._count++;
    this._sum += v;
    if (v < this._min) this._min = v;
    if (v > this._max) this._max = v;
    if (v === 0) {
      this._zero++;
      return;
    }
    let idx = mapToIndex(v, this._scale);
    const b = this._buckets;
    if (b.length === 0) {
      this._start = idx;
      b.push(1);
      return;
    }
    const end = this._start + b.length - 1;
    const lo = Math.min(this._start, idx);
    const hi = Math.max(end, idx);
    if (hi - lo + 1 > this.maxSize) {
      let change = 0;
      while ((hi >> change) - (lo >> change) + 1 > this.maxSize) change++;
      idx >>= this._downscale(change);
    }
    this._add(idx);
  }

  /** Copy for export (offsets and counts as OTLP wants them). */
  value(): ExponentialHistogramValue {
    return {
      count: this._count,
      sum: this._sum,
      scale: this._scale,
      zeroCount: this._zero,
      positive: { offset: this._buckets.length > 0 ? this._start : 0, bucketCounts: [...this._buckets] },
      negative: { offset: 0, bucketCounts: [] },
      min: this._count > 0 ? this._min : undefined,
      max: this._count > 0 ? this._max : undefined,
    };
  }

  reset(): void {
    this._count = 0;
    this._sum = 0;
    this._zero = 0;
    this._min = Infinity;
    this._max = -Infinity;
    this._buckets = [];
  }

  private _add(idx: number): void {
    const b = this._buckets;
    if (idx < this._start) {
      const grow = this._start - idx;
      const next = new Array<number>(grow + b.length).fill(0);
      for (let i = 0; i < b.length; i++) next[grow + i] = b[i];
      next[0] = 1;
      this._buckets = next;
      this._start = idx;
      return;
    }
    const pos = idx - this._start;
    while (b.length <= pos) b.push(0);
    b[pos]++;
  }

  /** Lower the scale by `change` (bounded by the minimum scale); returns the change applied. */
  private _downscale(change: number): number {
    if (this._scale - change < MIN_SCALE) change = this._scale - MIN_SCALE;
    if (change <= 0) return 0;
    const b = this._buckets;
    const start = this._start >> change;
    const end = (this._start + b.length - 1) >> change;
    const next = new Array<number>(end - start + 1).fill(0);
    for (let i = 0; i < b.length; i++) next[((this._start + i) >> change) - start] += b[i];
    this._buckets = next;
    this._start = start;
    this._scale -= change;
    return change;
  }
}

/**
 * Exponential histograms keyed by the series ids of a {@link SeriesIndex}: attached as a sink
 * to a `HistogramVec`, it sees the same observations with the same label sets.
 */
export class ExponentialHistogramVec implements HistogramSink {
  readonly index: SeriesIndex;
  readonly maxSize: number;
  readonly maxScale: number;
  private _series: (ExponentialHistogram | undefined)[] = [];

  constructor(index: SeriesIndex, maxSize = DEFAULT_MAX_SIZE, maxScale = DEFAULT_MAX_SCALE) {
    this.index = index;
    this.maxSize = maxSize;
    this.maxScale = maxScale;
  }

  observe(id: number, value: number): void {
    let h = this._series[id];
    if (h === undefined) {
      h = new ExponentialHistogram(this.maxSize, this.maxScale);
      this._series[id] = h;
    }
    h.record(value);
  }

  reset(): void {
    for (const h of this._series) h?.reset();
  }

  /** The series expired (TTL): its id may come back for another label set, empty. */
  forget(id: number): void {
    this._series[id] = undefined;
  }

  /** Series observed at least once: id, label values and a copy of the histogram. */
  series(): { id: number; labelValues: readonly string[]; value: ExponentialHistogramValue }[] {
    const out: { id: number; labelValues: readonly string[]; value: ExponentialHistogramValue }[] = [];
    for (let id = 0; id < this._series.length; id++) {
      const h = this._series[id];
      if (h === undefined || h.count === 0) continue;
      out.push({ id, labelValues: this.index.valuesOf(id), value: h.value() });
    }
    return out;
  }
}
