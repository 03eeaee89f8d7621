/**
 * Builds the OTLP exporters from the effective configuration: traces when
 * `resolveOtlp(config, 'traces')` gives an endpoint, metrics likewise; nothing otherwise.
 * The pipeline only calls `start()`, `offer(spans)` per batch and `shutdown()`.
 */
import type { Registry } from 'prom-client';
import { durationMs, resolveOtlp } from '../../config/index.ts';
import type { EffectiveConfig } from '../../config/index.ts';
import type { ServiceIdentity } from '../../common/service.ts';
import type { MonoClock } from '../../telemetry/clock.ts';
import { DB_CLIENT_DURATION_NAME, DB_METRIC_ATTRIBUTES } from '../../telemetry/db.ts';
import type { DbMetrics } from '../../telemetry/db.ts';
import { DNS_LOOKUP_DURATION_NAME, DNS_METRIC_ATTRIBUTES, type DnsMetrics } from '../../telemetry/dns.ts';
import type { InternalMetrics } from '../../telemetry/internal.ts';
import { promLabelName } from '../../telemetry/metrics.ts';
import type { RedMetrics } from '../../telemetry/metrics.ts';
import type { SpanProcessor } from '../../telemetry/processor.ts';
import { SERVICE_GRAPH_LABELS, SERVICE_GRAPH_NAMES } from '../../telemetry/servicegraph.ts';
import type { ServiceGraph } from '../../telemetry/servicegraph.ts';
import { SOURCE, SPAN_METRICS_LABELS } from '../../telemetry/spanmetrics.ts';
import type { SpanMetrics } from '../../telemetry/spanmetrics.ts';
import type { Span } from '../../telemetry/span.ts';
import { ResourceCache } from './convert.ts';
import { hostIdAttribute } from './host.ts';
import { OtlpMetricsExporter } from './metrics.ts';
import { OBI_TS_VERSION } from '../../version.ts';
import type { OtlpCounterSource, OtlpGaugeSource, OtlpHistogramSource, SeriesOwner } from './metrics.ts';
import { createSampler } from './sampler.ts';
import { OtlpExportMetrics } from './self-metrics.ts';
import { OtlpTraceExporter } from './traces.ts';
import type { ExportLogger } from './traces.ts';
import { createMetricSender, createTraceSender } from './transport.ts';


export interface OtlpSetupOptions {
  readonly config: EffectiveConfig;
  readonly metrics: RedMetrics;
  readonly internal: InternalMetrics;
  /** where `obi_otel_*` are registered */
  readonly registry: Registry;
  readonly clock: MonoClock;
  readonly log: ExportLogger;
  readonly hostName: string;
  readonly hostId: string;
  /** instrumentation names whose spans are database operations (the registry's `db` protocols) */
  readonly dbInstrumentations: readonly string[];
  /** the target process's OTEL_RESOURCE_ATTRIBUTES */
  readonly processAttributes?: (service: ServiceIdentity) => ReadonlyMap<string, string> | undefined;
  /** per request; default: env OTEL_EXPORTER_OTLP_*TIMEOUT, else 10 s */
  readonly timeoutMillis?: number;
}

export interface OtlpExport {
  readonly traces: OtlpTraceExporter | undefined;
  readonly metrics: OtlpMetricsExporter | undefined;
  start(): void;
  /** hand one batch of finished spans to the trace exporter (capture path) */
  offer(spans: readonly Span[]): void;
  /** export `db.client.operation.duration` too (when OTLP metrics are on and a DB instrumentation is selected) */
  addDbMetrics(db: DbMetrics): void;
  /** export `dns.lookup.duration` too (when OTLP metrics are on; the caller creates it only with `dns` enabled) */
  addDnsMetrics(dns: DnsMetrics): void;
  /** export the span metrics, service graph and `traces_target_info` the processor keeps (those its features turned on) */
  addSpanMetrics(processor: SpanProcessor): void;
  /** last flush of both signals, bounded by `shutdown_timeout` */
  shutdown(): Promise<void>;
}

