/**
 * RPC spans (gRPC) and the `rpc.server.call.duration` / `rpc.client.call.duration` metrics,
 * following OBI (obi-compat §2, §3).
 *
 * Span: name = the full method (`/pkg.Service/Method`), kind SERVER or CLIENT from the
 * connection's role, `Span.protocol = 'grpc'` (the instrumentation name of gRPC in
 * `instrumentations`, whatever descriptor decoded the connection). Attributes `rpc.method`,
 * `rpc.system.name`, `rpc.response.status_code` (the code's name; absent when the status could
 * not be decoded), `server.address`, `server.port`, server side `client.address`. Status: client
 * ERROR iff code ≠ OK; server ERROR for UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 * UNAVAILABLE, DATA_LOSS; otherwise UNSET. An incoming `traceparent` continues the trace on a server.
 *
 * Metrics: `rpc_server_call_duration_seconds` (server spans) and
 * `rpc_client_call_duration_seconds` (client spans); default labels `rpc.method`,
 * `rpc.system.name`, `rpc.response.status_code`, `server.address` (+ `server.port` on the
 * server) and the service labels; `client.address` (server) available through `attributes`.
 */
import { ATTR_CLIENT_ADDRESS, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE } from '@opentelemetry/semantic-conventions';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { RpcRecord } from '../protocols/common/records.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';

import type { FamilyTarget } from './family.ts';
import type { LabelValue } from './histogram.ts';
import type { IdSource } from './ids.ts';
import { ATTR_INSTANCE, ATTR_JOB, DEFAULT_DURATION_BUCKETS, promLabelName, spanAttributeGetter } from './metrics.ts';
import { TRACE_FLAG_SAMPLED } from './span.ts';
import type { Attributes, Span } from './span.ts';
import { parseTraceparent } from './tracecontext.ts';

export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_RPC_SYSTEM_NAME = 'rpc.system.name';
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code';

/** gRPC status names by code */
const GRPC_CODES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
/** codes that make a server span ERROR (obi-compat §3) */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

export function grpcStatusName(code: number): string {
  return GRPC_CODES[code] ?? String(code);
}

export function rpcSpan(rec: RpcRecord, conn: ConnInfo, service: ServiceIdentity, ids: IdSource): Span {
  const isServer = conn.role === 'server';
  const attributes: Attributes = {
    [ATTR_RPC_METHOD]: rec.method,
    [ATTR_RPC_SYSTEM_NAME]: rec.system,
    [ATTR_SERVER_ADDRESS]: isServer ? conn.localAddr : conn.remoteAddr,
    [ATTR_SERVER_PORT]: isServer ? conn.localPort : conn.remotePort,
  };
  if (isServer) attributes[ATTR_CLIENT_ADDRESS] = conn.remoteAddr;
  const code = rec.statusCode;
  if (code !== undefined) attributes[ATTR_RPC_RESPONSE_STATUS_CODE] = grpcStatusName(code);
  const failed = code !== undefined && (isServer ? SERVER_ERROR_CODES.has(code) : code !== 0);
  const incoming = isServer ? parseTraceparent(rec.traceparent) : undefined;
  return {
    protocol: 'grpc',
    category: 'rpc',
    traceId: incoming === undefined ? ids.traceId() : incoming.traceId,
    spanId: ids.spanId(),
    parentSpanId: incoming?.parentId,
    traceFlags: incoming === undefined ? TRACE_FLAG_SAMPLED : incoming.flags,
    name: rec.method,
    kind: isServer ? 'server' : 'client',
    startNs: rec.startNs,
    endNs: rec.endNs >= rec.startNs ? rec.endNs : rec.startNs,
    status: failed ? 'error' : 'unset',
    statusMessage: failed && rec.statusMessage !== undefined && rec.statusMessage.length > 0 ? rec.statusMessage : undefined,
    attributes,
    service,
    conn,
  };
}

// ---------------------------------------------------------------- metrics

export const RPC_SERVER_DURATION_NAME = 'rpc.server.call.duration';
export const RPC_SERVER_DURATION_PROM = 'rpc_server_call_duration_seconds';
export const RPC_CLIENT_DURATION_NAME = 'rpc.client.call.duration';
export const RPC_CLIENT_DURATION_PROM = 'rpc_client_call_duration_seconds';

export interface RpcMetricAttributeDef {
  readonly name: string;
  readonly byDefault: boolean;
}

