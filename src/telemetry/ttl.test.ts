/** Series TTL: SeriesIndex.expire and what the histograms, counters and metric owners do with it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { CounterVec } from './counter.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import { RedMetrics } from './metrics.ts';
import { SpanProcessor } from './processor.ts';
import { api, mkSpan, sampleLines, worker } from '../../test/helpers/spans.ts';

/** how many maps a trie holds (root included) */
function trieMaps(idx: SeriesIndex): number {
  const walk = (m: Map<string, unknown>): number => {
    let n = 1;
    for (const v of m.values()) if (v instanceof Map) n += walk(v as Map<string, unknown>);
    return n;
  };
  return walk((idx as unknown as { _root: Map<string, unknown> })._root);
}

test('SeriesIndex.expire removes series not looked up since the cutoff, prunes the trie, reuses ids', () => {
  const idx = new SeriesIndex(3);
  const removed: number[] = [];
  idx.onRemove((id) => removed.push(id));
  idx.now = 1000;
  assert.equal(idx.id(['a', 'x', 1]), 0);
  assert.equal(idx.id(['a', 'y', 1]), 1);
  assert.equal(idx.id(['b', 'x', 1]), 2);
  idx.now = 2000;
  assert.equal(idx.id(['a', 'x', 1]), 0); // refreshed
  assert.equal(trieMaps(idx), 1 + 2 + 3);
  assert.equal(idx.expire(1500), 2);
  assert.deepEqual(removed, [1, 2]);
  assert.equal(idx.live, 1);
  assert.equal(idx.has(0), true);
  assert.equal(idx.has(1), false);
  // the 'b' branch is gone entirely, the 'a' branch keeps only 'x'
  assert.equal(trieMaps(idx), 1 + 1 + 1);
  // freed ids are handed out again (last freed first); the old tuples are new series
  idx.now = 3000;
  assert.equal(idx.id(['c', 'z', 2]), 2);
  assert.deepEqual(idx.valuesOf(2), ['c', 'z', '2']);
  assert.equal(idx.id(['a', 'y', 1]), 1);
  assert.equal(idx.size, 3);
  assert.equal(idx.live, 3);
  assert.equal(idx.expire(3000), 1); // only id 0 (stamped 2000) is older
  assert.equal(idx.expire(3000), 0);
});

test('SeriesIndex.expire with width 0', () => {
  const idx = new SeriesIndex(0);
  idx.now = 5;
  assert.equal(idx.id([]), 0);
  assert.equal(idx.expire(6), 1);
  assert.equal(idx.live, 0);
  assert.equal(idx.id([]), 0);
  assert.equal(idx.live, 1);
});

test('memory stays bounded: 10 000 one-off series expired in waves leave at most one wave alive', () => {
  const idx = new SeriesIndex(2);
  const h = new HistogramVec({ name: 'h', help: 'h', labelNames: ['a', 'b'], buckets: [1], index: idx });
  for (let wave = 0; wave < 10; wave++) {
    idx.now = wave * 1000;
    for (let i = 0; i < 1000; i++) h.observe(idx.id([`w${wave}`, i]), 0.5);
    idx.expire(wave * 1000); // everything before this wave
    assert.equal(idx.live, 1000);
  }
  assert.equal(idx.size, 2000); // ids 0..1999 reused ever since the second wave
  assert.equal(trieMaps(idx), 1 + 1);
});

