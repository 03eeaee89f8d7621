/**
 * A Prometheus histogram family built for the hot path, registered in a prom-client
 * `Registry` as a regular metric (it implements the `get()` / `getForPromString()`
 * contract the registry serialises, so the exposition is the registry's own).
 *
 * Why not prom-client's `Histogram`: its `labels(...).observe(v)` builds a label object,
 * validates it and hashes it into a string on every observation. Here a label set is
 * resolved once per record to a dense series id by {@link SeriesIndex} (a trie of Maps
 * keyed by label values: no allocation when the series exists), and the observation is
 * a bucket search plus three array increments. Several histograms with the same label
 * list share one index, so one lookup serves them all.
 */
import type { Metric } from 'prom-client';

export type LabelValue = string | number | boolean;

type Trie = Map<string, Trie | number>;

/** ES2024 string methods (the project's lib is ES2023; Node 24 has them) */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** Label-value tuples → dense series ids (0, 1, 2, …). */
export class SeriesIndex {
  /** number of labels in a tuple */
  readonly width: number;
  private _root: Trie = new Map();
  private _values: string[][] = [];

  constructor(width: number) {
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`width must be a non-negative integer, got ${width}`);
    this.width = width;
  }

  /** number of ids handed out */
  get size(): number {
    return this._values.length;
  }

  /** Label values (as exposed strings) of an id. */
  valuesOf(id: number): readonly string[] {
    return this._values[id];
  }

  /**
   * Id of the tuple `vals[0..width)`, allocated on first sight. Numbers and booleans are
   * keyed by their string form, so `404` and `'404'` are the same series.
   */
  id(vals: readonly LabelValue[]): number {
    const w = this.width;
    if (w === 0) return this._values.length === 0 ? this._add(vals) : 0;
    let node = this._root;
    for (let i = 0; i < w - 1; i++) {
      const v = vals[i];
      const k = typeof v === 'string' ? v : String(v);
      let next = node.get(k) as Trie | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(k, next);
      }
      node = next;
    }
    const v = vals[w - 1];
    const k = typeof v === 'string' ? v : String(v);
    let id = node.get(k) as number | undefined;
    if (id === undefined) {
      id = this._add(vals);
      node.set(k, id);
    }
    return id;
  }

  private _add(vals: readonly LabelValue[]): number {
    const strs: string[] = new Array(this.width);
    for (let i = 0; i < this.width; i++) {
      // Prometheus label values must be valid UTF-8: lone surrogates become U+FFFD
      const s = String(vals[i]) as unknown as WellFormed;
      strs[i] = s.isWellFormed() ? (s as unknown as string) : s.toWellFormed();
    }
    this._values.push(strs);
    return this._values.length - 1;
  }
}

export interface HistogramVecOptions {
  readonly name: string;
  readonly help: string;
  /** Prometheus label names, in the order of the index's tuples */
  readonly labelNames: readonly string[];
  /** upper bounds, strictly increasing (the `+Inf` bucket is implicit) */
  readonly buckets: readonly number[];
  readonly index: SeriesIndex;
}

interface ExportValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName: string;
}

export interface ExportedMetric {
  name: string;
  help: string;
  type: 'histogram';
  values: ExportValue[];
  aggregator: 'sum';
}

const INITIAL_SERIES = 8;

export class HistogramVec {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly index: SeriesIndex;
  /** per series, `buckets.length` non-cumulative counts (values above the last bound only count in `+Inf`) */
  private _counts: Float64Array;
  private _sums: Float64Array;
  private _totals: Float64Array;
  private _capacity: number;
  /** stable label objects per series: prom-client caches their formatting by identity */
  private _labelObjects: Record<string, string>[] = [];

  constructor(opts: HistogramVecOptions) {
    if (opts.labelNames.length !== opts.index.width) {
      throw new RangeError(`${opts.name}: ${opts.labelNames.length} label names for an index of width ${opts.index.width}`);
    }
    for (let i = 0; i < opts.buckets.length; i++) {
      if (!Number.isFinite(opts.buckets[i]) || (i > 0 && opts.buckets[i] <= opts.buckets[i - 1])) {
        throw new RangeError(`${opts.name}: buckets must be finite and strictly increasing`);
      }
    }
    if (opts.labelNames.includes('le')) throw new RangeError(`${opts.name}: 'le' is a reserved label name`);
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = [...opts.labelNames];
    this.buckets = [...opts.buckets];
    this.index = opts.index;
    this._capacity = INITIAL_SERIES;
    this._counts = new Float64Array(this._capacity * this.buckets.length);
    this._sums = new Float64Array(this._capacity);
    this._totals = new Float64Array(this._capacity);
  }

  /** Register in a prom-client registry (which serialises it like its own histograms). */
  registerIn(registry: { registerMetric(metric: Metric): void }): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
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
  }

  /** count and sum of one series (tests, self-checks) */
  snapshot(id: number): { count: number; sum: number } {
    if (id >= this._capacity) return { count: 0, sum: 0 };
    return { count: this._totals[id], sum: this._sums[id] };
  }

  /** Zero every series (prom-client `Registry.resetMetrics` calls this). */
  reset(): void {
    this._counts.fill(0);
    this._sums.fill(0);
    this._totals.fill(0);
  }

  /** prom-client contract: values with the series labels split off as `sharedLabels`. */
  getForPromString(): Promise<ExportedMetric> {
    return Promise.resolve(this._export(true));
  }

  /** prom-client contract (JSON form): series labels merged into each value's labels. */
  get(): Promise<ExportedMetric> {
    return Promise.resolve(this._export(false));
  }

  private _export(shared: boolean): ExportedMetric {
    const values: ExportValue[] = [];
    const b = this.buckets;
    const nb = b.length;
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const n = Math.min(this.index.size, this._capacity);
    for (let id = 0; id < n; id++) {
      const total = this._totals[id];
      if (total === 0) continue; // never observed (or reset): not exposed, as prom-client does
      const series = this._labelsOf(id);
      const withSeries = (extra: Record<string, string | number>): ExportValue =>
        shared ? { value: 0, labels: extra, sharedLabels: series, metricName: '' } : { value: 0, labels: { ...extra, ...series }, metricName: '' };
      let acc = 0;
      for (let i = 0; i < nb; i++) {
        acc += this._counts[id * nb + i];
        const v = withSeries({ le: b[i] });
        v.value = acc;
        v.metricName = bucketName;
        values.push(v);
      }
      const inf = withSeries({ le: '+Inf' });
      inf.value = total;
      inf.metricName = bucketName;
      const sum = withSeries({});
      sum.value = this._sums[id];
      sum.metricName = sumName;
      const count = withSeries({});
      count.value = total;
      count.metricName = countName;
      values.push(inf, sum, count);
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  private _labelsOf(id: number): Record<string, string> {
    let labels = this._labelObjects[id];
    if (labels === undefined) {
      labels = {};
      const vals = this.index.valuesOf(id);
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]] = vals[i];
      this._labelObjects[id] = labels;
    }
    return labels;
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
