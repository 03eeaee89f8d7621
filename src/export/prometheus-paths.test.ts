import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { InternalMetrics } from '../telemetry/internal.ts';
import { PrometheusServer } from './prometheus.ts';

test('extraPaths: the internal registry on its own path of the same port, each request counted with its path', async () => {
  const app = new Registry();
  new Counter({ name: 'app_total', help: 'a', registers: [app] }).inc(2);
  const internalRegistry = new Registry();
  const internal = new InternalMetrics(internalRegistry);
  const srv = new PrometheusServer({
    port: 0,
    host: '127.0.0.1',
    registries: [app],
    internal,
    extraPaths: [{ path: '/internal/metrics', registries: [internalRegistry] }],
  });
  await srv.start();
  try {
    const get = async (path: string): Promise<[number, string]> => {
      const r = await fetch(`http://127.0.0.1:${srv.port}${path}`);
      return [r.status, await r.text()];
    };
    const [s1, appText] = await get('/metrics');
    assert.equal(s1, 200);
    assert.match(appText, /^app_total 2$/m);
    assert.equal(appText.includes('obi_'), false);
    await get('/internal/metrics');
    const [s2, internalText] = await get('/internal/metrics?x=1');
    assert.equal(s2, 200);
    assert.equal(internalText.includes('app_total'), false);
    assert.match(internalText, new RegExp(`^obi_prometheus_http_requests_total\\{port="${srv.port}",path="/metrics"\\} 1$`, 'm'));
    assert.match(internalText, new RegExp(`^obi_prometheus_http_requests_total\\{port="${srv.port}",path="/internal/metrics"\\} 2$`, 'm'));
    assert.equal((await get('/other'))[0], 404);
  } finally {
    await srv.stop();
  }
  assert.throws(() => new PrometheusServer({ port: 0, registries: [app], extraPaths: [{ path: '/metrics', registries: [app] }] }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 0, registries: [app], extraPaths: [{ path: 'x', registries: [app] }] }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 0, registries: [app], extraPaths: [{ path: '/x', registries: [] }] }), RangeError);
});
