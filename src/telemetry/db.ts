/**
 * Database and cache client spans and the `db.client.operation.duration` metric, following
 * OBI (obi-compat §2.1–2.3, §3.1–3.2).
 *
 * Span names:
 * - SQL (`postgresql`, `mysql`, `other_sql`): `<OP> <table>`, else `<OP> <db.namespace>`, else
 *   `<OP>`, else `SQL`;
 * - Redis: the command (`GET`, `HSET`), else `REDIS`;
 * - Memcached: the command (`GET`, `SET`), else `MEMCACHED`;
 * - MongoDB: `<command> <collection>` (`find users`), else the command, else the collection,
 *   else `mongodb`.
 *
 * Attributes: `db.system.name`, `db.operation.name`, `db.collection.name`, `db.namespace`,
 * `server.address`, `server.port`; on errors `db.response.status_code`, `error.type` and span
 * status ERROR with the server's message; `db.query.text` only when the caller passes it
 * (it is opt-in through `attributes.select.traces`, and the caller masks literals first).
 *
 * Metric: `db_client_operation_duration_seconds` for client spans, labels by default
 * `db.operation.name`, `db.system.name`, `server.address`, `error.type` plus the service labels
 * every application metric carries (`service.name`, `service.namespace`, `job`, `instance`);
 * `db.collection.name` and `db.namespace` are available through `attributes`.
 */
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
} from '@opentelemetry/semantic-conventions';
import type { ServiceIdentity } from '../common/service.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import type { IdSource } from './ids.ts';
import { ATTR_INSTANCE, ATTR_JOB, DEFAULT_DURATION_BUCKETS, promLabelName, spanAttributeGetter } from './metrics.ts';
import { TRACE_FLAG_SAMPLED } from './span.ts';
import type { Attributes, Span } from './span.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { DbRecord } from '../protocols/common/records.ts';
import type { MetricStore } from './store.ts';

export interface DbSpanOptions {
  /** `db.query.text`, already masked; omitted when undefined or empty */
  readonly queryText?: string;
}

/** OBI's span name for a DB operation (obi-compat §3.1). */
export function dbSpanName(rec: DbRecord): string {
  const op = rec.operation;
  switch (rec.system) {
    case 'redis':
      return op !== undefined && op.length > 0 ? op : 'REDIS';
    case 'memcached':
      return op !== undefined && op.length > 0 ? op : 'MEMCACHED';
    case 'mongodb': {
      const coll = rec.collection !== undefined && rec.collection.length > 0 ? rec.collection : undefined;
      if (op !== undefined && op.length > 0) return coll !== undefined ? `${op} ${coll}` : op;
      return coll ?? 'mongodb';
    }
    default:
      if (op === undefined || op.length === 0) return 'SQL';
      if (rec.collection !== undefined && rec.collection.length > 0) return `${op} ${rec.collection}`;
      if (rec.namespace !== undefined && rec.namespace.length > 0) return `${op} ${rec.namespace}`;
      return op;
  }
}

/**
 * Build the span of one DB operation. Kind CLIENT when the instrumented process connected
 * out (the usual case), SERVER when it is the database.
 */
export function dbSpan(rec: DbRecord, conn: ConnInfo, service: ServiceIdentity, ids: IdSource, instrumentation: string, options?: DbSpanOptions): Span {
  const isServer = conn.role === 'server';
  const attributes: Attributes = {
    [ATTR_DB_SYSTEM_NAME]: rec.system,
    [ATTR_SERVER_ADDRESS]: isServer ? conn.localAddr : conn.remoteAddr,
    [ATTR_SERVER_PORT]: isServer ? conn.localPort : conn.remotePort,
  };
  if (rec.operation !== undefined && rec.operation.length > 0) attributes[ATTR_DB_OPERATION_NAME] = rec.operation;
  if (rec.collection !== undefined && rec.collection.length > 0) attributes[ATTR_DB_COLLECTION_NAME] = rec.collection;
  if (rec.namespace !== undefined && rec.namespace.length > 0) attributes[ATTR_DB_NAMESPACE] = rec.namespace;
  const q = options?.queryText;
  if (q !== undefined && q.length > 0) attributes[ATTR_DB_QUERY_TEXT] = q;
  const failed = rec.errorType !== undefined && rec.errorType.length > 0;
  if (failed) {
    attributes[ATTR_ERROR_TYPE] = rec.errorType as string;
    attributes[ATTR_DB_RESPONSE_STATUS_CODE] = rec.errorCode !== undefined && rec.errorCode.length > 0 ? rec.errorCode : (rec.errorType as string);
  }
  const span: Span = {
    protocol: instrumentation,
    category: 'db',
    traceId: ids.traceId(),
    spanId: ids.spanId(),
    traceFlags: TRACE_FLAG_SAMPLED,
    name: dbSpanName(rec),
    kind: isServer ? 'server' : 'client',
    startNs: rec.startNs,
    endNs: rec.endNs >= rec.startNs ? rec.endNs : rec.startNs,
    status: failed ? 'error' : 'unset',
    statusMessage: failed && rec.errorMessage !== undefined && rec.errorMessage.length > 0 ? rec.errorMessage : undefined,
    attributes,
    service,
    conn,
  };
  return span;
}

