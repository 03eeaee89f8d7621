/**
 * Builds the OTLP exporters from the effective configuration: traces when
 * `resolveOtlp(config, 'traces')` gives an endpoint, metrics likewise; nothing otherwise.
 * The agent only calls `start()`, `offer(spans)` per batch and `shutdown()`. Loaded on demand
 * (the exporter packages cost ~70 MB of RSS).
 */
import { durationMs, resolveOtlp } from '../config/index.ts';
import type { EffectiveConfig } from '../config/index.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ResourceCache } from '../export/otlp/convert.ts';
import { OtlpMetricsExporter } from '../export/otlp/metrics.ts';
import { createSampler } from '../export/otlp/sampler.ts';
import { OtlpExportMetrics } from '../export/otlp/self-metrics.ts';
import { dbClientHistogram, serviceGraphSources, spanMetricsSources, tracesTargetInfoSource } from '../export/otlp/sources.ts';
import { OtlpTraceExporter } from '../export/otlp/traces.ts';
import type { ExportLogger } from '../export/otlp/traces.ts';
import { createMetricSender, createTraceSender } from '../export/otlp/transport.ts';
import type { MonoClock } from '../telemetry/clock.ts';
import type { DbMetrics } from '../telemetry/db.ts';
import type { DnsMetrics } from '../telemetry/dns.ts';
import type { GenaiMetrics } from '../telemetry/genai.ts';
import type { InternalMetrics } from '../telemetry/internal.ts';
import type { RedMetrics } from '../telemetry/metrics.ts';
import type { SpanProcessor } from '../telemetry/processor.ts';
import type { Span } from '../telemetry/span.ts';
import type { MessagingMetrics } from '../telemetry/messaging.ts';
import type { RpcCallMetric } from '../telemetry/rpc.ts';
import type { MetricStore } from '../telemetry/store.ts';
import { OBI_TS_VERSION } from '../version.ts';

export interface OtlpSetupOptions {
  readonly config: EffectiveConfig;
  readonly metrics: RedMetrics;
  readonly internal: InternalMetrics;
  /** where `obi_otel_*` go (the store of the other obi_* metrics) */
  readonly store: MetricStore;
  readonly clock: MonoClock;
  readonly log: ExportLogger;
  readonly hostName: string;
  readonly hostId: string;
  /** instrumentation names whose spans are database operations (the registry's `db` protocols) */
  readonly dbInstrumentations: readonly string[];
  /** instrumentation names whose spans are messaging operations (the registry's `messaging` protocols) */
  readonly messagingInstrumentations?: readonly string[];
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
  /**
   * export `gen_ai.client.operation.duration` / `gen_ai.client.token.usage` too (when OTLP metrics
   * are on and `genai` is listed in `otel_metrics_export.instrumentations` or it is `*`), with the
   * bucket boundaries the OTel GenAI semantic conventions advise (the families' own)
   */
  addGenaiMetrics(m: GenaiMetrics): void;
  /** export `messaging.client.operation.duration` / `messaging.process.duration` too (when OTLP metrics are on and a messaging instrumentation is selected) */
  addMessagingMetrics(m: MessagingMetrics): void;
  /** export `rpc.{server,client}.call.duration` too (when OTLP metrics are on and `grpc` is selected) */
  addRpcMetrics(m: RpcCallMetric): void;
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
  const selfMetrics = new OtlpExportMetrics(o.store);
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
      // `dns.lookup.duration` (unit s): the family as it is
      metrics.addHistogram({ vec: dns.histogram, buckets: cfg.otel_metrics_export.buckets.duration_histogram });
    },
    addGenaiMetrics: (m) => {
      const inst = cfg.otel_metrics_export.instrumentations;
      if (metrics === undefined || !(inst.includes('*') || inst.includes('genai' as never))) return;
      // no `buckets`: the semconv-advised bounds of the families, not the HTTP duration ones; an
      // attribute without a value (no error, no response model) is left out, as an SDK would
      const omitEmpty = ['gen_ai.request.model', 'gen_ai.response.model', 'error.type', 'server.address', 'server.port', 'service.namespace'];
      metrics.addHistogram({ vec: m.duration.histogram, omitEmpty });
      metrics.addHistogram({ vec: m.tokens.histogram, omitEmpty });
    },
    addMessagingMetrics: (m) => {
      const inst = cfg.otel_metrics_export.instrumentations;
      if (metrics === undefined || !(inst.includes('*') || (o.messagingInstrumentations ?? []).some((i) => inst.includes(i as never)))) return;
      metrics.addHistogram({ vec: m.histogram, buckets: cfg.otel_metrics_export.buckets.duration_histogram });
    },
    addRpcMetrics: (m) => {
      const inst = cfg.otel_metrics_export.instrumentations;
      if (metrics === undefined || !(inst.includes('*') || inst.includes('grpc' as never))) return;
      metrics.addHistogram({ vec: m.histogram, buckets: cfg.otel_metrics_export.buckets.duration_histogram });
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
