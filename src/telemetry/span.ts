/**
 * The internal span model (one finished operation, ready for OTLP and the printers)
 * and the HTTP/1 span builder, following OBI's HTTP spans (obi-compat §3.1–3.3, §3.6).
 */
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
// not yet stable in semantic conventions: the incubating entry point
import { ATTR_HTTP_REQUEST_BODY_SIZE, ATTR_HTTP_RESPONSE_BODY_SIZE } from '@opentelemetry/semantic-conventions/incubating';
import type { ServiceIdentity } from '../common/service.ts';
import type { SpanCtx } from '../common/trace.ts';
import type { HttpRecord, ProtocolCategory } from '../protocols/common/records.ts';
import type { IdSource } from './ids.ts';
import { createQueryRedactor } from './redact.ts';
import type { QueryRedactor } from './redact.ts';
import { parseTraceparent } from './tracecontext.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { RouteResolver } from './types.ts';

export type SpanKind = 'server' | 'client' | 'internal' | 'producer' | 'consumer';
export type SpanStatus = 'unset' | 'ok' | 'error';
export type AttributeValue = string | number | boolean;
/** Semantic-convention keys (`http.request.method`, …) to values. */
export type Attributes = Record<string, AttributeValue>;

export interface Span {
  /** instrumentation that produced it, as named in `otel_*_export.instrumentations` (`http`, …): its descriptor's name */
  readonly protocol: string;
  /** what kind of operation it is: selects its metrics and its service-graph edge type */
  readonly category: ProtocolCategory;
  /** 32 lowercase hex */
  readonly traceId: string;
  /** 16 lowercase hex */
  readonly spanId: string;
  /** 16 lowercase hex; absent for a root span */
  readonly parentSpanId?: string;
  /** W3C trace-flags byte (bit 0 = sampled) */
  readonly traceFlags: number;
  readonly name: string;
  readonly kind: SpanKind;
  /** monotonic ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns); see clock.ts for wall time */
  readonly startNs: number;
  readonly endNs: number;
  readonly status: SpanStatus;
  readonly statusMessage?: string;
  readonly attributes: Attributes;
  readonly service: ServiceIdentity;
  /** the connection the operation was observed on (absent for spans not tied to one) */
  readonly conn?: ConnInfo;
  /** a server span joined to the client span at the other end of its connection: that client's service (service graph) */
  readonly peerService?: ServiceIdentity;
  /**
   * the ids decided at the request's start (telemetry/correlate.ts), when they were: while one ctx
   * on its way to the root is `pending`, the trace id above is provisional (node-links.ts holds the span)
   */
  readonly ctx?: SpanCtx;
}

export interface HttpSpanOptions {
  /** rewrites `url.query` / the query in `url.full`; default: OBI's sensitive keys → `REDACTED` */
  readonly redactQuery?: QueryRedactor;
}

/** W3C "sampled" flag, used for spans that start a new trace. */
export const TRACE_FLAG_SAMPLED = 0x01;

const defaultRedactor = createQueryRedactor();

/**
 * `host` part of a Host header (`example.com:8080` → `example.com`, `[::1]:80` → `::1`);
 * `undefined` if the header is absent or empty.
 */
export function hostHeaderName(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0) return undefined;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    if (close > 1) return host.slice(1, close);
    return undefined;
  }
  const colon = host.indexOf(':');
  if (colon < 0) return host;
  if (host.indexOf(':', colon + 1) >= 0) return host; // bare IPv6 (not valid in Host, kept as sent)
  return colon === 0 ? undefined : host.slice(0, colon);
}

function isAbsoluteForm(target: string): boolean {
  // `http://` or `https://`, case-insensitive, without allocating
  const c0 = target.charCodeAt(0) | 0x20;
  if (c0 !== 0x68 /* h */) return false;
  const lower = target.length > 8 ? target.slice(0, 8).toLowerCase() : target.toLowerCase();
  return lower.startsWith('http://') || lower.startsWith('https://');
}

