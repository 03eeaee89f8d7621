/**
 * A counter family of the metric store (`store.ts`) for the hot path, the counterpart of
 * {@link HistogramVec}: series are dense ids of a shared {@link SeriesIndex} (one label lookup
 * serves every metric of a label list) and an increment is one array add. Series expired by the
 * index (`SeriesIndex.expire`) are zeroed and stop being exposed.
 */
import type { SeriesIndex } from './series.ts';
import { familyFields } from './family.ts';
import type { FamilyTarget, MetricFamily, MetricFamilyOptions } from './family.ts';

/**
 * `name` is the OTel name (`traces.span.metrics.calls`); the Prometheus name gets its `_total`
 * from the naming rule (see {@link prometheusName}).
 */
export type CounterVecOptions = MetricFamilyOptions;

/** One series of a {@link CounterVec}, copied out for the views (Prometheus, OTLP). */
export interface CounterSeriesSnapshot {
  readonly id: number;
  /** label values, in `labelNames` order */
  readonly labelValues: readonly string[];
  readonly value: number;
}

const INITIAL_SERIES = 8;

export class CounterVec implements MetricFamily {
  readonly kind = 'counter' as const;
  readonly name: string;
  readonly unit: string;
  readonly help: string;
  readonly promName: string;
  readonly labelNames: readonly string[];
  readonly attributes: readonly string[];
  readonly index: SeriesIndex;
  private _values: Float64Array;
  /** 1 once a series was incremented (even by 0): exposed from then on */
  private _present: Uint8Array;
  private _capacity: number;
  private readonly _collect: (() => void) | undefined;

  constructor(opts: CounterVecOptions) {
    const f = familyFields('counter', opts);
    this.name = f.name;
    this.unit = f.unit;
    this.help = f.help;
    this.promName = f.promName;
    this.labelNames = f.labelNames;
    this.attributes = f.attributes;
    this.index = opts.index;
    this._collect = opts.collect;
    this._capacity = INITIAL_SERIES;
    this._values = new Float64Array(this._capacity);
    this._present = new Uint8Array(this._capacity);
    this.index.onRemove((id) => this._forget(id));
    // a family without labels has its one series from the start, at 0 (as Prometheus clients do)
    if (this.index.width === 0) this._present[this.index.id([])] = 1;
  }

  /** Add to a store (where the exporters' views find it); returns this. */
  registerIn(store: FamilyTarget): this {
    store.add(this);
    return this;
  }

  collect(): void {
    this._collect?.();
  }

  /** Add `value` (default 1) to series `id`; negative and non-finite values are ignored. */
  inc(id: number, value = 1): void {
    if (!(value >= 0) || value === Infinity) return;
    if (id >= this._capacity) this._grow(id + 1);
    this._values[id] += value;
    this._present[id] = 1;
  }

  /**
   * Set series `id` to an absolute total read from elsewhere (an observable counter, set from a
   * `collect` callback: counts kept by ingest); negative and non-finite values are ignored.
   */
  setTotal(id: number, total: number): void {
    if (!(total >= 0) || total === Infinity) return;
    if (id >= this._capacity) this._grow(id + 1);
    this._values[id] = total;
    this._present[id] = 1;
  }

  /** value of one series, `undefined` if it was never incremented (tests, self-checks) */
  value(id: number): number | undefined {
    return id < this._capacity && this._present[id] === 1 ? this._values[id] : undefined;
  }

  /** Copies of the series incremented at least once (what the views read). */
  series(): CounterSeriesSnapshot[] {
    const out: CounterSeriesSnapshot[] = [];
    const n = Math.min(this.index.size, this._capacity);
    for (let id = 0; id < n; id++) {
      if (this._present[id] === 1) out.push({ id, labelValues: this.index.valuesOf(id), value: this._values[id] });
    }
    return out;
  }

  /** Zero every series. */
  reset(): void {
    this._values.fill(0);
    this._present.fill(0);
    if (this.index.width === 0) this._present[0] = 1;
  }

  private _forget(id: number): void {
    if (id < this._capacity) {
      this._values[id] = 0;
      this._present[id] = 0;
    }
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
