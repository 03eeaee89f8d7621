/**
 * What happens to a batch of finished spans before export, in OBI's order (obi-compat §1.7–1.9,
 * §2): `filter.application` and `routes.ignored_patterns` drop spans; the metric features record
 * what is left for metrics (`application` RED metrics, `application_span` / `application_span_otel`
 * span metrics, `application_service_graph`); `attributes.select.traces` trims the spans left for
 * traces. Also owns `traces_target_info` and the series TTL of every application metric.
 *
 * Pure (no timers, no I/O): the caller passes the time and calls `expire` periodically.
 */
import type { ServiceIdentity } from '../common/service.ts';
import type { OtelSdkAvoider } from './avoid.ts';
import type { HistogramVec } from './histogram.ts';
import { SpanFilter } from './filter.ts';
import type { IgnoreMode, MatchDefinition } from './filter.ts';
import type { RedMetrics, ResourceInfo } from './metrics.ts';
import { AttributeSelector, TraceAttributeFilter } from './select.ts';
import { ServiceGraph } from './servicegraph.ts';
import { SPAN_METRICS_ATTRIBUTES, SpanMetrics, TracesTargetInfo } from './spanmetrics.ts';
import { ExitedInstances, instancePositions } from './exited.ts';
import type { Span } from './span.ts';
import type { MetricStore } from './store.ts';

/** `metrics.features` values this stage acts on (others are ignored). */
export type AppMetricFeature = 'application' | 'application_span' | 'application_span_otel' | 'application_service_graph' | (string & {});

/**
 * Another application metric fed from the same filtered spans, subject to the same TTL (e.g.
 * `db_client_operation_duration_seconds`): its histogram's series index is stamped and expired.
 */
export interface SpanRecorder {
  recordAll(spans: readonly Span[]): void;
  readonly histogram: HistogramVec;
}

/** A selected process as the service-graph lookup needs it (structurally a TrackedProcess). */
export interface ListeningService {
  readonly service: ServiceIdentity;
  readonly info: { readonly listenPorts: readonly number[] };
}

export interface SpanProcessorOptions {
  /** `metrics.features` in effect */
  readonly features: readonly AppMetricFeature[];
  /** more `application` metrics (recorded with the RED metrics when `application` is on) */
  readonly recorders?: readonly SpanRecorder[];
  /** `attributes.select` (only the `traces` section is used here; metric sections go to RedMetrics) */
  readonly selector?: AttributeSelector;
  /** `filter.application` */
  readonly filter?: Readonly<Record<string, MatchDefinition>>;
  /** `routes.ignored_patterns` matcher (RouteResolver.isIgnored), when patterns are configured */
  readonly isIgnoredPath?: (path: string) => boolean;
  /** `routes.ignore_mode` */
  readonly ignoreMode?: IgnoreMode;
  /** series not updated for this long are removed (`prometheus_export.ttl`); 0 = never */
  readonly ttlMs?: number;
  /** exited service instances whose series are kept until `ttl` (exited.ts; default MAX_EXITED_INSTANCES) */
  readonly maxExitedInstances?: number;
  /** duration histogram buckets of span metrics and service graph */
  readonly durationBuckets?: readonly number[];
  /** `attributes.metric_span_names_limit` */
  readonly spanNamesLimit?: number;
  /** `allow_service_graph_self_references` */
  readonly allowSelfReferences?: boolean;
  /** `target_info` resource labels */
  readonly resource?: ResourceInfo;
  /** the instrumented processes (service graph: is a called server instrumented here?) */
  readonly listeners?: () => Iterable<ListeningService>;
  /** addresses of this host besides loopback (a called server on one of them is local) */
  readonly localAddresses?: ReadonlySet<string>;
  /** `exclude_otel_instrumented_services`: signals of SDK-instrumented services left out (avoid.ts) */
  readonly avoid?: OtelSdkAvoider;
}

/** how long a port → service answer of the service-graph lookup is reused (ms) */
const LOOKUP_TTL_MS = 1000;

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback */
export function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.');
}

