import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ScrapableStore } from '../../../test/helpers/metric-store.ts';
import { AgentError } from '../../errors.ts';
import { CounterVec } from '../../telemetry/counter.ts';
import { SeriesIndex } from '../../telemetry/histogram.ts';
import { InternalMetrics } from '../../telemetry/internal.ts';
import { PrometheusServer } from './server.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function appRegistry(): ScrapableStore {
  const reg = new ScrapableStore();
  const c = new CounterVec({ name: 'app.things', help: 'things', labelNames: [], index: new SeriesIndex(0) }).registerIn(reg);
  c.inc(0, 3);
  return reg;
}

test('serves the registry on GET <path> and counts scrapes', async () => {
  const internalReg = new ScrapableStore();
  const internal = new InternalMetrics(internalReg);
  const server = new PrometheusServer({ port: 0, host: '127.0.0.1', stores: appRegistry(), internal });
  await server.start();
  try {
    assert.ok(server.port > 0);
    assert.equal(server.listening, true);
    const r = await get(server.port, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.body, '# HELP app_things_total things\n# TYPE app_things_total counter\napp_things_total 3\n');
    const withQuery = await get(server.port, '/metrics?x=1');
    assert.equal(withQuery.status, 200);
    const head = await get(server.port, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await get(server.port, '/other')).status, 404);
    assert.equal((await get(server.port, '/metrics/')).status, 404);
    const post = await get(server.port, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const counted = (await internalReg.metrics()).split('\n').filter((l) => l.startsWith('obi_prometheus_http_requests_total{'));
    assert.deepEqual(counted, [`obi_prometheus_http_requests_total{port="${server.port}",path="/metrics"} 3`]);
  } finally {
    await server.stop();
  }
  assert.equal(server.listening, false);
  await server.stop(); // idempotent
});

test('custom path and several registries', async () => {
  const internalReg = new ScrapableStore();
  const internal = new InternalMetrics(internalReg);
  const server = new PrometheusServer({ port: 0, host: '127.0.0.1', path: '/internal/metrics', stores: [appRegistry(), internalReg], internal });
  await server.start();
  try {
    assert.equal((await get(server.port, '/metrics')).status, 404);
    const r = await get(server.port, '/internal/metrics');
    assert.equal(r.status, 200);
    assert.ok(r.body.startsWith('# HELP app_things_total things\n# TYPE app_things_total counter\napp_things_total 3\n\n# HELP obi_ebpf_events_read_total'));
    // counted before collecting: the scrape sees itself
    assert.ok(r.body.includes(`\nobi_prometheus_http_requests_total{port="${server.port}",path="/internal/metrics"} 1\n`));
  } finally {
    await server.stop();
  }
});

test('a taken port rejects with OBI_ERR_PORT_IN_USE naming the port', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const server = new PrometheusServer({ port, host: '127.0.0.1', stores: new ScrapableStore() });
    await assert.rejects(server.start(), (err: unknown) => {
      assert.ok(AgentError.is(err));
      assert.equal(err.code, 'OBI_ERR_PORT_IN_USE');
      assert.ok(err.message.includes(`port ${port}`), err.message);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
      return true;
    });
    assert.equal(server.listening, false);
    await server.stop();
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('defaults and option validation', () => {
  const s = new PrometheusServer({ port: 9400, stores: new ScrapableStore() });
  assert.equal(s.path, '/metrics');
  assert.equal(s.host, '0.0.0.0');
  assert.equal(s.port, 9400);
  assert.throws(() => new PrometheusServer({ port: 70000, stores: new ScrapableStore() }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 1.5, stores: new ScrapableStore() }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 1, path: 'metrics', stores: new ScrapableStore() }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 1, stores: [] }), RangeError);
});
