import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { MetricStore } from './store.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { RpcRecord } from '../protocols/common/records.ts';
import type { IdSource } from './ids.ts';
import { RpcCallMetric, createRpcMetrics, defaultRpcMetricAttributes, grpcStatusName, rpcSpan } from './rpc.ts';

const ids: IdSource = { traceId: () => '0af7651916cd43dd8448eb211c80319c', spanId: () => 'b7ad6b7169203331' };
const service = { name: 'svc', namespace: '', instanceId: 'host:7', pid: 7, exePath: '/usr/bin/node', language: 'nodejs' } as unknown as ServiceIdentity;
const server: ConnInfo = { pid: 7, tid: 7, role: 'server', localAddr: '127.0.0.1', localPort: 50051, remoteAddr: '127.0.0.2', remotePort: 40000, tls: false };
const client: ConnInfo = { ...server, role: 'client', localPort: 40000, remoteAddr: '127.0.0.3', remotePort: 50051 };
const rec = (r: Partial<RpcRecord>): RpcRecord => ({ category: 'rpc', system: 'grpc', method: '/pkg.Svc/Get', statusCode: 0, requestBodySize: 10, responseBodySize: 20, startNs: 1000, endNs: 5000, ...r });

test('gRPC spans: name, kind, protocol grpc, OBI attributes', () => {
  const s = rpcSpan(rec({}), server, service, ids);
  assert.equal(s.name, '/pkg.Svc/Get');
  assert.equal(s.kind, 'server');
  assert.equal(s.protocol, 'grpc');
  assert.equal(s.category, 'rpc');
  assert.deepEqual(s.attributes, {
    'rpc.method': '/pkg.Svc/Get',
    'rpc.system.name': 'grpc',
    'server.address': '127.0.0.1',
    'server.port': 50051,
    'client.address': '127.0.0.2',
    'rpc.response.status_code': 'OK',
  });
  const c = rpcSpan(rec({}), client, service, ids);
  assert.equal(c.kind, 'client');
  assert.equal(c.attributes['server.address'], '127.0.0.3');
  assert.equal(c.attributes['client.address'], undefined);
});

test('status rules: client ERROR on any non-OK code; server only on UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS', () => {
  const errs = (role: ConnInfo) => Array.from({ length: 17 }, (_, code) => rpcSpan(rec({ statusCode: code }), role, service, ids).status === 'error' ? grpcStatusName(code) : '').filter(Boolean);
  assert.deepEqual(errs(server), ['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']);
  assert.equal(errs(client).length, 16);
  // an undecoded status: no attribute, no error
  const u = rpcSpan(rec({ statusCode: undefined }), client, service, ids);
  assert.equal(u.attributes['rpc.response.status_code'], undefined);
  assert.equal(u.status, 'unset');
  // the status message of a failed call, an incoming traceparent on a server
  const f = rpcSpan(rec({ statusCode: 5, statusMessage: 'no such key', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }), server, service, ids);
  assert.equal(f.statusMessage, undefined); // NOT_FOUND is not a server error
  assert.equal(f.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(f.parentSpanId, '00f067aa0ba902b7');
  assert.equal(rpcSpan(rec({ statusCode: 5, statusMessage: 'no such key' }), client, service, ids).statusMessage, 'no such key');
});

test('rpc_{server,client}_call_duration_seconds: one per side, OBI labels, instrumentations filter', async () => {
  const reg = new ScrapableStore();
  const [srv, cli] = createRpcMetrics(reg, { select: (_m, defs) => defs.filter((d) => d.byDefault).map((d) => d.name).sort() });
  assert.deepEqual(defaultRpcMetricAttributes('server'), ['instance', 'job', 'rpc.method', 'rpc.response.status_code', 'rpc.system.name', 'server.address', 'server.port', 'service.name', 'service.namespace']);
  srv.recordAll([rpcSpan(rec({}), server, service, ids), rpcSpan(rec({}), client, service, ids), rpcSpan(rec({ statusCode: 5 }), server, service, ids)]);
  cli.recordAll([rpcSpan(rec({}), client, service, ids)]);
  assert.deepEqual(reg.families().map((f) => f.promName), ['rpc_server_call_duration_seconds', 'rpc_client_call_duration_seconds']);
  const counts = async (name: string) =>
    (await reg.getSingleMetric(name)!.get()).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).map((v) => [v.labels.rpc_response_status_code, v.labels.server_port, v.value]);
  assert.deepEqual(await counts('rpc_server_call_duration_seconds'), [['OK', '50051', 1], ['NOT_FOUND', '50051', 1]]);
  assert.deepEqual(await counts('rpc_client_call_duration_seconds'), [['OK', undefined, 1]]);
  const onlyHttp = new RpcCallMetric(new MetricStore(), 'server', { instrumentations: ['http'] });
  onlyHttp.record(rpcSpan(rec({}), server, service, ids));
  assert.equal(onlyHttp.histogram.index.size, 0);
});
