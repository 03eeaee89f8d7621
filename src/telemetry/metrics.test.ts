import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { HttpRecord } from '../protocols/common/records.ts';
import type { IdSource } from './ids.ts';
import { defaultHttpMetricAttributes, normalizeAttributeName, RedMetrics, serviceJob } from './metrics.ts';
import { httpSpan } from './span.ts';
import type { Span } from './span.ts';
import type { ConnInfo } from '../common/conn.ts';

const ids: IdSource = { traceId: () => 'a'.repeat(32), spanId: () => 'b'.repeat(16) };
const api: ServiceIdentity = { name: 'api', namespace: 'shop', instanceId: 'host1:42', pid: 42, exePath: '/usr/bin/api', language: 'go' };
const worker: ServiceIdentity = { name: 'worker', namespace: '', instanceId: 'host1:77', pid: 77, exePath: '/usr/bin/worker', language: 'python' };
const serverConn: ConnInfo = { pid: 42, tid: 42, role: 'server', localAddr: '10.0.0.2', localPort: 8080, remoteAddr: '10.0.0.1', remotePort: 51000, tls: false };
const clientConn: ConnInfo = { pid: 42, tid: 42, role: 'client', localAddr: '10.0.0.2', localPort: 40000, remoteAddr: '10.0.0.9', remotePort: 9090, tls: true };

function span(opts: { conn?: ConnInfo; service?: ServiceIdentity; seconds: number; status?: number; path?: string; req?: number; resp?: number; host?: string; method?: string }): Span {
  const ex: HttpRecord = {
    category: 'http',
    method: opts.method ?? 'GET',
    target: opts.path ?? '/users/1',
    path: opts.path ?? '/users/1',
    host: opts.host,
    status: opts.status ?? 200,
    requestBodySize: opts.req ?? 0,
    responseBodySize: opts.resp ?? 0,
    startNs: 1_000_000_000,
    endNs: 1_000_000_000 + Math.round(opts.seconds * 1e9),
  };
  const route = (p: string): string => (p.startsWith('/users/') ? '/users/:id' : '');
  return httpSpan(ex, opts.conn ?? serverConn, opts.service ?? api, route, ids);
}

