/**
 * A histogram family of the metric store (`store.ts`), built for the hot path.
 *
 * Why not prom-client's `Histogram`: its `labels(...).observe(v)` builds a label object,
 * validates it and hashes it into a string on every observation. Here a label set is
 * resolved once per record to a dense series id by {@link SeriesIndex} (a trie of Maps
 * keyed by label values: no allocation when the series exists), and the observation is
 * a bucket search plus three array increments. Several histograms with the same label
 * list share one index, so one lookup serves them all.
 *
 * Exporter-neutral: views read {@link HistogramVec.series} (Prometheus in
 * `export/prometheus/`, OTLP in `export/otlp/metrics.ts`).
 */
import { SeriesIndex } from './series.ts';
import type { LabelValue } from './series.ts';
import { familyFields } from './family.ts';
import type { FamilyTarget, MetricFamily, MetricFamilyOptions } from './family.ts';

export { SeriesIndex };
export type { LabelValue };

export interface HistogramVecOptions extends MetricFamilyOptions {
  /** upper bounds, strictly increasing (the `+Inf` bucket is implicit) */
  readonly buckets: readonly number[];
}

/**
 * Receives every accepted observation of a {@link HistogramVec} (after its own recording), for
 * exporters that aggregate differently (OTLP exponential histograms, other bucket layouts).
 */
export interface HistogramSink {
  observe(id: number, value: number): void;
  reset?(): void;
  /** the series `id` expired; the id may be reused for another label set */
  forget?(id: number): void;
}

/** One series of a {@link HistogramVec}, copied out for the views (Prometheus, OTLP). */
export interface HistogramSeriesSnapshot {
  /** series id in the vec's {@link SeriesIndex} */
  readonly id: number;
  /** label values, in `labelNames` order */
  readonly labelValues: readonly string[];
  /** `buckets.length + 1` non-cumulative counts; the last one counts values above the last bound */
  readonly bucketCounts: number[];
  readonly sum: number;
  readonly count: number;
}

const INITIAL_SERIES = 8;

export class HistogramVec implements MetricFamily {
  readonly kind = 'histogram' as const;
  readonly name: string;
  readonly unit: string;
  readonly help: string;
  readonly promName: string;
  readonly labelNames: readonly string[];
  readonly attributes: readonly string[];
  readonly buckets: readonly number[];
  readonly index: SeriesIndex;
  /** per series, `buckets.length` non-cumulative counts (values above the last bound only count in `+Inf`) */
  private _counts: Float64Array;
  private _sums: Float64Array;
  private _totals: Float64Array;
  private _capacity: number;
  private _sinks: HistogramSink[] | undefined;
  private readonly _collect: (() => void) | undefined;

  constructor(opts: HistogramVecOptions) {
    const f = familyFields('histogram', opts);
    for (let i = 0; i < opts.buckets.length; i++) {
      if (!Number.isFinite(opts.buckets[i]) || (i > 0 && opts.buckets[i] <= opts.buckets[i - 1])) {
        throw new RangeError(`${opts.name}: buckets must be finite and strictly increasing`);
      }
    }
    if (opts.labelNames.includes('le')) throw new RangeError(`${opts.name}: 'le' is a reserved label name`);
    this.name = f.name;
    this.unit = f.unit;
    this.help = f.help;
    this.promName = f.promName;
    this.labelNames = f.labelNames;
    this.attributes = f.attributes;
    this.buckets = [...opts.buckets];
    this.index = opts.index;
    this._collect = opts.collect;
    this._capacity = INITIAL_SERIES;
    this._counts = new Float64Array(this._capacity * this.buckets.length);
    this._sums = new Float64Array(this._capacity);
    this._totals = new Float64Array(this._capacity);
    this.index.onRemove((id) => this._forget(id));
    // a family without labels has its one series from the start (as Prometheus clients do)
    if (this.index.width === 0) this.index.id([]);
  }

  /** An expired series (see {@link SeriesIndex.expire}): zero it so a reused id starts empty. */
  private _forget(id: number): void {
    if (id < this._capacity) {
      const nb = this.buckets.length;
      this._counts.fill(0, id * nb, (id + 1) * nb);
      this._sums[id] = 0;
      this._totals[id] = 0;
    }
    if (this._sinks !== undefined) for (const sink of this._sinks) sink.forget?.(id);
  }

  /** Add to a store (where the exporters' views find it); returns this. */
  registerIn(store: FamilyTarget): this {
    store.add(this);
    return this;
  }

  collect(): void {
    this._collect?.();
  }

  /** Record `value` in series `id` (from `index.id(...)`); non-finite values are ignored. */
  observe(id: number, value: number): void {
    if (!Number.isFinite(value)) return;
    if (id >= this._capacity) this._grow(id + 1);
    const b = this.buckets;
    const nb = b.length;
    let i = 0;
    while (i < nb && value > b[i]) i++;
    if (i < nb) this._counts[id * nb + i] += 1;
    this._sums[id] += value;
    this._totals[id] += 1;
    const sinks = this._sinks;
    if (sinks !== undefined) for (let k = 0; k < sinks.length; k++) sinks[k].observe(id, value);
  }

  /** Forward every later observation to `sink` as well (one call per observation). */
  addSink(sink: HistogramSink): void {
    (this._sinks ??= []).push(sink);
  }

  /**
   * Copies of the series observed at least once (what the views read); a family without
   * labels always has its one series, observed or not.
   */
  series(): HistogramSeriesSnapshot[] {
    const out: HistogramSeriesSnapshot[] = [];
    const nb = this.buckets.length;
    if (this.index.width === 0 && this._totals[0] === 0) {
      out.push({ id: 0, labelValues: this.index.valuesOf(0), bucketCounts: new Array<number>(nb + 1).fill(0), sum: 0, count: 0 });
      return out;
    }
    const n = Math.min(this.index.size, this._capacity);
    for (let id = 0; id < n; id++) {
      const count = this._totals[id];
      if (count === 0) continue;
      const bucketCounts: number[] = new Array(nb + 1);
      let inBounds = 0;
      for (let i = 0; i < nb; i++) {
        const c = this._counts[id * nb + i];
        bucketCounts[i] = c;
        inBounds += c;
      }
      bucketCounts[nb] = count - inBounds;
      out.push({ id, labelValues: this.index.valuesOf(id), bucketCounts, sum: this._sums[id], count });
    }
    return out;
  }

  /** count and sum of one series (tests, self-checks) */
  snapshot(id: number): { count: number; sum: number } {
    if (id >= this._capacity) return { count: 0, sum: 0 };
    return { count: this._totals[id], sum: this._sums[id] };
  }

  /** Zero every series. */
  reset(): void {
    this._counts.fill(0);
    this._sums.fill(0);
    this._totals.fill(0);
    if (this._sinks !== undefined) for (const sink of this._sinks) sink.reset?.();
  }

  private _grow(min: number): void {
    let cap = this._capacity * 2;
    while (cap < min) cap *= 2;
    const nb = this.buckets.length;
    const counts = new Float64Array(cap * nb);
    counts.set(this._counts);
    const sums = new Float64Array(cap);
    sums.set(this._sums);
    const totals = new Float64Array(cap);
    totals.set(this._totals);
    this._counts = counts;
    this._sums = sums;
    this._totals = totals;
    this._capacity = cap;
  }
}
