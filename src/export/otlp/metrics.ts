// Over 400 lines: one exporter: collection of every family, temporality, resources, and its send loop.
/**
 * OTLP export of the metric store's families every `otel_metrics_export.interval`: a view of the
 * store, like the Prometheus one.
 *
 * Each export reads a snapshot of the families (no second recording) and sends, per service
 * instance, one request with its own resource (OBI's per-service meter providers), OBI's scope,
 * the families' own OTel names (`http.server.request.duration`, …) and units (`s`, `By`), and
 * cumulative temporality.
 *
 * Only when the OTLP histograms differ from the store's is anything recorded again: with
 * `histogram_aggregation: base2_exponential_bucket_histogram` (exponential histograms, max size
 * 160, max scale 20), or with `otel_metrics_export.buckets` other than the store's buckets.
 * Those aggregate the same observations as sinks of the store's histograms, keyed by the same
 * series ids.
 *
 * Data-point attributes are the family's attributes minus the Prometheus-only `job` and
 * `instance` (OTLP carries the service identity in the resource, and, like OBI,
 * `service.name` / `service.namespace` on the points too). Numeric attributes
 * (`http.response.status_code`, `server.port`) go out as integers.
 *
 * The HTTP (RED) histograms are exported by default; other families (DB, span metrics, service
 * graph, `traces_target_info`) are added with `addHistogram` / `addCounter` / `addGauge`:
 * counters go out as cumulative monotonic integer Sums, gauges as integer Gauges. A family
 * whose labels do not carry the service instance (the service graph) says which service owns
 * each series.
 */
import { ValueType } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ServiceIdentity } from '../../common/service.ts';
import type { CounterVec } from '../../telemetry/counter.ts';
import { HistogramVec } from '../../telemetry/histogram.ts';
import { ATTR_INSTANCE, ATTR_JOB } from '../../telemetry/metrics.ts';
import type { RedMetrics } from '../../telemetry/metrics.ts';
import { OBI_SCOPE } from './convert.ts';
import type { ResourceCache } from './convert.ts';
import { ExponentialHistogramVec } from './exponential.ts';
import { exportErrorType } from './self-metrics.ts';
import type { OtlpExportMetrics } from './self-metrics.ts';
import type { ExportLogger } from './traces.ts';
import type { OtlpSender } from './transport.ts';

export type HistogramAggregation = 'explicit_bucket_histogram' | 'base2_exponential_bucket_histogram';

export interface OtlpBuckets {
  readonly duration?: readonly number[];
  readonly requestSize?: readonly number[];
  readonly responseSize?: readonly number[];
}

export interface OtlpMetricsExporterOptions {
  readonly sender: OtlpSender<ResourceMetrics>;
  readonly metrics: RedMetrics;
  readonly resources: ResourceCache;
  /** export period; default 60000 */
  readonly intervalMs?: number;
  /** default explicit */
  readonly aggregation?: HistogramAggregation;
  /** explicit bucket bounds for OTLP; default: the Prometheus histograms' own */
  readonly buckets?: OtlpBuckets;
  /** exponential histograms: default 160 / 20 */
  readonly exponentialMaxSize?: number;
  readonly exponentialMaxScale?: number;
  /** `otel_metrics_export.instrumentations`; the HTTP metrics need `http` or `*`; default `*` */
  readonly instrumentations?: readonly string[];
  /** export the HTTP (RED) histograms of `metrics` (the `application` feature); default true */
  readonly application?: boolean;
  readonly selfMetrics?: OtlpExportMetrics;
  readonly log?: ExportLogger;
  readonly endpoint?: string;
  /** wall clock in ms; default `Date.now` */
  readonly wallMs?: () => number;
}

export interface MetricExportStats {
  /** export rounds (one per interval, plus the final one) */
  readonly rounds: number;
  /** requests sent / failed (one per service per round) */
  readonly requests: number;
  readonly errors: number;
  /** rounds skipped because the previous one was still in flight */
  readonly skipped: number;
}

/** Attributes sent as integers when their (string) label value is one. */
const INT_ATTRIBUTES = new Set(['http.response.status_code', 'server.port', 'client.port', 'rpc.grpc.status_code']);
const PROM_ONLY = new Set([ATTR_JOB, ATTR_INSTANCE]);

type Source =
  | { readonly kind: 'family'; readonly vec: HistogramVec }
  | { readonly kind: 'explicit'; readonly vec: HistogramVec }
  | { readonly kind: 'exponential'; readonly vec: ExponentialHistogramVec }
  | { readonly kind: 'counter'; readonly vec: CounterVec };

/**
 * The service a series belongs to (its resource), for families whose labels carry no
 * `instance` / `service.instance.id`; undefined = decide from the labels as usual.
 */
export type SeriesOwner = (id: number, labelValues: readonly string[]) => ServiceIdentity | undefined;

