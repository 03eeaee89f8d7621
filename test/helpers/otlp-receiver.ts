// Over 400 lines: one receiver decoding OTLP protobuf, JSON and gRPC for traces and metrics.
/**
 * A test OTLP collector: HTTP (`POST /v1/traces`, `POST /v1/metrics`, protobuf or JSON bodies)
 * and gRPC (the real `TraceService/Export` and `MetricsService/Export` methods, served with
 * @grpc/grpc-js). Bodies are decoded with protobufjs from the OTLP message definitions
 * (otlp-proto.ts) or, for http/json, parsed per the OTLP/JSON mapping (hex ids, string
 * int64s), and flattened into spans and metric data points that tests can assert on.
 */
import { Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { createServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  METRICS_EXPORT_PATH,
  TRACE_EXPORT_PATH,
} from './otlp-proto.ts';
import { waitFor } from './harness.ts';

export type ReceivedProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type AttrValue = string | number | boolean | bigint | Uint8Array | AttrValue[] | { [key: string]: AttrValue };
export type Attrs = Record<string, AttrValue>;

export interface ReceivedSpan {
  readonly protocol: ReceivedProtocol;
  readonly resource: Attrs;
  readonly scope: { readonly name: string; readonly version: string };
  /** lowercase hex */
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attrs;
  /** 0 unset, 1 ok, 2 error */
  readonly status: { readonly code: number; readonly message: string };
  readonly flags: number;
}

export interface ReceivedDataPoint {
  readonly attributes: Attrs;
  readonly startTimeUnixNano: bigint;
  readonly timeUnixNano: bigint;
  readonly count: number;
  readonly sum: number | undefined;
  /** explicit histograms */
  readonly bucketCounts: number[];
  readonly explicitBounds: number[];
  /** exponential histograms */
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly bucketCounts: number[] };
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** gauge / sum points */
  readonly value: number | undefined;
}

export interface ReceivedMetric {
  readonly protocol: ReceivedProtocol;
  readonly resource: Attrs;
  readonly scope: { readonly name: string; readonly version: string };
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'histogram' | 'exponentialHistogram' | 'sum' | 'gauge' | 'summary' | 'none';
  /** 1 delta, 2 cumulative, 0 for gauges */
  readonly temporality: number;
  /** sums: `isMonotonic` (false for gauges and histograms) */
  readonly monotonic: boolean;
  readonly dataPoints: ReceivedDataPoint[];
}

export interface ReceivedRequest {
  readonly protocol: ReceivedProtocol;
  readonly signal: 'traces' | 'metrics';
  readonly path: string;
  /** HTTP headers or gRPC metadata, lowercase keys */
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
  readonly items: number;
}

export interface OtlpReceiverOptions {
  /** HTTP port; default a free one; `false` = no HTTP listener */
  readonly httpPort?: number | false;
  /** gRPC port; default a free one; `false` = no gRPC listener */
  readonly grpcPort?: number | false;
}

type Json = Record<string, unknown>;

function idHex(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.toLowerCase(); // OTLP/JSON: hex
  return Buffer.from(v as Uint8Array).toString('hex');
}

function toBig(v: unknown): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  // protobufjs Long-like
  return BigInt(String(v));
}

function toNum(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  return typeof v === 'number' ? v : Number(v);
}

function anyValue(v: Json | undefined): AttrValue {
  if (v === undefined || v === null) return '';
  if ('stringValue' in v && v.stringValue !== undefined) return v.stringValue as string;
  if ('boolValue' in v && v.boolValue !== undefined) return v.boolValue as boolean;
  if ('intValue' in v && v.intValue !== undefined) {
    const b = toBig(v.intValue);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if ('doubleValue' in v && v.doubleValue !== undefined) return toNum(v.doubleValue);
  if ('arrayValue' in v && v.arrayValue !== undefined) return (((v.arrayValue as Json).values as Json[] | undefined) ?? []).map((x) => anyValue(x));
  if ('kvlistValue' in v && v.kvlistValue !== undefined) return attrs((v.kvlistValue as Json).values as Json[] | undefined);
  if ('bytesValue' in v && v.bytesValue !== undefined) {
    return typeof v.bytesValue === 'string' ? Buffer.from(v.bytesValue, 'base64') : Buffer.from(v.bytesValue as Uint8Array);
  }
  return '';
}

function attrs(list: Json[] | undefined): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) out[kv.key as string] = anyValue(kv.value as Json | undefined);
  return out;
}

function scopeOf(s: Json | undefined): { name: string; version: string } {
  return { name: (s?.name as string | undefined) ?? '', version: (s?.version as string | undefined) ?? '' };
}

