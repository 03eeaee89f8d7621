/**
 * Span metrics (`metrics.features`: `application_span`, `application_span_otel`) and
 * `traces_target_info` (obi-compat §2.4), with OBI's names, help texts and labels:
 *
 * | format   | duration histogram (s)                   | calls counter                       |
 * |----------|------------------------------------------|-------------------------------------|
 * | `legacy` | `traces_spanmetrics_latency`             | `traces_spanmetrics_calls_total`    |
 * | `otel`   | `traces_span_metrics_duration_seconds`   | `traces_span_metrics_calls_total`   |
 *
 * (OTLP names of the `otel` format: `traces.span.metrics.duration`, `traces.span.metrics.calls`.)
 * Labels: `service_name`, `service_namespace`, `span_name`, `status_code` (`STATUS_CODE_UNSET|OK|ERROR`),
 * `span_kind` (`SPAN_KIND_SERVER|CLIENT|…`), `instance`, `job`, `source` (`obi`),
 * `telemetry_sdk_language`. Every span counts, whatever its protocol and kind.
 *
 * Span-name cardinality (`attributes.metric_span_names_limit`, default 100): once a service
 * (process) has that many distinct span names, further new names are reported as `AGGREGATED`;
 * a limit ≤ 0 disables the cap.
 *
 * TTL: like {@link RedMetrics}, `setNow` stamps the series a batch updates and `expire` removes
 * those not updated since a cutoff.
 */
import type { ServiceIdentity } from '../common/service.ts';
import { CounterVec } from './counter.ts';
import { statusCodeName, spanKindName } from './filter.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import { DEFAULT_DURATION_BUCKETS, serviceJob, TargetInfoGauge } from './metrics.ts';
import type { ResourceInfo } from './metrics.ts';
import type { Span } from './span.ts';
import type { MetricStore } from './store.ts';

export type SpanMetricsFormat = 'legacy' | 'otel';

export interface MetricName {
  /** Prometheus exposition name */
  readonly prom: string;
  /** OTel metric name (the family's name in the store) */
  readonly otel: string;
}

export interface SpanMetricsNames {
  readonly duration: MetricName;
  readonly calls: MetricName;
}

export const SPAN_METRICS_NAMES: Readonly<Record<SpanMetricsFormat, SpanMetricsNames>> = {
  legacy: {
    duration: { prom: 'traces_spanmetrics_latency', otel: 'traces_spanmetrics_latency' },
    calls: { prom: 'traces_spanmetrics_calls_total', otel: 'traces_spanmetrics_calls_total' },
  },
  otel: {
    duration: { prom: 'traces_span_metrics_duration_seconds', otel: 'traces.span.metrics.duration' },
    calls: { prom: 'traces_span_metrics_calls_total', otel: 'traces.span.metrics.calls' },
  },
};

/** OBI's span-metric labels, in its order. */
export const SPAN_METRICS_LABELS: readonly string[] = [
  'service_name',
  'service_namespace',
  'span_name',
  'status_code',
  'span_kind',
  'instance',
  'job',
  'source',
  'telemetry_sdk_language',
];

/**
 * OTel attribute of each {@link SPAN_METRICS_LABELS} label (OBI's OTLP span metrics: `instance`
 * is `service.instance.id`; `job` is Prometheus-only).
 */
export const SPAN_METRICS_ATTRIBUTES: readonly string[] = [
  'service.name',
  'service.namespace',
  'span.name',
  'status.code',
  'span.kind',
  'service.instance.id',
  'job',
  'source',
  'telemetry.sdk.language',
];

/** span_name once a service exceeds `metric_span_names_limit` */
export const AGGREGATED_SPAN_NAME = 'AGGREGATED';
export const DEFAULT_SPAN_NAMES_LIMIT = 100;
/** `source` label value (OBI's vendor prefix) */
export const SOURCE = 'obi';

export interface SpanMetricsOptions {
  /** `application_span` → `legacy`, `application_span_otel` → `otel` */
  readonly format: SpanMetricsFormat;
  /** duration buckets (s); default OBI's */
  readonly buckets?: readonly number[];
  /** `attributes.metric_span_names_limit`; default 100, ≤ 0 = no cap */
  readonly spanNamesLimit?: number;
}