export class SpanProcessor {
  readonly filter: SpanFilter;
  readonly traceAttributes: TraceAttributeFilter;
  /** `application_span` / `application_span_otel`, if on */
  readonly spanMetrics: SpanMetrics | undefined;
  /** `application_service_graph`, if on */
  readonly serviceGraph: ServiceGraph | undefined;
  /** `traces_target_info`, if any span-metric feature is on */
  readonly tracesTargetInfo: TracesTargetInfo | undefined;
  readonly ttlMs: number;
  private readonly _red: RedMetrics;
  private readonly _redOn: boolean;
  private readonly _recorders: readonly SpanRecorder[];
  private readonly _listeners: (() => Iterable<ListeningService>) | undefined;
  private readonly _localAddresses: ReadonlySet<string>;
  private readonly _avoid: OtelSdkAvoider | undefined;
  private readonly _lookupCache = new Map<number, ServiceIdentity | null>();
  /** the services with a `traces_target_info` series, by instance id (what the OTLP exporter reads) */
  private readonly _targets = new Map<string, ServiceIdentity>();
  /** series of exited processes: at most MAX_EXITED_INSTANCES instances keep theirs until `ttl` (exited.ts) */
  readonly exited: ExitedInstances;
  private _lookupCacheAt = -Infinity;
  private _now = 0;

  constructor(store: MetricStore, red: RedMetrics, options: SpanProcessorOptions) {
    const f = new Set(options.features);
    const selector = options.selector ?? new AttributeSelector();
    this.filter = new SpanFilter({ application: options.filter, isIgnoredPath: options.isIgnoredPath, ignoreMode: options.ignoreMode });
    this.traceAttributes = new TraceAttributeFilter(selector);
    this.ttlMs = options.ttlMs ?? 0;
    this._red = red;
    this._redOn = f.has('application');
    this._recorders = options.recorders ?? [];
    this._listeners = options.listeners;
    this._localAddresses = options.localAddresses ?? new Set();
    this._avoid = options.avoid?.enabled === true ? options.avoid : undefined;
    const spanFormat = f.has('application_span') ? 'legacy' : f.has('application_span_otel') ? 'otel' : undefined;
    this.spanMetrics =
      spanFormat === undefined
        ? undefined
        : new SpanMetrics(store, { format: spanFormat, buckets: options.durationBuckets, spanNamesLimit: options.spanNamesLimit });
    this.serviceGraph = f.has('application_service_graph')
      ? new ServiceGraph(store, {
          buckets: options.durationBuckets,
          allowSelfReferences: options.allowSelfReferences,
          lookupServer: (addr, port) => this._lookupServer(addr, port),
        })
      : undefined;
    this.exited = new ExitedInstances((id) => this._removeInstanceSeries(id), options.maxExitedInstances);
    this.tracesTargetInfo = this.spanMetrics !== undefined || this.serviceGraph !== undefined ? new TracesTargetInfo(store, options.resource) : undefined;
  }

  /**
   * Filter a batch, record its metrics (stamped with `nowMs`, any monotonic ms clock also given
   * to `expire`), trim span attributes; returns the spans to export as traces.
   */
  process(spans: readonly Span[], nowMs: number): { readonly metrics: readonly Span[]; readonly traces: readonly Span[]; readonly dropped: number } {
    this._now = nowMs;
    const av = this._avoid;
    av?.observe(spans); // before any filter: an SDK's exports are seen whatever the filters drop
    const split = this.filter.split(spans);
    const { metrics, dropped } = split;
    const avoiding = av !== undefined && !av.idle;
    const traces = avoiding ? av.traces(split.traces) : split.traces;
    if (metrics.length > 0) {
      if (this._redOn) {
        const red = avoiding ? av.metrics(metrics) : metrics;
        this._red.setNow(nowMs);
        this._red.recordAll(red);
        for (const r of this._recorders) {
          r.histogram.index.now = nowMs;
          r.recordAll(red);
        }
      }
      const spanMetricSpans = avoiding ? av.spanMetrics(metrics) : metrics;
      const sm = this.spanMetrics;
      if (sm !== undefined) {
        sm.setNow(nowMs);
        sm.recordAll(spanMetricSpans);
      }
      const sg = this.serviceGraph;
      if (sg !== undefined) {
        sg.setNow(nowMs);
        sg.recordAll(spanMetricSpans);
      }
      const tti = this.tracesTargetInfo;
      if (tti !== undefined) {
        for (let i = 0; i < metrics.length; i++) {
          const svc = metrics[i].service;
          if (!tti.has(svc)) {
            tti.registerService(svc);
            this._targets.set(svc.instanceId, svc);
          }
        }
      }
    }
    this.traceAttributes.applyAll(traces);
    return { metrics, traces, dropped };
  }