/**
 * How a family of the store goes out: its name, unit and attributes are the family's own; the
 * rest is OTLP policy. (`name`, `unit`, `attributes` override the family's, for families
 * declared with Prometheus names only.)
 */
interface FamilyOptions {
  /** OTel metric name; default the family's */
  readonly name?: string;
  /** UCUM unit ('' = none); default the family's */
  readonly unit?: string;
  /** default '' */
  readonly description?: string;
  /**
   * attribute name (dot form) of each label of the vec, in label order; default the family's.
   * `job` / `instance` and undefined entries are not sent
   */
  readonly attributes?: readonly (string | undefined)[];
  /** attributes of the family not sent over OTLP (besides `job` / `instance`) */
  readonly drop?: readonly string[];
  /** attributes added to every point (OBI's `host.id` on span metrics) */
  readonly constAttributes?: Attributes;
  /** attributes left out of a point when their value is '' (`connection_type`) */
  readonly omitEmpty?: readonly string[];
  readonly owner?: SeriesOwner;
}

/** A counter to export as a cumulative monotonic Sum. */
export interface OtlpCounterSource extends FamilyOptions {
  readonly vec: CounterVec;
}

/** One point of an exported gauge. */
export interface OtlpGaugePoint {
  readonly service: ServiceIdentity;
  readonly attributes: Attributes;
  readonly value: number;
}

/** A gauge read at each collection (`traces_target_info`): integer points, one resource per service. */
export interface OtlpGaugeSource {
  readonly name: string;
  readonly unit?: string;
  readonly description?: string;
  readonly points: () => Iterable<OtlpGaugePoint>;
}

/** A histogram family of the store to export. */
export interface OtlpHistogramSource extends FamilyOptions {
  readonly vec: HistogramVec;
  /** explicit bounds wanted on OTLP; default the vec's own */
  readonly buckets?: readonly number[];
}

interface Instrument {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly source: Source;
  /** label position → attribute name, or undefined for labels not sent (job, instance) */
  readonly keys: readonly (string | undefined)[];
  readonly instancePos: number;
  readonly namePos: number;
  readonly namespacePos: number;
  /** start time of each series (cumulative points), shared by the instruments of one index */
  readonly starts: Map<number, HrTime>;
  readonly constAttributes: Attributes | undefined;
  readonly omitEmpty: ReadonlySet<string> | undefined;
  readonly owner: SeriesOwner | undefined;
}

function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function msToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

export class OtlpMetricsExporter {
  readonly intervalMs: number;
  private readonly _o: OtlpMetricsExporterOptions;
  private readonly _instruments: Instrument[] = [];
  private readonly _gauges: OtlpGaugeSource[] = [];
  private readonly _startsByIndex = new Map<object, Map<number, HrTime>>();
  private readonly _wallMs: () => number;
  /** end of the previous collection (the exporter's start before the first) */
  private _lastCollect: HrTime;
  /** identities of the services with series in the last collection (some may be unregistered since) */
  private _known = new Map<string, ServiceIdentity>();
  private _seen = new Map<string, ServiceIdentity>();
  private _timer: NodeJS.Timeout | undefined;
  private _inFlight: Promise<void> | undefined;
  private _closed = false;
  private _failing = false;
  private _rounds = 0;
  private _requests = 0;
  private _errors = 0;
  private _skipped = 0;

  constructor(options: OtlpMetricsExporterOptions) {
    this._o = options;
    this.intervalMs = Math.max(1, options.intervalMs ?? 60_000);
    this._wallMs = options.wallMs ?? Date.now;
    this._lastCollect = msToHrTime(this._wallMs());
    const inst = options.instrumentations ?? ['*'];
    if (options.application === false || !(inst.includes('*') || inst.includes('http'))) return;
    for (const red of options.metrics.histograms()) {
      const b = options.buckets;
      this.addHistogram({
        vec: red.vec,
        buckets: red.def.measure === 'duration' ? b?.duration : red.def.measure === 'requestSize' ? b?.requestSize : b?.responseSize,
      });
    }
  }

  /**
   * Export one more histogram (other metric families: DB client durations, span metrics…),
   * with the same aggregation rules. Its series are grouped by their `instance` /
   * `service.instance.id` label like the HTTP ones.
   */
  addHistogram(h: OtlpHistogramSource): void {
    const o = this._o;
    let source: Source;
    if (o.aggregation === 'base2_exponential_bucket_histogram') {
      const vec = new ExponentialHistogramVec(h.vec.index, o.exponentialMaxSize, o.exponentialMaxScale);
      h.vec.addSink(vec);
      source = { kind: 'exponential', vec };
    } else if (h.buckets === undefined || sameBuckets(h.buckets, h.vec.buckets)) {
      source = { kind: 'family', vec: h.vec };
    } else {
      // same family, other bounds: not in any store, fed by the store's histogram
      const vec = new HistogramVec({ name: h.vec.name, unit: h.vec.unit, help: h.vec.help, labelNames: h.vec.labelNames, buckets: h.buckets, index: h.vec.index });
      h.vec.addSink(vec);
      source = { kind: 'explicit', vec };
    }
    this._add(h, h.vec, source);
  }

