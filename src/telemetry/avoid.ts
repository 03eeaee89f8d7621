/**
 * No duplicate signals for services that already export through an OpenTelemetry SDK
 * (`discovery.exclude_otel_instrumented_services`, default true; obi-compat §5).
 *
 * Detection, per service instance, from the spans obi-ts itself builds for it (before any
 * filter): a *successful* (status UNSET) client span that is an OTLP export,
 *
 * - HTTP: a client request whose `url.path` ends in `/v1/traces` or `/v1/metrics`;
 * - gRPC: the methods `/opentelemetry.proto.collector.trace.v1.TraceService/Export` and
 *   `/opentelemetry.proto.collector.metrics.v1.MetricsService/Export`;
 * - gRPC to the port of the process's own `OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)ENDPOINT`
 *   (else `discovery.default_otlp_grpc_port`, 4317) when its protocol variable says `grpc`; a
 *   port both signals share counts only for the signal whose exporter is not `none`.
 *
 * Effect, sticky for the life of the instance: a traces exporter gets no obi-ts spans; a metrics
 * exporter gets no application (RED) metrics; with
 * `exclude_otel_instrumented_services_span_metrics` a traces exporter also gets no span metrics
 * and service-graph metrics (they are derived from spans its SDK already sends). Instrumentation
 * stays attached. Each avoided (service, signal) is reported once through `onAvoided`
 * (`obi_avoided_services`). Failed exports (an error status, a dead endpoint: no response)
 * change nothing.
 *
 * Pure: the process environment comes through the `exportPorts` callback (read by the caller).
 */
import type { ServiceIdentity } from '../common/service.ts';
import type { Span } from './span.ts';

export type AvoidedSignal = 'traces' | 'metrics';

export const OTLP_TRACE_EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const OTLP_METRICS_EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

/** OTLP/gRPC ports a process's environment names, per signal (undefined: not exported over gRPC). */
export interface GrpcExportPorts {
  readonly traces?: number;
  readonly metrics?: number;
}

export interface AvoidOptions {
  /** `discovery.exclude_otel_instrumented_services` */
  readonly enabled: boolean;
  /** `discovery.exclude_otel_instrumented_services_span_metrics` */
  readonly spanMetrics?: boolean;
  /** gRPC export ports of a service's process, from its environment ({@link grpcExportPortsFromEnv}) */
  readonly exportPorts?: (service: ServiceIdentity) => GrpcExportPorts | undefined;
  /** a (service, signal) is avoided from now on */
  readonly onAvoided?: (service: ServiceIdentity, signal: AvoidedSignal) => void;
}

const TRACES = 1;
const METRICS = 2;

/** the request path of an HTTP client span: `url.path`, else the path of `url.full` (query left out) */
function urlPath(span: Span): string | undefined {
  const p = span.attributes['url.path'];
  if (typeof p === 'string') return p;
  const full = span.attributes['url.full'];
  if (typeof full !== 'string') return undefined;
  const scheme = full.indexOf('://');
  const slash = scheme < 0 ? full.indexOf('/') : full.indexOf('/', scheme + 3);
  if (slash < 0) return '';
  const q = full.indexOf('?', slash);
  return q < 0 ? full.slice(slash) : full.slice(slash, q);
}

/** The export signal a span shows, if it is a successful OTLP export. */
export function exportSignal(span: Span, ports: GrpcExportPorts | undefined): number {
  if (span.kind !== 'client' || span.status !== 'unset') return 0;
  if (span.category === 'http') {
    const path = urlPath(span);
    if (path === undefined) return 0;
    if (path.endsWith('/v1/traces')) return TRACES;
    if (path.endsWith('/v1/metrics')) return METRICS;
    return 0;
  }
  if (span.category === 'rpc') {
    const method = typeof span.attributes['rpc.method'] === 'string' ? (span.attributes['rpc.method'] as string) : span.name;
    if (method.startsWith(OTLP_TRACE_EXPORT_METHOD)) return TRACES;
    if (method.startsWith(OTLP_METRICS_EXPORT_METHOD)) return METRICS;
    const port = span.attributes['server.port'];
    if (ports !== undefined && typeof port === 'number') {
      let s = 0;
      if (ports.traces === port) s |= TRACES;
      if (ports.metrics === port) s |= METRICS;
      return s === (TRACES | METRICS) ? 0 : s;
    }
  }
  return 0;
}

