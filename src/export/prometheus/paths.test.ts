import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../../test/helpers/metric-store.ts';
import { CounterVec } from '../../telemetry/counter.ts';
import { SeriesIndex } from '../../telemetry/histogram.ts';
import { InternalMetrics } from '../../telemetry/internal.ts';
import { PrometheusServer } from './server.ts';

test('extraPaths: the internal registry on its own path of the same port, each request counted with its path', async () => {
  const app = new ScrapableStore();
  new CounterVec({ name: 'app', help: 'a', labelNames: [], index: new SeriesIndex(0) }).registerIn(app).inc(0, 2);
  const internalRegistry = new ScrapableStore();
  const internal = new InternalMetrics(internalRegistry);
  const srv = new PrometheusServer({
    port: 0,
    host: '127.0.0.1',
    stores: [app],
    internal,
    extraPaths: [{ path: '/internal/metrics', stores: [internalRegistry] }],
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
  assert.throws(() => new PrometheusServer({ port: 0, stores: [app], extraPaths: [{ path: '/metrics', stores: [app] }] }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 0, stores: [app], extraPaths: [{ path: 'x', stores: [app] }] }), RangeError);
  assert.throws(() => new PrometheusServer({ port: 0, stores: [app], extraPaths: [{ path: '/x', stores: [] }] }), RangeError);
});
