import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ServiceGraph } from './servicegraph.ts';
import { api, mkSpan, sampleLines, sampleValue, worker } from '../../test/helpers/spans.ts';

const backend: ServiceIdentity = { name: 'backend', namespace: 'shop', instanceId: 'host1:99', pid: 99, exePath: '/usr/bin/backend', language: 'java' };
const lookup = (addr: string, port: number): ServiceIdentity | undefined => (addr === '10.0.0.9' && port === 9090 ? backend : undefined);

async function scrape(reg: ScrapableStore): Promise<string> {
  return await reg.metrics();
}

test('server spans: client = peer address, server = service; histogram, total and failed', async () => {
  const reg = new ScrapableStore();
  const g = new ServiceGraph(reg, { lookupServer: lookup });
  g.recordAll([mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 0.2, status: 'error' }), mkSpan({ seconds: 0.03 })]);
  const text = await scrape(reg);
  const l = { client: '10.0.0.1', client_service_namespace: '', server: 'api', server_service_namespace: 'shop', source: 'obi', connection_type: '' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_server_seconds_count', l), 3);
  assert.ok(Math.abs(sampleValue(text, 'traces_service_graph_request_server_seconds_sum', l)! - 0.26) < 1e-9);
  assert.equal(sampleValue(text, 'traces_service_graph_request_server_seconds_bucket', { ...l, le: '0.05' }), 2);
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', l), 3);
  assert.equal(sampleValue(text, 'traces_service_graph_request_failed_total', l), 1);
  assert.deepEqual(sampleLines(text, 'traces_service_graph_request_client_seconds_count'), []);
});

test('client span to an instrumented server: named edge, no request_total (the server side counts it)', async () => {
  const reg = new ScrapableStore();
  const g = new ServiceGraph(reg, { lookupServer: lookup });
  g.recordAll([mkSpan({ kind: 'client' }), mkSpan({ kind: 'client' })]);
  const text = await scrape(reg);
  const l = { client: 'api', client_service_namespace: 'shop', server: 'backend', server_service_namespace: 'shop', source: 'obi', connection_type: '' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_client_seconds_count', l), 2);
  assert.deepEqual(sampleLines(text, 'traces_service_graph_request_total'), []);
  assert.deepEqual(sampleLines(text, 'traces_service_graph_request_failed_total'), []);
});

test('client span to an uninstrumented server: virtual_node, counted in request_total; database peers', async () => {
  const reg = new ScrapableStore();
  const g = new ServiceGraph(reg, { lookupServer: lookup });
  g.recordAll([
    mkSpan({ kind: 'client', service: worker, conn: { remoteAddr: '10.0.0.50', remotePort: 80 } }),
    mkSpan({ kind: 'client', service: worker, conn: { remoteAddr: '10.0.0.50', remotePort: 80 }, status: 'error' }),
    mkSpan({ kind: 'client', service: worker, protocol: 'sql', conn: { remoteAddr: '10.0.0.60', remotePort: 5432 } }),
  ]);
  const text = await scrape(reg);
  const v = { client: 'worker', client_service_namespace: '', server: '10.0.0.50', server_service_namespace: '', source: 'obi', connection_type: 'virtual_node' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_client_seconds_count', v), 2);
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', v), 2);
  assert.equal(sampleValue(text, 'traces_service_graph_request_failed_total', v), 1);
  const db = { ...v, server: '10.0.0.60', connection_type: 'database' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', db), 1);
  // without a lookup every server is uninstrumented
  const reg2 = new ScrapableStore();
  new ServiceGraph(reg2).record(mkSpan({ kind: 'client' }));
  assert.equal(sampleValue(await scrape(reg2), 'traces_service_graph_request_total', { ...v, client: 'api', client_service_namespace: 'shop', server: '10.0.0.9' }), 1);
});

test('self references are skipped unless allowed; DNS spans, internal spans and spans without a connection too', async () => {
  const self = [
    mkSpan({ conn: { localAddr: '127.0.0.1', remoteAddr: '127.0.0.1' } }),
    mkSpan({ kind: 'client', conn: { localAddr: '127.0.0.1', remoteAddr: '127.0.0.1', remotePort: 1 } }),
  ];
  const other = [mkSpan({ protocol: 'dns', kind: 'client' }), mkSpan({ kind: 'internal' }), mkSpan({ conn: null })];
  const reg = new ScrapableStore();
  new ServiceGraph(reg).recordAll([...self, ...other]);
  const text = await scrape(reg);
  assert.equal(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, 0);

  const allowed = new ScrapableStore();
  new ServiceGraph(allowed, { allowSelfReferences: true }).recordAll(self);
  const t2 = await scrape(allowed);
  assert.equal(sampleValue(t2, 'traces_service_graph_request_server_seconds_count', { client: '127.0.0.1', client_service_namespace: '', server: 'api', server_service_namespace: 'shop', source: 'obi', connection_type: '' }), 1);
  assert.equal(sampleValue(t2, 'traces_service_graph_request_client_seconds_count', { client: 'api', client_service_namespace: 'shop', server: '127.0.0.1', server_service_namespace: '', source: 'obi', connection_type: 'virtual_node' }), 1);

  // same address but the called server is in another namespace: not a self reference
  const ns = new ScrapableStore();
  const other2: ServiceIdentity = { ...backend, namespace: 'other' };
  new ServiceGraph(ns, { lookupServer: () => other2 }).record(mkSpan({ kind: 'client', conn: { localAddr: '127.0.0.1', remoteAddr: '127.0.0.1' } }));
  assert.equal(sampleValue(await scrape(ns), 'traces_service_graph_request_client_seconds_count', { client: 'api', client_service_namespace: 'shop', server: 'backend', server_service_namespace: 'other', source: 'obi', connection_type: '' }), 1);
});

test('api exported to the service-graph family names and label order', () => {
  const reg = new ScrapableStore();
  const g = new ServiceGraph(reg);
  assert.deepEqual(g.client.labelNames, ['client', 'client_service_namespace', 'server', 'server_service_namespace', 'source', 'connection_type']);
  assert.equal(g.total.name, 'traces_service_graph_request_total');
  assert.equal(g.failed.name, 'traces_service_graph_request_failed_total');
  assert.equal(api.name, 'api');
});

test('a server span joined to its client span on this host (peerService): the client service names the edge, not a self reference', async () => {
  const reg = new ScrapableStore();
  const g = new ServiceGraph(reg, { lookupServer: lookup });
  const loop = { localAddr: '127.0.0.1', remoteAddr: '127.0.0.1' };
  g.recordAll([
    { ...mkSpan({ conn: loop }), peerService: worker },
    { ...mkSpan({ conn: loop }), peerService: worker },
    mkSpan({ conn: loop }), // not joined: a loopback self reference, skipped as before
  ]);
  const text = await scrape(reg);
  const l = { client: 'worker', client_service_namespace: '', server: 'api', server_service_namespace: 'shop', source: 'obi', connection_type: '' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', l), 2);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').length, 1);
});