function urlFull(exchange: HttpRecord, conn: ConnInfo, scheme: string, redact: QueryRedactor): string {
  const target = exchange.target;
  if (isAbsoluteForm(target)) {
    // a request to a proxy carries the full URL: only its query needs redacting
    const q = target.indexOf('?');
    return q < 0 ? target : target.slice(0, q + 1) + redact(target.slice(q + 1));
  }
  let authority = exchange.host;
  if (authority === undefined || authority.length === 0) {
    const addr = conn.remoteAddr.indexOf(':') >= 0 ? `[${conn.remoteAddr}]` : conn.remoteAddr;
    const defaultPort = scheme === 'https' ? 443 : 80;
    authority = conn.remotePort === defaultPort ? addr : `${addr}:${conn.remotePort}`;
  }
  const query = exchange.query;
  return query === undefined || query.length === 0
    ? `${scheme}://${authority}${exchange.path}`
    : `${scheme}://${authority}${exchange.path}?${redact(query)}`;
}

/**
 * Build the span of one HTTP/1 exchange.
 *
 * - name `<METHOD> <http.route>`, or `<METHOD>` when the route resolver returns `''`;
 * - kind from `conn.role`;
 * - status ERROR for a server when status ≥ 500 or 0 (no response), for a client when
 *   status ≥ 400 or 0; otherwise UNSET;
 * - a valid incoming `traceparent` on a **server** exchange sets the trace id, the parent
 *   span id and the flags; otherwise a new trace starts (sampled).
 */
export function httpSpan(
  exchange: HttpRecord,
  conn: ConnInfo,
  service: ServiceIdentity,
  route: RouteResolver,
  ids: IdSource,
  options?: HttpSpanOptions,
): Span {
  const redact = options?.redactQuery ?? defaultRedactor;
  const isServer = conn.role === 'server';
  const method = exchange.method;
  const status = exchange.status;
  const scheme = conn.tls ? 'https' : 'http';
  const httpRoute = route(exchange.path, service);
  const hostName = hostHeaderName(exchange.host);

  let attributes: Attributes;
  if (isServer) {
    attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
      [ATTR_URL_PATH]: exchange.path,
      [ATTR_URL_SCHEME]: scheme,
      [ATTR_CLIENT_ADDRESS]: conn.remoteAddr,
      [ATTR_SERVER_ADDRESS]: hostName ?? conn.localAddr,
      [ATTR_SERVER_PORT]: conn.localPort,
      [ATTR_HTTP_REQUEST_BODY_SIZE]: exchange.requestBodySize,
      [ATTR_HTTP_RESPONSE_BODY_SIZE]: exchange.responseBodySize,
    };
    if (exchange.query !== undefined && exchange.query.length > 0) attributes[ATTR_URL_QUERY] = redact(exchange.query);
  } else {
    attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
      [ATTR_URL_FULL]: urlFull(exchange, conn, scheme, redact),
      [ATTR_URL_SCHEME]: scheme,
      [ATTR_SERVER_ADDRESS]: hostName ?? conn.remoteAddr,
      [ATTR_SERVER_PORT]: conn.remotePort,
      [ATTR_HTTP_REQUEST_BODY_SIZE]: exchange.requestBodySize,
      [ATTR_HTTP_RESPONSE_BODY_SIZE]: exchange.responseBodySize,
    };
  }
  if (httpRoute.length > 0) attributes[ATTR_HTTP_ROUTE] = httpRoute;
  if (exchange.userAgent !== undefined && exchange.userAgent.length > 0) attributes[ATTR_USER_AGENT_ORIGINAL] = exchange.userAgent;
  if (exchange.protocolVersion !== undefined) attributes['network.protocol.version'] = exchange.protocolVersion;

  const incoming = isServer ? parseTraceparent(exchange.traceparent) : undefined;
  const failed = status === 0 || status >= (isServer ? 500 : 400);

  return {
    protocol: 'http',
    category: 'http',
    traceId: incoming === undefined ? ids.traceId() : incoming.traceId,
    spanId: ids.spanId(),
    parentSpanId: incoming?.parentId,
    traceFlags: incoming === undefined ? TRACE_FLAG_SAMPLED : incoming.flags,
    name: httpRoute.length > 0 ? `${method} ${httpRoute}` : method,
    kind: isServer ? 'server' : 'client',
    startNs: exchange.startNs,
    endNs: exchange.endNs,
    status: failed ? 'error' : 'unset',
    attributes,
    service,
    conn,
  };
}
