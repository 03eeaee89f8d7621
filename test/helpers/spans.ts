/** Span fixtures for the telemetry unit tests (select, filter, span metrics, service graph, TTL). */
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { Attributes, Span, SpanKind, SpanStatus } from '../../src/telemetry/span.ts';
import type { ConnInfo } from '../../src/common/conn.ts';
import type { ProtocolCategory } from '../../src/protocols/common/records.ts';

/** the category of the instrumentations the tests name */
export function categoryOf(protocol: string): ProtocolCategory {
  if (['sql', 'redis', 'memcached', 'mongo'].includes(protocol)) return 'db';
  if (['kafka', 'mqtt', 'nats', 'amqp'].includes(protocol)) return 'messaging';
  if (protocol === 'grpc') return 'rpc';
  if (protocol === 'dns') return 'dns';
  return 'http';
}

export const api: ServiceIdentity = { name: 'api', namespace: 'shop', instanceId: 'host1:42', pid: 42, exePath: '/usr/bin/api', language: 'go' };
export const worker: ServiceIdentity = { name: 'worker', namespace: '', instanceId: 'host1:77', pid: 77, exePath: '/usr/bin/worker', language: 'python' };

export interface SpanFixture {
  /** default: the category of `protocol` */
  readonly category?: ProtocolCategory;
  readonly service?: ServiceIdentity;
  readonly kind?: SpanKind;
  readonly name?: string;
  readonly status?: SpanStatus;
  readonly seconds?: number;
  readonly protocol?: string;
  readonly attributes?: Attributes;
  /** undefined: a default connection of the kind; null: no connection */
  readonly conn?: Partial<ConnInfo> | null;
}

/** A finished span; server spans are on 10.0.0.2:8080 called from 10.0.0.1, client spans from 10.0.0.2 to 10.0.0.9:9090. */
export function mkSpan(f: SpanFixture = {}): Span {
  const kind = f.kind ?? 'server';
  const service = f.service ?? api;
  const base: ConnInfo =
    kind === 'client'
      ? { pid: service.pid, tid: service.pid, role: 'client', localAddr: '10.0.0.2', localPort: 40000, remoteAddr: '10.0.0.9', remotePort: 9090, tls: false }
      : { pid: service.pid, tid: service.pid, role: 'server', localAddr: '10.0.0.2', localPort: 8080, remoteAddr: '10.0.0.1', remotePort: 51000, tls: false };
  const attributes: Attributes =
    f.attributes ??
    (kind === 'client'
      ? { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.full': 'http://10.0.0.9:9090/items/1?x=1', 'server.address': '10.0.0.9', 'server.port': 9090 }
      : { 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.path': '/users/1', 'http.route': '/users/:id', 'client.address': '10.0.0.1', 'server.address': '10.0.0.2', 'server.port': 8080 });
  const start = 1_000_000_000;
  return {
    protocol: f.protocol ?? 'http',
    category: f.category ?? categoryOf(f.protocol ?? 'http'),
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    traceFlags: 1,
    name: f.name ?? (kind === 'client' ? 'GET' : 'GET /users/:id'),
    kind,
    startNs: start,
    endNs: start + Math.round((f.seconds ?? 0.1) * 1e9),
    status: f.status ?? 'unset',
    attributes: { ...attributes },
    service,
    conn: f.conn === null ? undefined : { ...base, ...f.conn },
  };
}

/** Sample lines (`name{labels} value`) of `text` whose metric name is `name` exactly. */
export function sampleLines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/** Value of the sample of `name` whose labels are exactly `labels` (any order); undefined if absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of sampleLines(text, name)) {
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const got: Record<string, string> = {};
    if (open >= 0) {
      for (const m of line.slice(open + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[m[1]] = m[2];
    }
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