  /** Export a counter as a cumulative monotonic Sum (span-metric calls, service-graph totals). */
  addCounter(c: OtlpCounterSource): void {
    this._add(c, c.vec, { kind: 'counter', vec: c.vec });
  }

  /** Export a gauge whose points are read at each collection (`traces_target_info`). */
  addGauge(g: OtlpGaugeSource): void {
    this._gauges.push(g);
  }

  stats(): MetricExportStats {
    return { rounds: this._rounds, requests: this._requests, errors: this._errors, skipped: this._skipped };
  }

  /** Export every `intervalMs` until `shutdown()`. */
  start(): void {
    if (this._timer !== undefined || this._closed) return;
    this._timer = setInterval(() => void this.exportOnce(), this.intervalMs);
    this._timer.unref?.();
  }

  /** One snapshot, grouped by service: what one export round sends. */
  collect(): ResourceMetrics[] {
    const end = msToHrTime(this._wallMs());
    const byService = new Map<string, { service: ServiceIdentity; metrics: MetricData[] }>();
    const perService = new Map<string, { dataPoints: unknown[] }>();
    for (const ins of this._instruments) {
      perService.clear();
      const add = (id: number, labelValues: readonly string[], value: unknown): void => {
        const service = this._serviceOf(ins, id, labelValues);
        // a series first seen now began after the previous collection
        let startTime = ins.starts.get(id);
        if (startTime === undefined) {
          startTime = this._lastCollect;
          ins.starts.set(id, startTime);
        }
        let entry = byService.get(service.instanceId);
        if (entry === undefined) {
          entry = { service, metrics: [] };
          byService.set(service.instanceId, entry);
        }
        let md = perService.get(service.instanceId);
        if (md === undefined) {
          const kind = ins.source.kind;
          md = {
            descriptor: { name: ins.name, description: ins.description, unit: ins.unit, valueType: kind === 'counter' ? ValueType.INT : ValueType.DOUBLE },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: kind === 'counter' ? DataPointType.SUM : kind === 'exponential' ? DataPointType.EXPONENTIAL_HISTOGRAM : DataPointType.HISTOGRAM,
            ...(kind === 'counter' ? { isMonotonic: true } : {}),
            dataPoints: [],
          } as { dataPoints: unknown[] };
          perService.set(service.instanceId, md);
          entry.metrics.push(md as unknown as MetricData);
        }
        md.dataPoints.push({ startTime, endTime: end, attributes: pointAttributes(ins, labelValues), value });
      };
      const src = ins.source;
      if (src.kind === 'exponential' || src.kind === 'counter') {
        for (const s of src.vec.series()) add(s.id, s.labelValues, s.value);
      } else {
        const bounds = [...src.vec.buckets];
        for (const s of src.vec.series()) add(s.id, s.labelValues, { buckets: { boundaries: bounds, counts: s.bucketCounts }, sum: s.sum, count: s.count });
      }
    }
    for (const g of this._gauges) {
      const perGaugeService = new Map<string, { dataPoints: unknown[] }>();
      for (const p of g.points()) {
        const service = p.service;
        this._seen.set(service.instanceId, service);
        let entry = byService.get(service.instanceId);
        if (entry === undefined) {
          entry = { service, metrics: [] };
          byService.set(service.instanceId, entry);
        }
        let md = perGaugeService.get(service.instanceId);
        if (md === undefined) {
          md = {
            descriptor: { name: g.name, description: g.description ?? '', unit: g.unit ?? '', valueType: ValueType.INT },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: [],
          } as { dataPoints: unknown[] };
          perGaugeService.set(service.instanceId, md);
          entry.metrics.push(md as unknown as MetricData);
        }
        md.dataPoints.push({ startTime: this._lastCollect, endTime: end, attributes: p.attributes, value: p.value });
      }
    }
    this._lastCollect = end;
    // keep only the identities still behind a series (bounded by the live series)
    this._known = this._seen;
    this._seen = new Map();
    const out: ResourceMetrics[] = [];
    for (const { service, metrics } of byService.values()) {
      out.push({ resource: this._o.resources.get(service), scopeMetrics: [{ scope: OBI_SCOPE, metrics }] });
    }
    return out;
  }

  /** Collect and send one round (skipped while the previous round is still in flight). */
  exportOnce(): Promise<void> {
    if (this._inFlight !== undefined) {
      this._skipped++;
      return this._inFlight;
    }
    const round = this._round().finally(() => {
      this._inFlight = undefined;
    });
    this._inFlight = round;
    return round;
  }

