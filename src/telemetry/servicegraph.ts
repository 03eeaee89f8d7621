/**
 * Service-graph metrics (`metrics.features: application_service_graph`, obi-compat §2.4):
 *
 * - `traces_service_graph_request_client_seconds` (histogram, client spans)
 * - `traces_service_graph_request_server_seconds` (histogram, server spans)
 * - `traces_service_graph_request_total` (counter): server spans; client spans only when the
 *   server they call is not instrumented by this agent (then `connection_type="virtual_node"`),
 *   so an edge between two instrumented services is counted once, on its server side
 * - `traces_service_graph_request_failed_total` (counter): spans with status ERROR
 *
 * Labels: `client`, `client_service_namespace`, `server`, `server_service_namespace`, `source`
 * (`obi`), `connection_type` (`database`, `messaging_system`, `virtual_node`, or empty = absent).
 *
 * Endpoints, as OBI names them without Kubernetes metadata:
 * - server span: client = the peer address, server = the service's name (its namespace is
 *   `server_service_namespace`; `client_service_namespace` is empty);
 * - client span: client = the service's name (and namespace), server = the name of the local
 *   instrumented service listening on the peer address and port if there is one (and its
 *   namespace), else the peer address.
 *
 * Skipped: DNS spans, spans without a connection, and self references (same address on both
 * ends, same or unknown namespace) unless `allow_service_graph_self_references`. With TTL as
 * in {@link RedMetrics} (`setNow`, `expire`).
 */
import type { ProtocolCategory } from '../protocols/common/records.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { CounterVec } from './counter.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import { DEFAULT_DURATION_BUCKETS } from './metrics.ts';
import { SOURCE } from './spanmetrics.ts';
import type { Span } from './span.ts';
import type { MetricStore } from './store.ts';

export const SERVICE_GRAPH_NAMES = {
  client: { prom: 'traces_service_graph_request_client_seconds', otel: 'traces_service_graph_request_client' },
  server: { prom: 'traces_service_graph_request_server_seconds', otel: 'traces_service_graph_request_server' },
  failed: { prom: 'traces_service_graph_request_failed_total', otel: 'traces_service_graph_request_failed_total' },
  total: { prom: 'traces_service_graph_request_total', otel: 'traces_service_graph_request_total' },
} as const;

/** OBI's service-graph labels, in its order. */
export const SERVICE_GRAPH_LABELS: readonly string[] = ['client', 'client_service_namespace', 'server', 'server_service_namespace', 'source', 'connection_type'];

export type ConnectionType = 'database' | 'messaging_system' | 'virtual_node' | '';

/** Categories whose peer is not a service but a database or a message broker: their edge type. */
const PEER_CONNECTION_TYPE: Partial<Record<ProtocolCategory, ConnectionType>> = { db: 'database', messaging: 'messaging_system' };

/** Finds the instrumented service listening on `addr:port` on this host, if any. */
export type InstrumentedServerLookup = (addr: string, port: number) => ServiceIdentity | undefined;

export interface ServiceGraphOptions {
  /** duration buckets (s); default OBI's */
  readonly buckets?: readonly number[];
  /** `allow_service_graph_self_references` */
  readonly allowSelfReferences?: boolean;
  /** local instrumented servers; without it every called server counts as uninstrumented */
  readonly lookupServer?: InstrumentedServerLookup;
}

export class ServiceGraph {
  readonly index: SeriesIndex;
  readonly client: HistogramVec;
  readonly server: HistogramVec;
  readonly failed: CounterVec;
  readonly total: CounterVec;
  private readonly _allowSelf: boolean;
  private readonly _lookup: InstrumentedServerLookup | undefined;
  private readonly _scratch: LabelValue[] = new Array<LabelValue>(SERVICE_GRAPH_LABELS.length).fill('');

  constructor(store: MetricStore, options: ServiceGraphOptions = {}) {
    this._allowSelf = options.allowSelfReferences ?? false;
    this._lookup = options.lookupServer;
    const buckets = options.buckets ?? DEFAULT_DURATION_BUCKETS;
    this.index = new SeriesIndex(SERVICE_GRAPH_LABELS.length);
    const index = this.index;
    const labelNames = SERVICE_GRAPH_LABELS;
    this.client = new HistogramVec({
      name: SERVICE_GRAPH_NAMES.client.otel,
      unit: 's',
      help: 'duration of client service calls, in seconds, in trace service graph metrics format',
      labelNames,
      buckets,
      index,
    }).registerIn(store);
    this.server = new HistogramVec({
      name: SERVICE_GRAPH_NAMES.server.otel,
      unit: 's',
      help: 'duration of server service calls, in seconds, in trace service graph metrics format',
      labelNames,
      buckets,
      index,
    }).registerIn(store);
    this.failed = new CounterVec({ name: SERVICE_GRAPH_NAMES.failed.otel, help: 'number of failed service calls in trace service graph metrics format', labelNames, index }).registerIn(store);
    this.total = new CounterVec({ name: SERVICE_GRAPH_NAMES.total.otel, help: 'number of service calls in trace service graph metrics format', labelNames, index }).registerIn(store);
  }

  record(span: Span): void {
    const conn = span.conn;
    if (conn === undefined || span.category === 'dns') return;
    const isClient = span.kind === 'client' || span.kind === 'producer';
    const isServer = span.kind === 'server' || span.kind === 'consumer';
    if (!isClient && !isServer) return;
    const svc = span.service;
    // OBI's Peer (client side) and Host (server side) addresses
    const peer = isClient ? conn.localAddr : conn.remoteAddr;
    const host = isClient ? conn.remoteAddr : conn.localAddr;
    const other = isClient && this._lookup !== undefined ? this._lookup(conn.remoteAddr, conn.remotePort) : undefined;
    const otherNamespace = other?.namespace ?? '';
    const joined = isServer ? span.peerService : undefined; // its client is a service on this host (telemetry/correlate.ts)
    const self = joined !== undefined ? joined.name === svc.name && joined.namespace === svc.namespace : peer === host && (otherNamespace === '' || otherNamespace === svc.namespace);
    if (!this._allowSelf && self) return;

    let connectionType: ConnectionType = PEER_CONNECTION_TYPE[span.category] ?? '';
    if (connectionType === '' && isClient && other === undefined) connectionType = 'virtual_node';

    const v = this._scratch;
    if (isClient) {
      v[0] = svc.name;
      v[1] = svc.namespace;
      v[2] = other?.name ?? host;
      v[3] = otherNamespace;
    } else {
      v[0] = joined?.name ?? peer;
      v[1] = joined?.namespace ?? '';
      v[2] = svc.name;
      v[3] = svc.namespace;
    }
    v[4] = SOURCE;
    v[5] = connectionType;
    const id = this.index.id(v);
    const ns = span.endNs - span.startNs;
    const seconds = ns > 0 ? ns / 1e9 : 0;
    if (isClient) {
      this.client.observe(id, seconds);
      if (other === undefined) this.total.inc(id, 1);
    } else {
      this.server.observe(id, seconds);
      this.total.inc(id, 1);
    }
    if (span.status === 'error') this.failed.inc(id, 1);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  setNow(now: number): void {
    this.index.now = now;
  }

  expire(cutoff: number): number {
    return this.index.expire(cutoff);
  }
}
