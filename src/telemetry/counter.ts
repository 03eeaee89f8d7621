/**
 * A Prometheus counter family for the hot path, the counterpart of {@link HistogramVec}: series
 * are dense ids of a shared {@link SeriesIndex} (one label lookup serves every metric of a label
 * list), an increment is one array add, and the family registers in a prom-client `Registry`
 * through the same `get()` / `getForPromString()` contract. Series expired by the index
 * (`SeriesIndex.expire`) are zeroed and stop being exposed.
 */
import type { Metric } from 'prom-client';
import type { SeriesIndex } from './histogram.ts';

export interface CounterVecOptions {
  /** exposed name, `_total` included (OBI's names carry it) */
  readonly name: string;
  readonly help: string;
  /** Prometheus label names, in the order of the index's tuples */
  readonly labelNames: readonly string[];
  readonly index: SeriesIndex;
}

/** One series of a {@link CounterVec}, copied out for exporters other than Prometheus (OTLP). */
export interface CounterSeriesSnapshot {
  readonly id: number;
  /** label values, in `labelNames` order */
  readonly labelValues: readonly string[];
  readonly value: number;
}

interface ExportValue {
  value: number;
  labels: Record<string, string>;
}

const INITIAL_SERIES = 8;

export class CounterVec {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  readonly index: SeriesIndex;
  private _values: Float64Array;
  /** 1 once a series was incremented (even by 0): exposed from then on */
  private _present: Uint8Array;
  private _capacity: number;
  /** stable label objects per series: prom-client caches their formatting by identity */
  private _labelObjects: (Record<string, string> | undefined)[] = [];

  constructor(opts: CounterVecOptions) {
    if (opts.labelNames.length !== opts.index.width) {
      throw new RangeError(`${opts.name}: ${opts.labelNames.length} label names for an index of width ${opts.index.width}`);
    }
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = [...opts.labelNames];
    this.index = opts.index;
    this._capacity = INITIAL_SERIES;
    this._values = new Float64Array(this._capacity);
    this._present = new Uint8Array(this._capacity);
    this.index.onRemove((id) => this._forget(id));
  }

  /** Register in a prom-client registry (which serialises it like its own counters). */
  registerIn(registry: { registerMetric(metric: Metric): void }): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  /** Add `value` (default 1) to series `id`; negative and non-finite values are ignored. */
  inc(id: number, value = 1): void {
    if (!(value >= 0) || value === Infinity) return;
    if (id >= this._capacity) this._grow(id + 1);
    this._values[id] += value;
    this._present[id] = 1;
  }

  /** value of one series, `undefined` if it was never incremented (tests, self-checks) */
  value(id: number): number | undefined {
    return id < this._capacity && this._present[id] === 1 ? this._values[id] : undefined;
  }

  /** Copies of the series incremented at least once (the OTLP exporter's view). */
  series(): CounterSeriesSnapshot[] {
    const out: CounterSeriesSnapshot[] = [];
    const n = Math.min(this.index.size, this._capacity);
    for (let id = 0; id < n; id++) {
      if (this._present[id] === 1) out.push({ id, labelValues: this.index.valuesOf(id), value: this._values[id] });
    }
    return out;
  }

  /** Zero every series (prom-client `Registry.resetMetrics` calls this). */
  reset(): void {
    this._values.fill(0);
    this._present.fill(0);
  }

  getForPromString(): Promise<{ name: string; help: string; type: 'counter'; values: ExportValue[]; aggregator: 'sum' }> {
    return Promise.resolve(this._export());
  }

  get(): Promise<{ name: string; help: string; type: 'counter'; values: ExportValue[]; aggregator: 'sum' }> {
    return Promise.resolve(this._export());
  }

  private _export(): { name: string; help: string; type: 'counter'; values: ExportValue[]; aggregator: 'sum' } {
    const values: ExportValue[] = [];
    const n = Math.min(this.index.size, this._capacity);
    for (let id = 0; id < n; id++) {
      if (this._present[id] === 1) values.push({ value: this._values[id], labels: this._labelsOf(id) });
    }
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
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

  private _forget(id: number): void {
    if (id < this._capacity) {
      this._values[id] = 0;
      this._present[id] = 0;
    }
    this._labelObjects[id] = undefined;
  }

  private _grow(min: number): void {
    let cap = this._capacity * 2;
    while (cap < min) cap *= 2;
    const values = new Float64Array(cap);
    values.set(this._values);
    const present = new Uint8Array(cap);
    present.set(this._present);
    this._values = values;
    this._present = present;
    this._capacity = cap;
  }
}