test('an expired histogram series is zeroed and no longer exposed; its reused id starts empty', async () => {
  const reg = new ScrapableStore();
  const idx = new SeriesIndex(1);
  const h = new HistogramVec({ name: 'lat_seconds', help: 'h', labelNames: ['route'], buckets: [0.1, 1], index: idx }).registerIn(reg);
  const c = new CounterVec({ name: 'calls_total', help: 'c', labelNames: ['route'], index: idx }).registerIn(reg);
  const forgotten: number[] = [];
  h.addSink({ observe: () => {}, forget: (id) => forgotten.push(id) });
  idx.now = 0;
  h.observe(idx.id(['/a']), 0.05);
  c.inc(idx.id(['/a']));
  idx.now = 10;
  h.observe(idx.id(['/b']), 2);
  c.inc(idx.id(['/b']), 3);
  idx.expire(5);
  assert.deepEqual(forgotten, [0]);
  let text = await reg.metrics();
  assert.deepEqual(sampleLines(text, 'lat_seconds_count'), ['lat_seconds_count{route="/b"} 1']);
  assert.deepEqual(sampleLines(text, 'calls_total'), ['calls_total{route="/b"} 3']);
  assert.deepEqual(h.series().map((s) => s.labelValues), [['/b']]);
  assert.deepEqual(c.series().map((s) => [s.labelValues, s.value]), [[['/b'], 3]]);
  // id 0 is reused by /c: no trace of /a's counts or labels
  idx.now = 20;
  const id = idx.id(['/c']);
  assert.equal(id, 0);
  h.observe(id, 0.5);
  c.inc(id);
  text = await reg.metrics();
  assert.deepEqual(sampleLines(text, 'lat_seconds_bucket'), [
    'lat_seconds_bucket{le="0.1",route="/c"} 0',
    'lat_seconds_bucket{le="1",route="/c"} 1',
    'lat_seconds_bucket{le="+Inf",route="/c"} 1',
    'lat_seconds_bucket{le="0.1",route="/b"} 0',
    'lat_seconds_bucket{le="1",route="/b"} 0',
    'lat_seconds_bucket{le="+Inf",route="/b"} 1',
  ]);
  assert.deepEqual(sampleLines(text, 'calls_total'), ['calls_total{route="/c"} 1', 'calls_total{route="/b"} 3']);
  assert.deepEqual(h.snapshot(0), { count: 1, sum: 0.5 });
});

test('RedMetrics: series expire after the TTL on an injected clock; active ones stay', async () => {
  const reg = new ScrapableStore();
  const red = new RedMetrics(reg);
  const p = new SpanProcessor(reg, red, { features: ['application', 'application_span_otel', 'application_service_graph'], ttlMs: 300_000 });
  const users = mkSpan();
  const orders = mkSpan({ attributes: { 'url.path': '/orders', 'http.route': '/orders', 'http.response.status_code': 200, 'server.port': 8080, 'server.address': '10.0.0.2' }, name: 'GET /orders' });
  p.process([users, orders], 0);
  p.process([mkSpan({ service: worker })], 100_000);
  p.process([users], 200_000);
  const count = async (): Promise<string[]> => sampleLines(await reg.metrics(), 'http_server_request_duration_seconds_count').map((l) => /http_route="([^"]*)",.*service_name="([^"]*)"/.exec(l)!.slice(1).join(' '));
  assert.equal(p.expire(299_999), 0);
  assert.deepEqual(await count(), ['/users/:id api', '/orders api', '/users/:id worker']);
  // 5 min after the last update of /orders: its RED and span-metric series go (the service-graph
  // edge client=10.0.0.1 → api is shared with /users, updated later)
  assert.equal(p.expire(300_001), 2);
  assert.deepEqual(await count(), ['/users/:id api', '/users/:id worker']);
  let text = await reg.metrics();
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').some((l) => l.includes('GET /orders')), false);
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').length, 2);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').length, 2);
  // then worker's RED, span and graph series; then api's
  assert.equal(p.expire(400_001), 3);
  assert.deepEqual(await count(), ['/users/:id api']);
  assert.equal(p.expire(500_001), 3);
  assert.deepEqual(await count(), []);
  text = await reg.metrics();
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').length, 0);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').length, 0);
  // target_info is not subject to the TTL (it goes with the process)
  assert.equal(sampleLines(await reg.metrics(), 'target_info').length, 2);
  assert.equal(api.name, 'api');
});

test('no TTL configured: nothing expires', () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application'] });
  p.process([mkSpan()], 0);
  assert.equal(p.expire(1e12), 0);
});