const COMMON: readonly RpcMetricAttributeDef[] = [
  { name: ATTR_SERVICE_NAME, byDefault: true },
  { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
  { name: ATTR_JOB, byDefault: true },
  { name: ATTR_INSTANCE, byDefault: true },
  { name: ATTR_RPC_METHOD, byDefault: true },
  { name: ATTR_RPC_SYSTEM_NAME, byDefault: true },
  { name: ATTR_RPC_RESPONSE_STATUS_CODE, byDefault: true },
  { name: ATTR_SERVER_ADDRESS, byDefault: true },
];

/** Attributes of each RPC metric with OBI's defaults (§2.3). */
export const RPC_METRIC_ATTRIBUTES: { readonly server: readonly RpcMetricAttributeDef[]; readonly client: readonly RpcMetricAttributeDef[] } = {
  server: [...COMMON, { name: ATTR_SERVER_PORT, byDefault: true }, { name: ATTR_CLIENT_ADDRESS, byDefault: false }],
  client: [...COMMON, { name: ATTR_SERVER_PORT, byDefault: false }],
};

export function defaultRpcMetricAttributes(side: 'server' | 'client'): string[] {
  return RPC_METRIC_ATTRIBUTES[side]
    .filter((a) => a.byDefault)
    .map((a) => a.name)
    .sort();
}

export interface RpcMetricsOptions {
  readonly buckets?: readonly number[];
  /** attributes per metric (dot or underscore form); default OBI's */
  readonly serverAttributes?: readonly string[];
  readonly clientAttributes?: readonly string[];
  /** `prometheus_export.instrumentations`; default `*` */
  readonly instrumentations?: readonly string[];
}

type Getter = (span: Span) => LabelValue;

/** One of `rpc_server_call_duration_seconds` / `rpc_client_call_duration_seconds`: RPC spans of its kind. */
export class RpcCallMetric {
  readonly side: 'server' | 'client';
  readonly histogram: HistogramVec;
  /** the label attributes, dot form */
  readonly attributes: readonly string[];
  private readonly _index: SeriesIndex;
  private readonly _getters: readonly Getter[];
  private readonly _scratch: LabelValue[];
  /** undefined: every instrumentation */
  private readonly _enabled: ReadonlySet<string> | undefined;

  constructor(store: FamilyTarget, side: 'server' | 'client', options: RpcMetricsOptions = {}) {
    this.side = side;
    const inst = options.instrumentations ?? ['*'];
    this._enabled = inst.includes('*') ? undefined : new Set(inst);
    const defs = RPC_METRIC_ATTRIBUTES[side];
    const attrs = side === 'server' ? options.serverAttributes : options.clientAttributes;
    const toDot = new Map(defs.map((a) => [promLabelName(a.name), a.name]));
    const list = attrs === undefined ? defaultRpcMetricAttributes(side) : [...new Set(attrs.map((a) => toDot.get(a) ?? a))].sort();
    this.attributes = list;
    this._index = new SeriesIndex(list.length);
    this._getters = list.map(spanAttributeGetter);
    this._scratch = new Array<LabelValue>(list.length).fill('');
    this.histogram = new HistogramVec({
      name: side === 'server' ? RPC_SERVER_DURATION_NAME : RPC_CLIENT_DURATION_NAME,
      unit: 's',
      promName: side === 'server' ? RPC_SERVER_DURATION_PROM : RPC_CLIENT_DURATION_PROM,
      help: side === 'server' ? 'duration of RPC service calls from the server side, in seconds' : 'duration of GRPC service calls from the client side, in seconds',
      labelNames: list.map(promLabelName),
      attributes: list,
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      index: this._index,
    }).registerIn(store);
  }

  /** Observe one span: `rpc` spans of this side's kind and of the enabled instrumentations; others are ignored. */
  record(span: Span): void {
    if (span.category !== 'rpc' || span.kind !== this.side || (this._enabled !== undefined && !this._enabled.has(span.protocol))) return;
    const g = this._getters;
    const v = this._scratch;
    for (let i = 0; i < g.length; i++) v[i] = g[i](span);
    const d = span.endNs - span.startNs;
    this.histogram.observe(this._index.id(v), d > 0 ? d / 1e9 : 0);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }
}

/** Both RPC duration metrics (`rpc_server_call_duration_seconds`, `rpc_client_call_duration_seconds`), attributes chosen by `select` (attributes.select). */
export function createRpcMetrics(
  store: FamilyTarget,
  o: { buckets?: readonly number[]; select: (metric: string, defs: readonly RpcMetricAttributeDef[]) => string[]; instrumentations?: readonly string[] },
): RpcCallMetric[] {
  const opts: RpcMetricsOptions = {
    buckets: o.buckets,
    serverAttributes: o.select(RPC_SERVER_DURATION_NAME, RPC_METRIC_ATTRIBUTES.server),
    clientAttributes: o.select(RPC_CLIENT_DURATION_NAME, RPC_METRIC_ATTRIBUTES.client),
    instrumentations: o.instrumentations,
  };
  return [new RpcCallMetric(store, 'server', opts), new RpcCallMetric(store, 'client', opts)];
}