/** The exporters the configuration asks for, or undefined when it asks for none. */
export function createOtlpExport(o: OtlpSetupOptions): OtlpExport | undefined {
  const cfg = o.config;
  const tracesAt = resolveOtlp(cfg, 'traces');
  const metricsAt = resolveOtlp(cfg, 'metrics');
  if (tracesAt === undefined && metricsAt === undefined) return undefined;
  const selfMetrics = new OtlpExportMetrics(o.registry);
  const host = { hostName: o.hostName, hostId: o.hostId };

  let traces: OtlpTraceExporter | undefined;
  if (tracesAt !== undefined) {
    const t = cfg.otel_traces_export;
    traces = new OtlpTraceExporter({
      sender: createTraceSender({ ...tracesAt, insecureSkipVerify: t.insecure_skip_verify, timeoutMillis: o.timeoutMillis }),
      resources: new ResourceCache({ host, version: OBI_TS_VERSION, processAttributes: o.processAttributes, maxEntries: t.reporters_cache_len }),
      clock: o.clock,
      maxQueueSize: t.max_queue_size,
      maxExportBatchSize: t.max_export_batch_size,
      batchTimeoutMs: durationMs(t.batch_timeout),
      backoff: {
        initialMs: durationMs(t.backoff_initial_interval),
        maxMs: durationMs(t.backoff_max_interval),
        maxElapsedMs: durationMs(t.backoff_max_elapsed_time),
      },
      instrumentations: t.instrumentations,
      sampler: createSampler(t.sampler),
      internal: o.internal,
      selfMetrics,
      log: o.log,
      endpoint: tracesAt.endpoint,
    });
  }

  let metrics: OtlpMetricsExporter | undefined;
  const features = cfg.metricFeatures;
  const spanFeatures = features.includes('application_span') || features.includes('application_span_otel') || features.includes('application_service_graph');
  if (metricsAt !== undefined && (features.includes('application') || spanFeatures)) {
    const m = cfg.otel_metrics_export;
    metrics = new OtlpMetricsExporter({
      sender: createMetricSender({ ...metricsAt, insecureSkipVerify: m.insecure_skip_verify, timeoutMillis: o.timeoutMillis }),
      metrics: o.metrics,
      resources: new ResourceCache({ host, version: OBI_TS_VERSION, processAttributes: o.processAttributes, maxEntries: m.reporters_cache_len }),
      intervalMs: durationMs(m.interval),
      aggregation: m.histogram_aggregation,
      buckets: {
        duration: m.buckets.duration_histogram,
        requestSize: m.buckets.request_size_histogram,
        responseSize: m.buckets.response_size_histogram,
      },
      instrumentations: m.instrumentations,
      application: features.includes('application'),
      selfMetrics,
      log: o.log,
      endpoint: metricsAt.endpoint,
    });
  }

  return {
    traces,
    metrics,
    start: () => metrics?.start(),
    offer: (spans) => traces?.offer(spans),
    addDbMetrics: (db) => {
      const inst = cfg.otel_metrics_export.instrumentations;
      if (metrics === undefined || !(inst.includes('*') || o.dbInstrumentations.some((i) => inst.includes(i as never)))) return;
      metrics.addHistogram(dbClientHistogram(db, cfg.otel_metrics_export.buckets.duration_histogram));
    },
    addDnsMetrics: (dns) => {
      if (metrics === undefined) return;
      const vec = dns.histogram;
      const toAttr = new Map<string, string>(DNS_METRIC_ATTRIBUTES.map((a) => [promLabelName(a.name), a.name]));
      metrics.addHistogram({
        name: DNS_LOOKUP_DURATION_NAME,
        unit: 's',
        attributes: vec.labelNames.map((l) => toAttr.get(l) ?? l),
        vec,
        buckets: cfg.otel_metrics_export.buckets.duration_histogram,
      });
    },
    addSpanMetrics: (processor) => {
      if (metrics === undefined) return;
      const buckets = cfg.otel_metrics_export.buckets.duration_histogram;
      if (processor.spanMetrics !== undefined) {
        const [duration, calls] = spanMetricsSources(processor.spanMetrics, o.hostId, buckets, (id) => processor.service(id));
        metrics.addHistogram(duration);
        metrics.addCounter(calls);
      }
      if (processor.serviceGraph !== undefined) {
        const sg = serviceGraphSources(processor.serviceGraph, (name, namespace) => processor.serviceNamed(name, namespace), buckets);
        for (const h of sg.histograms) metrics.addHistogram(h);
        for (const c of sg.counters) metrics.addCounter(c);
      }
      if (processor.tracesTargetInfo !== undefined) metrics.addGauge(tracesTargetInfoSource(() => processor.targetServices(), o.hostId));
    },
    shutdown: async () => {
      // a final flush to a collector that does not answer may not hold the agent past shutdown_timeout
      const limit = durationMs(cfg.shutdown_timeout);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limit);
        timer.unref?.();
      });
      await Promise.race([Promise.all([traces?.shutdown(), metrics?.shutdown()]), deadline]);
      clearTimeout(timer);
    },
  };
}

const DB_LABEL_TO_ATTRIBUTE = new Map<string, string>(DB_METRIC_ATTRIBUTES.map((a) => [promLabelName(a.name), a.name]));

/** `db.client.operation.duration` as the OTLP metrics exporter takes it. */
export function dbClientHistogram(db: DbMetrics, buckets?: readonly number[]): OtlpHistogramSource {
  const vec = db.histogram;
  return {
    name: DB_CLIENT_DURATION_NAME,
    unit: 's',
    attributes: vec.labelNames.map((l) => DB_LABEL_TO_ATTRIBUTE.get(l) ?? l),
    vec,
    buckets,
  };
}

/** Span-metric label → OTLP attribute (OBI's OTLP span metrics carry no `job` nor SDK language). */
const SPAN_METRICS_ATTRIBUTES: Readonly<Record<string, string | undefined>> = {
  service_name: 'service.name',
  service_namespace: 'service.namespace',
  span_name: 'span.name',
  status_code: 'status.code',
  span_kind: 'span.kind',
  instance: 'service.instance.id',
  job: undefined,
  source: 'source',
  telemetry_sdk_language: undefined,
};