/** Flatten an ExportTraceServiceRequest (protobufjs object or OTLP/JSON) into spans. */
export function flattenTraces(req: Json, protocol: ReceivedProtocol): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (req.resourceSpans as Json[] | undefined) ?? []) {
    const resource = attrs((rs.resource as Json | undefined)?.attributes as Json[] | undefined);
    for (const ss of (rs.scopeSpans as Json[] | undefined) ?? []) {
      const scope = scopeOf(ss.scope as Json | undefined);
      for (const s of (ss.spans as Json[] | undefined) ?? []) {
        const st = (s.status as Json | undefined) ?? {};
        out.push({
          protocol,
          resource,
          scope,
          traceId: idHex(s.traceId),
          spanId: idHex(s.spanId),
          parentSpanId: idHex(s.parentSpanId),
          name: (s.name as string | undefined) ?? '',
          kind: toNum(s.kind),
          startTimeUnixNano: toBig(s.startTimeUnixNano),
          endTimeUnixNano: toBig(s.endTimeUnixNano),
          attributes: attrs(s.attributes as Json[] | undefined),
          status: { code: toNum(st.code), message: (st.message as string | undefined) ?? '' },
          flags: toNum(s.flags),
        });
      }
    }
  }
  return out;
}

function dataPoint(p: Json): ReceivedDataPoint {
  const pos = (p.positive as Json | undefined) ?? {};
  return {
    attributes: attrs(p.attributes as Json[] | undefined),
    startTimeUnixNano: toBig(p.startTimeUnixNano),
    timeUnixNano: toBig(p.timeUnixNano),
    count: toNum(p.count),
    sum: p.sum === undefined || p.sum === null ? undefined : toNum(p.sum),
    bucketCounts: ((p.bucketCounts as unknown[] | undefined) ?? []).map(toNum),
    explicitBounds: ((p.explicitBounds as unknown[] | undefined) ?? []).map(toNum),
    scale: toNum(p.scale),
    zeroCount: toNum(p.zeroCount),
    positive: { offset: toNum(pos.offset), bucketCounts: ((pos.bucketCounts as unknown[] | undefined) ?? []).map(toNum) },
    min: p.min === undefined || p.min === null ? undefined : toNum(p.min),
    max: p.max === undefined || p.max === null ? undefined : toNum(p.max),
    value: p.asDouble !== undefined ? toNum(p.asDouble) : p.asInt !== undefined ? toNum(p.asInt) : undefined,
  };
}

/** Flatten an ExportMetricsServiceRequest (protobufjs object or OTLP/JSON) into metrics. */
export function flattenMetrics(req: Json, protocol: ReceivedProtocol): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of (req.resourceMetrics as Json[] | undefined) ?? []) {
    const resource = attrs((rm.resource as Json | undefined)?.attributes as Json[] | undefined);
    for (const sm of (rm.scopeMetrics as Json[] | undefined) ?? []) {
      const scope = scopeOf(sm.scope as Json | undefined);
      for (const m of (sm.metrics as Json[] | undefined) ?? []) {
        const type = (['histogram', 'exponentialHistogram', 'sum', 'gauge', 'summary'] as const).find((t) => m[t] !== undefined && m[t] !== null) ?? 'none';
        const data = type === 'none' ? {} : (m[type] as Json);
        out.push({
          protocol,
          resource,
          scope,
          name: (m.name as string | undefined) ?? '',
          description: (m.description as string | undefined) ?? '',
          unit: (m.unit as string | undefined) ?? '',
          type,
          temporality: toNum(data.aggregationTemporality),
          monotonic: data.isMonotonic === true,
          dataPoints: ((data.dataPoints as Json[] | undefined) ?? []).map(dataPoint),
        });
      }
    }
  }
  return out;
}

