/**
 * A gauge family of the metric store (`store.ts`): one value per series of a {@link SeriesIndex},
 * set (`set`) or moved up and down (`add`). With `upDown: true` it is an up-down counter (OTLP
 * non-monotonic Sum; Prometheus still calls it a gauge). A series exists from its first `set`
 * or `add` (even to 0) until `remove` or expiry; a gauge without labels always has its one series.
 * Series are listed in the order they appeared (a removed and re-added series comes last, as in
 * Prometheus clients), whatever id the index handed out again.
 */
import type { SeriesIndex } from './series.ts';
import { familyFields } from './family.ts';
import type { FamilyTarget, MetricFamily, MetricFamilyOptions } from './family.ts';

export interface GaugeVecOptions extends MetricFamilyOptions {
  /** a sum of increments and decrements (`obi_instrumented_processes`) rather than a sampled value */
  readonly upDown?: boolean;
}

/** One series of a {@link GaugeVec}, copied out for the views. */
export interface GaugeSeriesSnapshot {
  readonly id: number;
  readonly labelValues: readonly string[];
  readonly value: number;
}

const INITIAL_SERIES = 8;

export class GaugeVec implements MetricFamily {
  readonly kind: 'gauge' | 'updowncounter';
  readonly name: string;
  readonly unit: string;
  readonly help: string;
  readonly promName: string;
  readonly labelNames: readonly string[];
  readonly attributes: readonly string[];
  readonly index: SeriesIndex;
  private _values: Float64Array;
  private _present: Uint8Array;
  /** when each present series appeared (listing order) */
  private _since: Float64Array;
  private _appeared = 0;
  private _capacity: number;
  private readonly _collect: (() => void) | undefined;

  constructor(opts: GaugeVecOptions) {
    this.kind = opts.upDown === true ? 'updowncounter' : 'gauge';
    const f = familyFields(this.kind, opts);
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
    this._since = new Float64Array(this._capacity);
    this.index.onRemove((id) => this._forget(id));
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

  /** Set series `id` to `value` (non-finite values are ignored). */
  set(id: number, value: number): void {
    if (!Number.isFinite(value)) return;
    if (id >= this._capacity) this._grow(id + 1);
    this._values[id] = value;
    this._appear(id);
  }

  /** Add `delta` (negative to decrease) to series `id`. */
  add(id: number, delta: number): void {
    if (!Number.isFinite(delta)) return;
    if (id >= this._capacity) this._grow(id + 1);
    this._values[id] += delta;
    this._appear(id);
  }

  private _appear(id: number): void {
    if (this._present[id] === 1) return;
    this._present[id] = 1;
    this._since[id] = this._appeared++;
  }

  /** Remove series `id` from the index (and so from every family sharing it). */
  remove(id: number): void {
    this.index.remove(id);
  }

  /** value of one series, `undefined` if absent */
  value(id: number): number | undefined {
    return id < this._capacity && this._present[id] === 1 ? this._values[id] : undefined;
  }

  /** Copies of the present series (what the views read). */
  series(): GaugeSeriesSnapshot[] {
    const out: GaugeSeriesSnapshot[] = [];
    const n = Math.min(this.index.size, this._capacity);
    let sorted = true;
    for (let id = 0; id < n; id++) {
      if (this._present[id] !== 1) continue;
      if (out.length > 0 && this._since[id] < this._since[out[out.length - 1].id]) sorted = false;
      out.push({ id, labelValues: this.index.valuesOf(id), value: this._values[id] });
    }
    if (!sorted) out.sort((a, b) => this._since[a.id] - this._since[b.id]);
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
    const since = new Float64Array(cap);
    since.set(this._since);
    this._values = values;
    this._present = present;
    this._since = since;
    this._capacity = cap;
  }
}