  /** Stop the timer, send a last round, close the exporter's connections. */
  async shutdown(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    if (this._timer !== undefined) clearInterval(this._timer);
    this._timer = undefined;
    if (this._inFlight !== undefined) await this._inFlight;
    await this.exportOnce();
    await this._o.sender.shutdown();
  }

  private async _round(): Promise<void> {
    this._rounds++;
    const batches = this.collect();
    const results = await Promise.all(batches.map((rm) => this._o.sender.send(rm)));
    let failed: unknown;
    results.forEach((r, i) => {
      this._requests++;
      const n = batches[i].scopeMetrics.reduce((acc, sm) => acc + sm.metrics.length, 0);
      if (r.ok) {
        this._o.selfMetrics?.metricExport(n);
      } else {
        this._errors++;
        this._o.selfMetrics?.metricExportError(r.error);
        failed ??= r.error ?? new Error('export failed');
      }
    });
    if (failed !== undefined && !this._failing) {
      this._failing = true;
      this._o.log?.warn('OTLP metric export failing (cumulative values: the next successful export catches up)', {
        endpoint: this._o.endpoint,
        error: exportErrorType(failed),
        detail: (failed as Error).message,
      });
    } else if (failed === undefined && this._failing && results.length > 0) {
      this._failing = false;
      this._o.log?.info('OTLP metric export resumed', { endpoint: this._o.endpoint });
    }
  }

  private _add(f: FamilyOptions, vec: HistogramVec | CounterVec, source: Source): void {
    let starts = this._startsByIndex.get(vec.index);
    if (starts === undefined) {
      const created = new Map<number, HrTime>();
      starts = created;
      this._startsByIndex.set(vec.index, created);
      // an expired series (TTL) that comes back is a new series: new start time
      vec.index.onRemove((id) => created.delete(id));
    }
    const name = f.name ?? vec.name;
    const a = f.attributes ?? vec.attributes;
    if (a.length !== vec.labelNames.length) throw new RangeError(`${name}: ${a.length} attribute names for ${vec.labelNames.length} labels`);
    const drop = new Set(f.drop);
    this._instruments.push({
      name,
      unit: f.unit ?? vec.unit,
      description: f.description ?? '',
      source,
      keys: a.map((x) => (x === undefined || PROM_ONLY.has(x) || drop.has(x) ? undefined : x)),
      instancePos: a.includes(ATTR_INSTANCE) ? a.indexOf(ATTR_INSTANCE) : a.indexOf('service.instance.id'),
      namePos: a.indexOf('service.name'),
      namespacePos: a.indexOf('service.namespace'),
      starts,
      constAttributes: f.constAttributes,
      omitEmpty: f.omitEmpty === undefined || f.omitEmpty.length === 0 ? undefined : new Set(f.omitEmpty),
      owner: f.owner,
    });
  }

  private _serviceOf(ins: Instrument, seriesId: number, labelValues: readonly string[]): ServiceIdentity {
    if (ins.owner !== undefined) {
      const owner = ins.owner(seriesId, labelValues);
      if (owner !== undefined) {
        this._seen.set(owner.instanceId, owner);
        return owner;
      }
    }
    const instanceId = ins.instancePos >= 0 ? labelValues[ins.instancePos] : undefined;
    if (instanceId !== undefined) {
      const live = this._o.metrics.service(instanceId) ?? this._known.get(instanceId) ?? this._seen.get(instanceId);
      if (live !== undefined) {
        this._seen.set(instanceId, live);
        return live;
      }
    }
    // no instance label (attribute selection removed it), or a service never registered:
    // a resource from what the labels say
    const name = ins.namePos >= 0 ? labelValues[ins.namePos] : 'unknown_service';
    const namespace = ins.namespacePos >= 0 ? labelValues[ins.namespacePos] : '';
    const id = instanceId ?? `${namespace}/${name}`;
    let synthetic = this._seen.get(id) ?? this._known.get(id);
    if (synthetic === undefined) synthetic = { name, namespace, instanceId: id, pid: 0, exePath: '', language: 'generic' };
    this._seen.set(id, synthetic);
    return synthetic;
  }
}

function pointAttributes(ins: Instrument, values: readonly string[]): Attributes {
  const keys = ins.keys;
  const omit = ins.omitEmpty;
  const out: Attributes = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === undefined) continue;
    const v = values[i];
    if (omit !== undefined && v === '' && omit.has(k)) continue;
    out[k] = INT_ATTRIBUTES.has(k) && /^-?\d{1,15}$/.test(v) ? Number(v) : v;
  }
  if (ins.constAttributes !== undefined) Object.assign(out, ins.constAttributes);
  return out;
}