const TO_OBJECT = { longs: String, enums: Number, arrays: true, defaults: false, oneofs: false } as const;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];
  readonly requests: ReceivedRequest[] = [];
  private _http: HttpServer | undefined;
  private _grpc: Server | undefined;
  private _httpPort = 0;
  private _grpcPort = 0;
  /** answer the next requests with this failure instead of accepting them */
  private _failure: { httpStatus: number; grpcCode: number; remaining: number } | undefined;

  get httpPort(): number {
    return this._httpPort;
  }

  get grpcPort(): number {
    return this._grpcPort;
  }

  static async start(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    if (options.httpPort !== false) await r._startHttp(options.httpPort ?? 0);
    if (options.grpcPort !== false) await r._startGrpc(options.grpcPort ?? 0);
    return r;
  }

  /** Reject the next `count` requests (HTTP status / gRPC code), then accept again. */
  failNext(count: number, httpStatus = 503, grpcCode: number = grpcStatus.UNAVAILABLE): void {
    this._failure = count > 0 ? { httpStatus, grpcCode, remaining: count } : undefined;
  }

  clear(): void {
    this.spans.length = 0;
    this.metrics.length = 0;
    this.requests.length = 0;
  }

  async waitSpans(count: number, filter: (s: ReceivedSpan) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    return await waitFor(`${count} OTLP spans`, () => {
      const s = this.spans.filter(filter);
      return s.length >= count ? s : undefined;
    }, timeoutMs);
  }

  /** The most recent data points of metric `name` (from the last request that carried it), filtered. */
  latestPoints(name: string, filter: (p: ReceivedDataPoint, m: ReceivedMetric) => boolean = () => true): { metric: ReceivedMetric; point: ReceivedDataPoint }[] {
    // metrics of one request share their position: scan from the end, stop at the first older request
    const out: { metric: ReceivedMetric; point: ReceivedDataPoint }[] = [];
    const seen = new Set<string>();
    for (let i = this.metrics.length - 1; i >= 0; i--) {
      const m = this.metrics[i];
      if (m.name !== name) continue;
      for (const p of m.dataPoints) {
        const key = `${String(m.resource['service.instance.id'])}|${JSON.stringify(p.attributes)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (filter(p, m)) out.push({ metric: m, point: p });
      }
    }
    return out;
  }

  async waitPoint(name: string, filter: (p: ReceivedDataPoint, m: ReceivedMetric) => boolean, timeoutMs = 10_000): Promise<{ metric: ReceivedMetric; point: ReceivedDataPoint }> {
    return await waitFor(`OTLP metric ${name}`, () => this.latestPoints(name, filter)[0], timeoutMs);
  }

  async close(): Promise<void> {
    const http = this._http;
    this._http = undefined;
    if (http !== undefined) {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
    const grpc = this._grpc;
    this._grpc = undefined;
    if (grpc !== undefined) grpc.forceShutdown();
  }

  private _takeFailure(): { httpStatus: number; grpcCode: number } | undefined {
    const f = this._failure;
    if (f === undefined) return undefined;
    if (--f.remaining <= 0) this._failure = undefined;
    return f;
  }

  private _accept(signal: 'traces' | 'metrics', protocol: ReceivedProtocol, path: string, headers: Record<string, string>, bytes: number, body: Json): void {
    if (signal === 'traces') {
      const spans = flattenTraces(body, protocol);
      this.spans.push(...spans);
      this.requests.push({ protocol, signal, path, headers, bytes, items: spans.length });
    } else {
      const metrics = flattenMetrics(body, protocol);
      this.metrics.push(...metrics);
      this.requests.push({ protocol, signal, path, headers, bytes, items: metrics.length });
    }
  }

  private async _startHttp(port: number): Promise<void> {
    const server = createServer((req, res) => {
      void this._handleHttp(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this._http = server;
    this._httpPort = (server.address() as AddressInfo).port;
  }

  private async _handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const signal = path === '/v1/traces' ? 'traces' : path === '/v1/metrics' ? 'metrics' : undefined;
    let body = await readBody(req);
    if (req.method !== 'POST' || signal === undefined) {
      res.writeHead(404).end();
      return;
    }
    const failure = this._takeFailure();
    if (failure !== undefined) {
      res.writeHead(failure.httpStatus, { 'content-type': 'text/plain' }).end('injected failure');
      return;
    }
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    try {
      if (type === 'application/json') {
        this._accept(signal, 'http/json', path, headers, body.length, JSON.parse(body.toString('utf8')) as Json);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else if (type === 'application/x-protobuf') {
        const reqType = signal === 'traces' ? ExportTraceServiceRequest : ExportMetricsServiceRequest;
        const respType = signal === 'traces' ? ExportTraceServiceResponse : ExportMetricsServiceResponse;
        this._accept(signal, 'http/protobuf', path, headers, body.length, reqType.toObject(reqType.decode(body), TO_OBJECT) as Json);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(respType.encode(respType.create({})).finish()));
      } else {
        res.writeHead(415).end(`unsupported content type ${type}`);
      }
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${String(err)}`);
    }
  }

  private async _startGrpc(port: number): Promise<void> {
    const server = new Server();
    const raw = {
      requestSerialize: (v: Buffer): Buffer => v,
      requestDeserialize: (b: Buffer): Buffer => b,
      responseSerialize: (v: Buffer): Buffer => v,
      responseDeserialize: (b: Buffer): Buffer => b,
      requestStream: false,
      responseStream: false,
    };
    const handler = (signal: 'traces' | 'metrics', path: string) => (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>): void => {
      const failure = this._takeFailure();
      if (failure !== undefined) {
        done({ code: failure.grpcCode, details: 'injected failure' });
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k.toLowerCase()] = String(v);
      try {
        const reqType = signal === 'traces' ? ExportTraceServiceRequest : ExportMetricsServiceRequest;
        const respType = signal === 'traces' ? ExportTraceServiceResponse : ExportMetricsServiceResponse;
        this._accept(signal, 'grpc', path, headers, call.request.length, reqType.toObject(reqType.decode(call.request), TO_OBJECT) as Json);
        done(null, Buffer.from(respType.encode(respType.create({})).finish()));
      } catch (err) {
        done({ code: grpcStatus.INVALID_ARGUMENT, details: String(err) });
      }
    };
    server.addService({ Export: { path: TRACE_EXPORT_PATH, originalName: 'export', ...raw } }, { Export: handler('traces', TRACE_EXPORT_PATH) } as UntypedServiceImplementation);
    server.addService({ Export: { path: METRICS_EXPORT_PATH, originalName: 'export', ...raw } }, { Export: handler('metrics', METRICS_EXPORT_PATH) } as UntypedServiceImplementation);
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this._grpc = server;
    this._grpcPort = bound;
  }
}