/** the sample lines of one metric family, in exposition order */
async function samples(reg: ScrapableStore, family: string): Promise<string[]> {
  const text = await reg.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${family}_bucket{`) || l.startsWith(`${family}_sum{`) || l.startsWith(`${family}_count{`) || l.startsWith(`${family}{`));
}

const API_200 = 'http_request_method="GET",http_response_status_code="200",http_route="/users/:id",instance="host1:42",job="shop/api",server_address="10.0.0.2",server_port="8080",service_name="api",service_namespace="shop",url_scheme="http"';

test('server duration histogram: exact buckets, sum and count after 4 records', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg);
  for (const s of [0.25, 0.5, 0.5, 2]) m.record(span({ seconds: s }));
  const b = (le: string, v: number): string => `http_server_request_duration_seconds_bucket{le="${le}",${API_200}} ${v}`;
  assert.deepEqual(await samples(reg, 'http_server_request_duration_seconds'), [
    b('0', 0),
    b('0.005', 0),
    b('0.01', 0),
    b('0.025', 0),
    b('0.05', 0),
    b('0.075', 0),
    b('0.1', 0),
    b('0.25', 1),
    b('0.5', 3),
    b('0.75', 3),
    b('1', 3),
    b('2.5', 4),
    b('5', 4),
    b('7.5', 4),
    b('10', 4),
    b('+Inf', 4),
    `http_server_request_duration_seconds_sum{${API_200}} 3.25`,
    `http_server_request_duration_seconds_count{${API_200}} 4`,
  ]);
  // client families are declared but empty
  assert.deepEqual(await samples(reg, 'http_client_request_duration_seconds'), []);
});

test('server body-size histograms', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg);
  m.record(span({ seconds: 0.01, req: 0, resp: 100 }));
  m.record(span({ seconds: 0.01, req: 100, resp: 8192 }));
  m.record(span({ seconds: 0.01, req: 5000, resp: 10000 }));
  const req = await samples(reg, 'http_server_request_body_size_bytes');
  const b = (fam: string, le: string, v: number): string => `${fam}_bucket{le="${le}",${API_200}} ${v}`;
  const R = 'http_server_request_body_size_bytes';
  assert.deepEqual(req, [
    b(R, '0', 1), b(R, '32', 1), b(R, '64', 1), b(R, '128', 2), b(R, '256', 2), b(R, '512', 2), b(R, '1024', 2), b(R, '2048', 2), b(R, '4096', 2), b(R, '8192', 3), b(R, '+Inf', 3),
    `${R}_sum{${API_200}} 5100`,
    `${R}_count{${API_200}} 3`,
  ]);
  const S = 'http_server_response_body_size_bytes';
  const resp = await samples(reg, S);
  assert.deepEqual(resp.slice(-4), [b(S, '8192', 2), b(S, '+Inf', 3), `${S}_sum{${API_200}} 18292`, `${S}_count{${API_200}} 3`]);
});

test('label values: status, route, Host, namespace-less job, client side', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg);
  m.record(span({ seconds: 0.001, status: 404, path: '/health', host: 'api.example.com:8080' }));
  m.record(span({ seconds: 0.001, service: worker, method: 'POST' }));
  m.record(span({ seconds: 0.001, conn: clientConn, host: 'backend:9090', status: 503 }));
  const server = (await samples(reg, 'http_server_request_duration_seconds')).filter((l) => l.includes('_count{'));
  assert.deepEqual(server, [
    'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="404",http_route="",instance="host1:42",job="shop/api",server_address="api.example.com",server_port="8080",service_name="api",service_namespace="shop",url_scheme="http"} 1',
    'http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="200",http_route="/users/:id",instance="host1:77",job="worker",server_address="10.0.0.2",server_port="8080",service_name="worker",service_namespace="",url_scheme="http"} 1',
  ]);
  const client = (await samples(reg, 'http_client_request_duration_seconds')).filter((l) => l.includes('_count{'));
  assert.deepEqual(client, [
    'http_client_request_duration_seconds_count{http_request_method="GET",http_response_status_code="503",http_route="/users/:id",instance="host1:42",job="shop/api",server_address="backend",server_port="9090",service_name="api",service_namespace="shop",url_scheme="https"} 1',
  ]);
  assert.equal((await samples(reg, 'http_client_request_body_size_bytes')).length, 13);
  assert.equal((await samples(reg, 'http_client_response_body_size_bytes')).length, 13);
});

test('target_info: one series per service, replaced and removed', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg, { resource: { hostId: 'machine-1', hostName: 'host1', sdkVersion: '0.1.0' } });
  m.record(span({ seconds: 0.01 }));
  m.record(span({ seconds: 0.01 }));
  m.record(span({ seconds: 0.01, service: worker }));
  assert.deepEqual(await samples(reg, 'target_info'), [
    'target_info{host_id="machine-1",host_name="host1",service_name="api",service_namespace="shop",instance="host1:42",job="shop/api",telemetry_sdk_language="go",telemetry_sdk_name="opentelemetry",telemetry_sdk_version="0.1.0",source="obi",os_type="linux"} 1',
    'target_info{host_id="machine-1",host_name="host1",service_name="worker",service_namespace="",instance="host1:77",job="worker",telemetry_sdk_language="python",telemetry_sdk_name="opentelemetry",telemetry_sdk_version="0.1.0",source="obi",os_type="linux"} 1',
  ]);
  m.registerService({ ...api, name: 'api-v2' });
  m.removeService(worker);
  m.removeService(worker);
  assert.deepEqual(await samples(reg, 'target_info'), [
    'target_info{host_id="machine-1",host_name="host1",service_name="api-v2",service_namespace="shop",instance="host1:42",job="shop/api-v2",telemetry_sdk_language="go",telemetry_sdk_name="opentelemetry",telemetry_sdk_version="0.1.0",source="obi",os_type="linux"} 1',
  ]);
});

test('attribute lists: selected per metric, underscore form accepted, labels sorted', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg, {
    attributes: {
      'http.server.request.duration': ['url_path', 'service.name', 'http.request.method', 'url.path'],
      'http.server.request.body.size': [],
    },
  });
  m.record(span({ seconds: 0.5, path: '/users/1' }));
  m.record(span({ seconds: 0.5, path: '/users/2' }));
  m.record(span({ seconds: 0.5, path: '/users/2' }));
  const dur = (await samples(reg, 'http_server_request_duration_seconds')).filter((l) => l.includes('_count{'));
  assert.deepEqual(dur, [
    'http_server_request_duration_seconds_count{http_request_method="GET",service_name="api",url_path="/users/1"} 1',
    'http_server_request_duration_seconds_count{http_request_method="GET",service_name="api",url_path="/users/2"} 2',
  ]);
  const text = await reg.metrics();
  assert.ok(text.includes('\nhttp_server_request_body_size_bytes_count 3\n'), 'no labels at all');
  assert.ok(text.includes(`\nhttp_server_response_body_size_bytes_count{${API_200}} 3\n`), 'defaults kept');
});

test('spans that are not HTTP server/client spans are ignored', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg);
  const base = span({ seconds: 1 });
  m.record({ ...base, protocol: 'grpc', category: 'rpc' });
  m.record({ ...base, kind: 'internal' });
  m.recordAll([]);
  const text = await reg.metrics();
  assert.equal(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, 0);
});

test('negative durations count as zero', async () => {
  const reg = new ScrapableStore();
  const m = new RedMetrics(reg);
  const s = span({ seconds: 1 });
  m.recordAll([{ ...s, endNs: s.startNs - 5 }]);
  const lines = await samples(reg, 'http_server_request_duration_seconds');
  assert.equal(lines[0], `http_server_request_duration_seconds_bucket{le="0",${API_200}} 1`);
  assert.equal(lines[16], `http_server_request_duration_seconds_sum{${API_200}} 0`);
});

test('defaults and helpers', () => {
  assert.deepEqual(defaultHttpMetricAttributes('http.server.request.duration'), [
    'http.request.method', 'http.response.status_code', 'http.route', 'instance', 'job', 'server.address', 'server.port', 'service.name', 'service.namespace', 'url.scheme',
  ]);
  assert.deepEqual(defaultHttpMetricAttributes('http.client.response.body.size'), defaultHttpMetricAttributes('http.server.request.duration'));
  assert.equal(normalizeAttributeName('http_response_status_code'), 'http.response.status_code');
  assert.equal(normalizeAttributeName('client_address'), 'client.address');
  assert.equal(normalizeAttributeName('k8s_pod_name'), 'k8s_pod_name');
  assert.equal(serviceJob(api), 'shop/api');
  assert.equal(serviceJob(worker), 'worker');
});
