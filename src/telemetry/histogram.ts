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

/**
 * Label-value tuples → dense series ids (0, 1, 2, …).
 *
 * Expiry (`prometheus_export.ttl` / `otel_metrics_export.ttl`): every `id()` call stamps the
 * series with {@link SeriesIndex.now} (set by the owner once per batch, so the hot path reads
 * no clock); {@link SeriesIndex.expire} removes the series not stamped since a cutoff from the
 * trie, tells the `onRemove` listeners (the histograms and counters sharing the index zero
 * that series) and hands the id out again later. Memory stays bounded by the live series.
 */
export class SeriesIndex {
  /** number of labels in a tuple */
  readonly width: number;
  /** time stamped on the series looked up by `id()` (ms; any monotonic unit the owner likes) */
  now = 0;
  private _root: Trie = new Map();
  private _values: string[][] = [];
  /** last `now` each id was looked up at */
  private _seen: number[] = [];
  /** false for ids removed by `expire` and not handed out again */
  private _alive: boolean[] = [];
  private _free: number[] = [];
  private _removeListeners: ((id: number) => void)[] = [];

  constructor(width: number) {
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`width must be a non-negative integer, got ${width}`);
    this.width = width;
  }

  /** one past the highest id handed out (ids below it may be free: see `live`) */
  get size(): number {
    return this._values.length;
  }

  /** number of series currently in the index */
  get live(): number {
    return this._values.length - this._free.length;
  }

  /** Label values (as exposed strings) of an id. */
  valuesOf(id: number): readonly string[] {
    return this._values[id];
  }

  /** true if `id` names a series (not expired) */
  has(id: number): boolean {
    return this._alive[id] === true;
  }

  /** Call `fn(id)` whenever a series is removed by `expire` (before its id can be reused). */
  onRemove(fn: (id: number) => void): void {
    this._removeListeners.push(fn);
  }

  /**
   * Id of the tuple `vals[0..width)`, allocated on first sight. Numbers and booleans are
   * keyed by their string form, so `404` and `'404'` are the same series.
   */
  id(vals: readonly LabelValue[]): number {
    const w = this.width;
    let id: number | undefined;
    if (w === 0) {
      id = this._alive[0] === true ? 0 : this._add(vals);
      this._seen[id] = this.now;
      return id;
    }
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
    id = node.get(k) as number | undefined;
    if (id === undefined) {
      id = this._add(vals);
      node.set(k, id);
    }
    this._seen[id] = this.now;
    return id;
  }

  /**
   * Remove every series last looked up before `cutoff` (compared with the stamps of
   * {@link SeriesIndex.now}); returns how many were removed.
   */
  expire(cutoff: number): number {
    let removed = 0;
    const n = this._values.length;
    for (let id = 0; id < n; id++) {
      if (this._alive[id] !== true || this._seen[id] >= cutoff) continue;
      this._remove(id);
      removed++;
    }
    return removed;
  }

  private _remove(id: number): void {
    const vals = this._values[id];
    const w = this.width;
    if (w > 0) {
      // walk down keeping the path, delete the leaf, prune maps left empty
      const path: Trie[] = [this._root];
      let node = this._root;
      for (let i = 0; i < w - 1; i++) {
        node = node.get(vals[i]) as Trie;
        path.push(node);
      }
      path[w - 1].delete(vals[w - 1]);
      for (let i = w - 1; i > 0 && path[i].size === 0; i--) path[i - 1].delete(vals[i - 1]);
    }
    this._alive[id] = false;
    for (const fn of this._removeListeners) fn(id);
    this._free.push(id);
  }

  private _add(vals: readonly LabelValue[]): number {
    const strs: string[] = new Array(this.width);
    for (let i = 0; i < this.width; i++) {
      // Prometheus label values must be valid UTF-8: lone surrogates become U+FFFD
      const s = String(vals[i]) as unknown as WellFormed;
      strs[i] = s.isWellFormed() ? (s as unknown as string) : s.toWellFormed();
    }
    const reused = this._free.pop();
    if (reused !== undefined) {
      this._values[reused] = strs;
      this._alive[reused] = true;
      return reused;
    }
    this._values.push(strs);
    this._alive.push(true);
    this._seen.push(this.now);
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

/** One series of a {@link HistogramVec}, copied out for exporters other than Prometheus (OTLP). */
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
  private _sinks: HistogramSink[] | undefined;

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
    this.index.onRemove((id) => this._forget(id));
  }

  /** An expired series (see {@link SeriesIndex.expire}): zero it so a reused id starts empty. */
  private _forget(id: number): void {
    if (id < this._capacity) {
      const nb = this.buckets.length;
      this._counts.fill(0, id * nb, (id + 1) * nb);
      this._sums[id] = 0;
      this._totals[id] = 0;
    }
    this._labelObjects[id] = undefined as unknown as Record<string, string>;
    if (this._sinks !== undefined) for (const sink of this._sinks) sink.forget?.(id);
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
    const sinks = this._sinks;
    if (sinks !== undefined) for (let k = 0; k < sinks.length; k++) sinks[k].observe(id, value);
  }

  /** Forward every later observation to `sink` as well (one call per observation). */
  addSink(sink: HistogramSink): void {
    (this._sinks ??= []).push(sink);
  }

  /** Copies of the series observed at least once (the OTLP exporter's view of this histogram). */
  series(): HistogramSeriesSnapshot[] {
    const out: HistogramSeriesSnapshot[] = [];
    const nb = this.buckets.length;
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

  /** Zero every series (prom-client `Registry.resetMetrics` calls this). */
  reset(): void {
    this._counts.fill(0);
    this._sums.fill(0);
    this._totals.fill(0);
    if (this._sinks !== undefined) for (const sink of this._sinks) sink.reset?.();
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