// ---------------------------------------------------------------- metric

export const DB_CLIENT_DURATION_NAME = 'db.client.operation.duration';
export const DB_CLIENT_DURATION_PROM = 'db_client_operation_duration_seconds';
/** OBI's help text (pkg/export/prom) */
export const DB_CLIENT_DURATION_HELP = 'duration of db client operations, in seconds';

export interface DbMetricAttributeDef {
  readonly name: string;
  readonly byDefault: boolean;
}

/** Attributes `db.client.operation.duration` knows, with OBI's defaults (obi-compat §2.3). */
export const DB_METRIC_ATTRIBUTES: readonly DbMetricAttributeDef[] = [
  { name: ATTR_SERVICE_NAME, byDefault: true },
  { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
  { name: ATTR_JOB, byDefault: true },
  { name: ATTR_INSTANCE, byDefault: true },
  { name: ATTR_DB_OPERATION_NAME, byDefault: true },
  { name: ATTR_DB_SYSTEM_NAME, byDefault: true },
  { name: ATTR_SERVER_ADDRESS, byDefault: true },
  { name: ATTR_ERROR_TYPE, byDefault: true },
  { name: ATTR_DB_COLLECTION_NAME, byDefault: false },
  { name: ATTR_DB_NAMESPACE, byDefault: false },
];

/** Default label attributes of `db.client.operation.duration`, sorted. */
export function defaultDbMetricAttributes(): string[] {
  return DB_METRIC_ATTRIBUTES.filter((a) => a.byDefault)
    .map((a) => a.name)
    .sort();
}

export interface DbMetricsOptions {
  readonly buckets?: readonly number[];
  /** attributes to report (dot or underscore form); default OBI's */
  readonly attributes?: readonly string[];
  /** `prometheus_export.instrumentations`: spans of other instrumentations are not recorded; default `*` */
  readonly instrumentations?: readonly string[];
}

type Getter = (span: Span) => LabelValue;

const UNDERSCORE_TO_DOT = new Map<string, string>(DB_METRIC_ATTRIBUTES.map((a) => [promLabelName(a.name), a.name]));

/** The `db_client_operation_duration_seconds` histogram. */
export class DbMetrics {
  readonly labelNames: readonly string[];
  private readonly _hist: HistogramVec;
  private readonly _index: SeriesIndex;
  private readonly _getters: readonly Getter[];
  private readonly _scratch: LabelValue[];
  /** undefined: every instrumentation */
  private readonly _enabled: ReadonlySet<string> | undefined;

  constructor(store: MetricStore, options: DbMetricsOptions = {}) {
    const inst = options.instrumentations ?? ['*'];
    this._enabled = inst.includes('*') ? undefined : new Set(inst);
    const attrs =
      options.attributes === undefined ? defaultDbMetricAttributes() : [...new Set(options.attributes.map((a) => UNDERSCORE_TO_DOT.get(a) ?? a))].sort();
    this._index = new SeriesIndex(attrs.length);
    this._getters = attrs.map(spanAttributeGetter);
    this._scratch = new Array<LabelValue>(attrs.length).fill('');
    this.labelNames = attrs.map(promLabelName);
    this._hist = new HistogramVec({
      name: DB_CLIENT_DURATION_NAME,
      unit: 's',
      help: DB_CLIENT_DURATION_HELP,
      labelNames: this.labelNames,
      attributes: attrs,
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      index: this._index,
    }).registerIn(store);
  }

  /** Observe one span: client spans of category `db` of the enabled instrumentations; others are ignored. */
  record(span: Span): void {
    if (span.kind !== 'client' || span.category !== 'db' || (this._enabled !== undefined && !this._enabled.has(span.protocol))) return;
    const g = this._getters;
    const v = this._scratch;
    for (let i = 0; i < g.length; i++) v[i] = g[i](span);
    const d = span.endNs - span.startNs;
    this._hist.observe(this._index.id(v), d > 0 ? d / 1e9 : 0);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  /** the histogram family (also in the store under {@link DB_CLIENT_DURATION_NAME}) */
  get histogram(): HistogramVec {
    return this._hist;
  }
}
