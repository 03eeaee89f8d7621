/**
 * OBI's internal metrics about OTLP export (obi-compat §2.6), same names and help texts:
 * `obi_otel_trace_exports_total` / `obi_otel_metric_exports_total` count what was delivered
 * (spans, and metrics per request), the `*_errors_total{error}` counters count failed export
 * requests by a low-cardinality error type (gRPC status name, socket error code, `http_<status>`,
 * `timeout`, else `_OTHER`), never by message.
 */
import { CounterVec } from '../../telemetry/counter.ts';
import { SeriesIndex } from '../../telemetry/histogram.ts';
import type { MetricStore } from '../../telemetry/store.ts';

const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

/** Error type label of an export failure (see the module comment). */
export function exportErrorType(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '_OTHER';
  const e = err as { code?: unknown; details?: unknown; metadata?: unknown; name?: unknown; message?: unknown };
  // @grpc/grpc-js ServiceError: numeric status code plus details/metadata
  if (typeof e.code === 'number' && e.metadata !== undefined && Number.isInteger(e.code) && e.code >= 0 && e.code < GRPC_CODES.length) {
    return GRPC_CODES[e.code];
  }
  // OTLPExporterError: HTTP status in `code`
  if (typeof e.code === 'number' && e.code >= 100 && e.code <= 599) return `http_${e.code}`;
  // Node system errors: ECONNREFUSED, ECONNRESET, ENOTFOUND...
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,31}$/.test(e.code)) return e.code;
  if (typeof e.message === 'string' && /timed? ?out/i.test(e.message)) return 'timeout';
  return '_OTHER';
}

export interface OtlpExportMetricsOptions {
  /** metric name prefix; OBI's is `obi` */
  readonly prefix?: string;
}

export class OtlpExportMetrics {
  private readonly _traceExports: CounterVec;
  private readonly _traceErrors: CounterVec;
  private readonly _metricExports: CounterVec;
  private readonly _metricErrors: CounterVec;

  constructor(store: MetricStore, options: OtlpExportMetricsOptions = {}) {
    const p = options.prefix ?? 'obi';
    const none = new SeriesIndex(0);
    this._metricExports = new CounterVec({
      name: `${p}.otel.metric.exports`,
      help: 'Length of the metric batches submitted to the remote OTEL collector',
      labelNames: [],
      index: none,
    }).registerIn(store);
    this._metricErrors = new CounterVec({
      name: `${p}.otel.metric.export.errors`,
      help: 'Error count on each failed OTEL metric export',
      labelNames: ['error'],
      index: new SeriesIndex(1),
    }).registerIn(store);
    this._traceExports = new CounterVec({
      name: `${p}.otel.trace.exports`,
      help: 'Length of the trace batches submitted to the remote OTEL collector',
      labelNames: [],
      index: none,
    }).registerIn(store);
    this._traceErrors = new CounterVec({
      name: `${p}.otel.trace.export.errors`,
      help: 'Error count on each failed OTEL trace export',
      labelNames: ['error'],
      index: new SeriesIndex(1),
    }).registerIn(store);
  }

  /** `n` spans delivered in one request */
  traceExport(n: number): void {
    if (n > 0) this._traceExports.inc(0, n);
  }

  traceExportError(err: unknown): void {
    this._traceErrors.inc(this._traceErrors.index.id([exportErrorType(err)]), 1);
  }

  /** `n` metrics delivered in one request */
  metricExport(n: number): void {
    if (n > 0) this._metricExports.inc(0, n);
  }

  metricExportError(err: unknown): void {
    this._metricErrors.inc(this._metricErrors.index.id([exportErrorType(err)]), 1);
  }
}
