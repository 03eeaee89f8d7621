/**
 * The official OpenTelemetry JS OTLP exporters, one per protocol and signal, behind one small
 * interface that resolves a result instead of taking a callback. They serialise (protobuf or
 * JSON), send (node:http(s) or @grpc/grpc-js) and retry transient failures within one request's
 * timeout; batching, queue bounds, back-off across requests and drop counting are ours
 * (traces.ts, metrics.ts).
 *
 * Timeout: `timeoutMillis` when given, else the library's own reading of the standard
 * `OTEL_EXPORTER_OTLP_TIMEOUT` / `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_TIMEOUT` (default 10 s),
 * as OBI's Go exporters read them.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpProtocol } from '../../config/otlp.ts';

export interface TransportOptions {
  /** full request URL for HTTP; scheme://host:port for gRPC (as `resolveOtlp` gives them) */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly headers?: Readonly<Record<string, string>>;
  /** per request, retries included; default: the library's (env OTEL_EXPORTER_OTLP_*TIMEOUT, else 10 s) */
  readonly timeoutMillis?: number;
  /** accept any server certificate on https endpoints */
  readonly insecureSkipVerify?: boolean;
}

/** Outcome of one export request: `error` is set when it failed (after the library's retries). */
export interface ExportOutcome {
  readonly ok: boolean;
  readonly error?: unknown;
}

/** One OTLP exporter: `send` never throws or rejects. */
export interface OtlpSender<T> {
  send(items: T): Promise<ExportOutcome>;
  /** waits for requests in flight, then closes connections */
  shutdown(): Promise<void>;
}

interface LibraryExporter<T> {
  export(items: T, done: (result: { code: ExportResultCode; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

function wrap<T>(exporter: LibraryExporter<T>): OtlpSender<T> {
  return {
    send(items: T): Promise<ExportOutcome> {
      return new Promise((resolve) => {
        try {
          exporter.export(items, (r) => resolve(r.code === ExportResultCode.SUCCESS ? { ok: true } : { ok: false, error: r.error }));
        } catch (error) {
          resolve({ ok: false, error });
        }
      });
    },
    shutdown: () => exporter.shutdown().catch(() => undefined),
  };
}

function isHttps(endpoint: string): boolean {
  return endpoint.trim().toLowerCase().startsWith('https:');
}

function grpcOptions(o: TransportOptions): { url: string; metadata: Metadata; credentials?: ChannelCredentials; timeoutMillis?: number } {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(o.headers ?? {})) metadata.set(k.toLowerCase(), v);
  const out: { url: string; metadata: Metadata; credentials?: ChannelCredentials; timeoutMillis?: number } = { url: o.endpoint, metadata };
  if (isHttps(o.endpoint) && o.insecureSkipVerify) out.credentials = credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  if (o.timeoutMillis !== undefined) out.timeoutMillis = o.timeoutMillis;
  return out;
}

function httpOptions(o: TransportOptions): { url: string; headers: Record<string, string>; timeoutMillis?: number; httpAgentOptions?: { keepAlive: boolean; rejectUnauthorized: boolean } } {
  const out: { url: string; headers: Record<string, string>; timeoutMillis?: number; httpAgentOptions?: { keepAlive: boolean; rejectUnauthorized: boolean } } = {
    url: o.endpoint,
    headers: { ...(o.headers ?? {}) },
  };
  if (isHttps(o.endpoint) && o.insecureSkipVerify) out.httpAgentOptions = { keepAlive: true, rejectUnauthorized: false };
  if (o.timeoutMillis !== undefined) out.timeoutMillis = o.timeoutMillis;
  return out;
}

/** An OTLP trace exporter for the protocol. */
export function createTraceSender(o: TransportOptions): OtlpSender<ReadableSpan[]> {
  switch (o.protocol) {
    case 'grpc':
      return wrap(new GrpcTraceExporter(grpcOptions(o)));
    case 'http/json':
      return wrap(new JsonTraceExporter(httpOptions(o)));
    case 'http/protobuf':
      return wrap(new ProtoTraceExporter(httpOptions(o)));
  }
}

/** An OTLP metrics exporter for the protocol (one resource per request). */
export function createMetricSender(o: TransportOptions): OtlpSender<ResourceMetrics> {
  switch (o.protocol) {
    case 'grpc':
      return wrap(new GrpcMetricExporter(grpcOptions(o)));
    case 'http/json':
      return wrap(new JsonMetricExporter(httpOptions(o)));
    case 'http/protobuf':
      return wrap(new ProtoMetricExporter(httpOptions(o)));
  }
}
