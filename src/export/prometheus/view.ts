/**
 * Prometheus as a view of a {@link MetricStore}: a prom-client `Registry` whose metrics are the
 * store's families, each adapted to prom-client's metric contract (`get()` /
 * `getForPromString()`), so the text exposition is prom-client's own serialiser. Families added
 * to the store after the view was made appear at the next read. Each read runs the families'
 * collect-time callbacks first (the kernel drop counter).
 *
 * Names are the families' `promName`, labels their `labelNames`; a histogram exposes
 * `_bucket{le=…}` (cumulative), `_sum` and `_count` per series observed at least once.
 */
import { Registry } from 'prom-client';
import type { Metric } from 'prom-client';
import type { CounterVec } from '../../telemetry/counter.ts';
import type { GaugeVec } from '../../telemetry/gauge.ts';
import type { HistogramVec } from '../../telemetry/histogram.ts';
import type { MetricStore, StoredFamily } from '../../telemetry/store.ts';

interface ExportValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

interface ExportedMetric {
  name: string;
  help: string;
  type: 'histogram' | 'counter' | 'gauge';
  values: ExportValue[];
  aggregator: 'sum';
}

/** prom-client's metric contract over one family. */
abstract class FamilyAdapter {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: ExportedMetric['type'];
  /** stable label objects per series id: prom-client caches their formatting by identity */
  private _labelObjects: (Record<string, string> | undefined)[] = [];
  private readonly _family: StoredFamily;

  constructor(family: StoredFamily) {
    this._family = family;
    this.name = family.promName;
    this.help = family.help;
    family.index.onRemove((id) => {
      this._labelObjects[id] = undefined;
    });
  }

  /** values with the series labels split off as `sharedLabels` (what the text format uses) */
  getForPromString(): Promise<ExportedMetric> {
    this._family.collect();
    return Promise.resolve(this._export(true));
  }

  /** JSON form: series labels merged into each value's labels */
  get(): Promise<ExportedMetric> {
    this._family.collect();
    return Promise.resolve(this._export(false));
  }

  reset(): void {
    this._family.reset();
  }

  protected abstract _export(shared: boolean): ExportedMetric;

  protected _labelsOf(id: number, values: readonly string[]): Record<string, string> {
    let labels = this._labelObjects[id];
    if (labels === undefined) {
      labels = {};
      const names = this._family.labelNames;
      for (let i = 0; i < names.length; i++) labels[names[i]] = values[i];
      this._labelObjects[id] = labels;
    }
    return labels;
  }
}

class HistogramAdapter extends FamilyAdapter {
  readonly type = 'histogram' as const;
  private readonly _vec: HistogramVec;

  constructor(vec: HistogramVec) {
    super(vec);
    this._vec = vec;
  }

  protected _export(shared: boolean): ExportedMetric {
    const values: ExportValue[] = [];
    const b = this._vec.buckets;
    const nb = b.length;
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    for (const s of this._vec.series()) {
      const series = this._labelsOf(s.id, s.labelValues);
      const withSeries = (extra: Record<string, string | number>, value: number, metricName: string): ExportValue =>
        shared ? { value, labels: extra, sharedLabels: series, metricName } : { value, labels: { ...extra, ...series }, metricName };
      let acc = 0;
      for (let i = 0; i < nb; i++) {
        acc += s.bucketCounts[i];
        values.push(withSeries({ le: b[i] }, acc, bucketName));
      }
      values.push(withSeries({ le: '+Inf' }, s.count, bucketName), withSeries({}, s.sum, sumName), withSeries({}, s.count, countName));
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}

class ValueAdapter extends FamilyAdapter {
  readonly type: 'counter' | 'gauge';
  private readonly _vec: CounterVec | GaugeVec;

  constructor(vec: CounterVec | GaugeVec) {
    super(vec);
    this._vec = vec;
    this.type = vec.kind === 'counter' ? 'counter' : 'gauge';
  }

  protected _export(): ExportedMetric {
    const values: ExportValue[] = [];
    for (const s of this._vec.series()) values.push({ value: s.value, labels: this._labelsOf(s.id, s.labelValues) });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

function adapt(family: StoredFamily): FamilyAdapter {
  return family.kind === 'histogram' ? new HistogramAdapter(family) : new ValueAdapter(family);
}

/**
 * A prom-client registry showing one store: `metrics()` is the text exposition (content type
 * `text/plain; version=0.0.4`), `getMetricsAsJSON()` the JSON form, `resetMetrics()` zeroes
 * the store's series.
 */
export class PrometheusView extends Registry {
  readonly store: MetricStore;
  /** families of the store already registered here (the store only appends) */
  private _synced = 0;

  constructor(store: MetricStore) {
    super();
    this.store = store;
  }

  override getMetricsAsArray(): ReturnType<Registry['getMetricsAsArray']> {
    this._sync();
    return super.getMetricsAsArray();
  }

  override resetMetrics(): void {
    this._sync();
    super.resetMetrics();
  }

  private _sync(): void {
    const families = this.store.families();
    for (; this._synced < families.length; this._synced++) this.registerMetric(adapt(families[this._synced]) as unknown as Metric);
  }
}