/**
 * Span metrics as OBI sends them over OTLP: the duration histogram (`traces.span.metrics.duration`
 * or legacy `traces_spanmetrics_latency`, unit `s`) and the calls counter
 * (`traces.span.metrics.calls` / `traces_spanmetrics_calls_total`), with `service.name`,
 * `service.namespace`, `service.instance.id`, `span.name`, `span.kind`, `status.code`, `source`
 * and `host.id` on every point (omitted, never empty, when the host has no id).
 */
export function spanMetricsSources(
  sm: SpanMetrics,
  hostId: string,
  buckets?: readonly number[],
  serviceOf?: (instanceId: string) => ServiceIdentity | undefined,
): [OtlpHistogramSource, OtlpCounterSource] {
  const attributes = SPAN_METRICS_LABELS.map((l) => SPAN_METRICS_ATTRIBUTES[l]);
  const constAttributes = hostIdAttribute(hostId);
  const instanceAt = SPAN_METRICS_LABELS.indexOf('instance');
  const owner: SeriesOwner | undefined = serviceOf === undefined ? undefined : (_id, v) => serviceOf(v[instanceAt]);
  return [
    { name: sm.names.duration.otel, unit: 's', attributes, constAttributes, vec: sm.duration, buckets, owner },
    { name: sm.names.calls.otel, unit: '', attributes, constAttributes, vec: sm.calls, owner },
  ];
}

/** A service known by name only: the resource of a series whose service is gone. */
function namedService(name: string, namespace: string): ServiceIdentity {
  return { name, namespace, instanceId: namespace === '' ? name : `${namespace}/${name}`, pid: 0, exePath: '', language: 'generic' };
}

/**
 * The service-graph families over OTLP: `traces_service_graph_request_client` /
 * `_server` (histograms, `s`), `traces_service_graph_request_total` / `_failed_total`
 * (monotonic Sums), attributes `client`, `client_service_namespace`, `server`,
 * `server_service_namespace`, `source`, `connection_type` (only when set). Like OBI's
 * per-service reporters, each series goes under the resource of the service whose span made
 * it: the client of a client-side series, the server of a server-side one.
 */
export function serviceGraphSources(
  sg: ServiceGraph,
  serviceNamed: (name: string, namespace: string) => ServiceIdentity | undefined,
  buckets?: readonly number[],
): { histograms: OtlpHistogramSource[]; counters: OtlpCounterSource[] } {
  const attributes = [...SERVICE_GRAPH_LABELS];
  const omitEmpty = ['connection_type'];
  const side = (nameAt: number): SeriesOwner => (_id, v) => serviceNamed(v[nameAt], v[nameAt + 1]) ?? namedService(v[nameAt], v[nameAt + 1]);
  const clientSide = side(0);
  const serverSide = side(2);
  // a counter series was made by server spans if the server histogram has it, else by client spans
  const either: SeriesOwner = (id, v) => (sg.server.snapshot(id).count > 0 ? serverSide(id, v) : clientSide(id, v));
  const family = { attributes, omitEmpty };
  return {
    histograms: [
      { ...family, name: SERVICE_GRAPH_NAMES.client.otel, unit: 's', vec: sg.client, buckets, owner: clientSide },
      { ...family, name: SERVICE_GRAPH_NAMES.server.otel, unit: 's', vec: sg.server, buckets, owner: serverSide },
    ],
    counters: [
      { ...family, name: SERVICE_GRAPH_NAMES.total.otel, unit: '', vec: sg.total, owner: either },
      { ...family, name: SERVICE_GRAPH_NAMES.failed.otel, unit: '', vec: sg.failed, owner: either },
    ],
  };
}

/**
 * `traces_target_info` over OTLP: value 1 per service reported by the span-metric features, with
 * OBI's attributes (`service.name`, `service.instance.id`, `service.namespace`,
 * `telemetry.sdk.language`, `telemetry.sdk.name`, `source`, `os.type`, `host.id` when the host has one).
 */
export function tracesTargetInfoSource(services: () => Iterable<ServiceIdentity>, hostId: string): OtlpGaugeSource {
  const attrs = new WeakMap<ServiceIdentity, Record<string, string>>();
  return {
    name: 'traces_target_info',
    description: 'target service information in trace span metric format',
    points: function* () {
      for (const service of services()) {
        let a = attrs.get(service);
        if (a === undefined) {
          a = {
            'service.name': service.name,
            'service.instance.id': service.instanceId,
            'service.namespace': service.namespace,
            'telemetry.sdk.language': service.language,
            'telemetry.sdk.name': 'opentelemetry',
            source: SOURCE,
            'os.type': 'linux',
            ...hostIdAttribute(hostId),
          };
          attrs.set(service, a);
        }
        yield { service, attributes: a, value: 1 };
      }
    },
  };
}