function portOf(endpoint: string | undefined): number | undefined {
  if (endpoint === undefined || endpoint.trim() === '') return undefined;
  const text = endpoint.trim();
  try {
    const u = new URL(text.includes('://') ? text : `http://${text}`);
    if (u.port !== '') return Number(u.port);
    return u.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}

/**
 * The OTLP/gRPC ports an SDK with environment `env` exports to, as the SDKs read it: per signal,
 * `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL` (else `OTEL_EXPORTER_OTLP_PROTOCOL`) must be `grpc`; the
 * port is that of `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * else `defaultPort`. A signal whose `OTEL_<SIGNAL>_EXPORTER` is `none` exports nothing.
 */
export function grpcExportPortsFromEnv(env: ReadonlyMap<string, string> | undefined, defaultPort: number): GrpcExportPorts | undefined {
  if (env === undefined) return undefined;
  const one = (sig: 'TRACES' | 'METRICS'): number | undefined => {
    if ((env.get(`OTEL_${sig}_EXPORTER`) ?? '').trim() === 'none') return undefined;
    const proto = (env.get(`OTEL_EXPORTER_OTLP_${sig}_PROTOCOL`) ?? env.get('OTEL_EXPORTER_OTLP_PROTOCOL') ?? '').trim();
    if (proto !== 'grpc') return undefined;
    return portOf(env.get(`OTEL_EXPORTER_OTLP_${sig}_ENDPOINT`)) ?? portOf(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')) ?? defaultPort;
  };
  const traces = one('TRACES');
  const metrics = one('METRICS');
  if (traces === undefined && metrics === undefined) return undefined;
  const out: { traces?: number; metrics?: number } = {};
  if (traces !== undefined) out.traces = traces;
  if (metrics !== undefined) out.metrics = metrics;
  return out;
}

export class OtelSdkAvoider {
  readonly enabled: boolean;
  private readonly _spanMetrics: boolean;
  private readonly _opts: AvoidOptions;
  /** instance id → TRACES | METRICS bits */
  private readonly _flags = new Map<string, number>();
  /** instance id → gRPC export ports (null: none), read once per instance */
  private readonly _ports = new Map<string, GrpcExportPorts | null>();

  constructor(opts: AvoidOptions) {
    this._opts = opts;
    this.enabled = opts.enabled;
    this._spanMetrics = opts.spanMetrics === true;
  }

  /** Looks at a batch for OTLP exports (call before filtering it). */
  observe(spans: readonly Span[]): void {
    if (!this.enabled) return;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (s.kind !== 'client' || s.status !== 'unset' || (s.category !== 'http' && s.category !== 'rpc')) continue;
      const sig = exportSignal(s, s.category === 'rpc' ? this._portsOf(s.service) : undefined);
      if (sig === 0) continue;
      const id = s.service.instanceId;
      const had = this._flags.get(id) ?? 0;
      const now = had | sig;
      if (now === had) continue;
      this._flags.set(id, now);
      if ((now & TRACES) !== 0 && (had & TRACES) === 0) this._opts.onAvoided?.(s.service, 'traces');
      if ((now & METRICS) !== 0 && (had & METRICS) === 0) this._opts.onAvoided?.(s.service, 'metrics');
    }
  }

  /** whether `service` is avoided for `signal` */
  avoids(service: ServiceIdentity, signal: AvoidedSignal): boolean {
    return ((this._flags.get(service.instanceId) ?? 0) & (signal === 'traces' ? TRACES : METRICS)) !== 0;
  }

  /** true when nothing is avoided (the common case: the filters below are skipped) */
  get idle(): boolean {
    return this._flags.size === 0;
  }

  /** spans left for traces */
  traces(spans: readonly Span[]): readonly Span[] {
    return this._keep(spans, TRACES);
  }

  /** spans left for application (RED) metrics */
  metrics(spans: readonly Span[]): readonly Span[] {
    return this._keep(spans, METRICS);
  }

  /** spans left for span metrics and the service graph */
  spanMetrics(spans: readonly Span[]): readonly Span[] {
    return this._spanMetrics ? this._keep(spans, TRACES) : spans;
  }

  /** a service went away */
  forget(service: ServiceIdentity): void {
    this._flags.delete(service.instanceId);
    this._ports.delete(service.instanceId);
  }

  private _keep(spans: readonly Span[], bit: number): readonly Span[] {
    if (this._flags.size === 0) return spans;
    let out: Span[] | undefined;
    for (let i = 0; i < spans.length; i++) {
      const drop = ((this._flags.get(spans[i].service.instanceId) ?? 0) & bit) !== 0;
      if (drop && out === undefined) out = spans.slice(0, i);
      else if (!drop && out !== undefined) out.push(spans[i]);
    }
    return out ?? spans;
  }

  private _portsOf(service: ServiceIdentity): GrpcExportPorts | undefined {
    const get = this._opts.exportPorts;
    if (get === undefined) return undefined;
    let p = this._ports.get(service.instanceId);
    if (p === undefined) {
      p = get(service) ?? null;
      this._ports.set(service.instanceId, p);
    }
    return p ?? undefined;
  }
}
