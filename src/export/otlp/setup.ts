/**
 * Builds the OTLP exporters from the effective configuration: traces when
 * `resolveOtlp(config, 'traces')` gives an endpoint, metrics likewise; nothing otherwise.
 * The pipeline only calls `start()`, `offer(spans)` per batch and `shutdown()`.
 */
import type { Registry } from 'prom-client';
import packageJson from '../../../package.json' with { type: 'json' };
import { durationMs, resolveOtlp } from '../../config/index.ts';
import type { EffectiveConfig } from '../../config/index.ts';
import type { ServiceIdentity } from '../../discovery/types.ts';
import type { MonoClock } from '../../telemetry/clock.ts';
import { DB_CLIENT_DURATION_NAME, DB_INSTRUMENTATIONS, DB_METRIC_ATTRIBUTES } from '../../telemetry/db.ts';
import type { DbMetrics } from '../../telemetry/db.ts';
import type { InternalMetrics } from '../../telemetry/internal.ts';
import { promLabelName } from '../../telemetry/metrics.ts';
import type { RedMetrics } from '../../telemetry/metrics.ts';
import type { Span } from '../../telemetry/span.ts';
import { ResourceCache } from './convert.ts';
import { OtlpMetricsExporter } from './metrics.ts';
import type { OtlpHistogramSource } from './metrics.ts';
import { createSampler } from './sampler.ts';
import { OtlpExportMetrics } from './self-metrics.ts';
import { OtlpTraceExporter } from './traces.ts';
import type { ExportLogger } from './traces.ts';
import { createMetricSender, createTraceSender } from './transport.ts';

/** `telemetry.sdk.version` / `telemetry.distro.version` */
export const OBI_TS_VERSION: string = (packageJson as { version: string }).version;

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
  if (metricsAt !== undefined && cfg.metricFeatures.includes('application')) {
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
      if (metrics === undefined || !(inst.includes('*') || DB_INSTRUMENTATIONS.some((i) => inst.includes(i as never)))) return;
      metrics.addHistogram(dbClientHistogram(db, cfg.otel_metrics_export.buckets.duration_histogram));
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