  /** Remove the series not updated for `ttlMs` before `nowMs`; returns how many (0 without TTL). */
  expire(nowMs: number): number {
    if (!(this.ttlMs > 0)) return 0;
    const cutoff = nowMs - this.ttlMs;
    let n = this._red.expire(cutoff) + (this.spanMetrics?.expire(cutoff) ?? 0) + (this.serviceGraph?.expire(cutoff) ?? 0);
    for (const r of this._recorders) n += r.histogram.index.expire(cutoff);
    this.exited.expire(cutoff);
    return n;
  }

  /** the series of one service instance, in every family that has an instance label */
  private _removeInstanceSeries(instanceId: string): number {
    let n = this._red.removeInstanceSeries(instanceId);
    const sm = this.spanMetrics;
    if (sm !== undefined) for (const pos of instancePositions(SPAN_METRICS_ATTRIBUTES)) n += sm.index.removeWhere(pos, instanceId);
    for (const r of this._recorders) for (const pos of instancePositions(r.histogram.attributes)) n += r.histogram.index.removeWhere(pos, instanceId);
    return n;
  }

  /** A service was selected: expose its `traces_target_info`. */
  registerService(service: ServiceIdentity): void {
    this.exited.selected(service.instanceId);
    if (this.tracesTargetInfo !== undefined) {
      this.tracesTargetInfo.registerService(service);
      this._targets.set(service.instanceId, service);
    }
    this._lookupCache.clear();
  }

  /** The services `traces_target_info` currently reports (empty without a span-metric feature). */
  targetServices(): IterableIterator<ServiceIdentity> {
    return this._targets.values();
  }

  /** A reported service by instance id. */
  service(instanceId: string): ServiceIdentity | undefined {
    return this._targets.get(instanceId);
  }

  /**
   * A reported service by name and namespace (the service-graph labels name services, not
   * instances): the last such instance in registration order, if any.
   */
  serviceNamed(name: string, namespace: string): ServiceIdentity | undefined {
    let hit: ServiceIdentity | undefined;
    for (const s of this._targets.values()) if (s.name === name && s.namespace === namespace) hit = s;
    return hit;
  }

  /** A service went away (its process exited): its series are kept as exited.ts says. */
  removeService(service: ServiceIdentity): void {
    this.exited.exited(service.instanceId, this._now);
    this.forgetService(service);
  }

  /**
   * The identity of an exited service is no longer kept (a late span had registered it again):
   * its target_info and per-service state go; its exit was counted at `removeService` already,
   * so its series are not put back among the exited ones (they may be gone at the cap).
   */
  forgetService(service: ServiceIdentity): void {
    this._red.removeService(service); // its target_info series and identity (churn: bounded memory)
    this.tracesTargetInfo?.removeService(service);
    this._targets.delete(service.instanceId);
    this.spanMetrics?.removeService(service);
    this._avoid?.forget(service);
    this._lookupCache.clear();
  }

  private _lookupServer(addr: string, port: number): ServiceIdentity | undefined {
    if (this._listeners === undefined) return undefined;
    if (!isLoopback(addr) && !this._localAddresses.has(addr)) return undefined;
    if (this._now - this._lookupCacheAt > LOOKUP_TTL_MS) {
      this._lookupCache.clear();
      this._lookupCacheAt = this._now;
    }
    let hit = this._lookupCache.get(port);
    if (hit === undefined) {
      hit = null;
      for (const p of this._listeners()) {
        if (p.info.listenPorts.includes(port)) {
          hit = p.service;
          break;
        }
      }
      this._lookupCache.set(port, hit);
    }
    return hit ?? undefined;
  }
}