const jobCache = new WeakMap<ServiceIdentity, string>();
function cachedJob(service: ServiceIdentity): string {
  let job = jobCache.get(service);
  if (job === undefined) {
    job = serviceJob(service);
    jobCache.set(service, job);
  }
  return job;
}

export class SpanMetrics {
  readonly format: SpanMetricsFormat;
  readonly names: SpanMetricsNames;
  readonly index: SeriesIndex;
  readonly duration: HistogramVec;
  readonly calls: CounterVec;
  private readonly _limit: number;
  /** distinct span names seen per service instance (bounded by the limit) */
  private readonly _spanNames = new Map<string, Set<string>>();
  private readonly _scratch: LabelValue[] = new Array<LabelValue>(SPAN_METRICS_LABELS.length).fill('');

  constructor(store: MetricStore, options: SpanMetricsOptions) {
    this.format = options.format;
    this.names = SPAN_METRICS_NAMES[options.format];
    this._limit = options.spanNamesLimit ?? DEFAULT_SPAN_NAMES_LIMIT;
    this.index = new SeriesIndex(SPAN_METRICS_LABELS.length);
    const duration = this.names.duration;
    this.duration = new HistogramVec({
      name: duration.otel,
      unit: 's',
      // OBI's legacy name has no unit suffix; the `otel` one follows the naming rule
      promName: options.format === 'legacy' ? duration.prom : undefined,
      help: 'duration of service calls (client and server), in seconds, in trace span metrics format',
      labelNames: SPAN_METRICS_LABELS,
      attributes: SPAN_METRICS_ATTRIBUTES,
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      index: this.index,
    }).registerIn(store);
    this.calls = new CounterVec({
      name: this.names.calls.otel,
      help: 'number of service calls in trace span metrics format',
      labelNames: SPAN_METRICS_LABELS,
      attributes: SPAN_METRICS_ATTRIBUTES,
      index: this.index,
    }).registerIn(store);
  }

  /** `span_name` label of a span: its name, or `AGGREGATED` past the per-service limit. */
  spanNameOf(span: Span): string {
    const limit = this._limit;
    if (limit <= 0) return span.name;
    const key = span.service.instanceId;
    let seen = this._spanNames.get(key);
    if (seen === undefined) {
      seen = new Set();
      this._spanNames.set(key, seen);
    }
    if (seen.has(span.name)) return span.name;
    if (seen.size >= limit) return AGGREGATED_SPAN_NAME;
    seen.add(span.name);
    return span.name;
  }

  record(span: Span): void {
    const svc = span.service;
    const v = this._scratch;
    v[0] = svc.name;
    v[1] = svc.namespace;
    v[2] = this.spanNameOf(span);
    v[3] = statusCodeName(span.status);
    v[4] = spanKindName(span.kind);
    v[5] = svc.instanceId;
    v[6] = cachedJob(svc);
    v[7] = SOURCE;
    v[8] = svc.language;
    const id = this.index.id(v);
    const ns = span.endNs - span.startNs;
    this.duration.observe(id, ns > 0 ? ns / 1e9 : 0);
    this.calls.inc(id, 1);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  /** Time stamped on the series the next records update (see {@link SeriesIndex.now}). */
  setNow(now: number): void {
    this.index.now = now;
  }

  /** Remove the series not updated since `cutoff`; returns how many. */
  expire(cutoff: number): number {
    return this.index.expire(cutoff);
  }

  /** Forget a service that went away (its span-name set). */
  removeService(service: ServiceIdentity): void {
    this._spanNames.delete(service.instanceId);
  }
}

/**
 * `traces_target_info`: OBI's `target_info` labels, one series per instrumented service, when any
 * span-metric feature (`application_span*`, `application_service_graph`) is on.
 */
export class TracesTargetInfo extends TargetInfoGauge {
  constructor(store: MetricStore, resource: ResourceInfo = {}) {
    super(store, 'traces_target_info', 'target service information in trace span metric format', resource);
  }
}
