import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';

test('SeriesIndex: dense ids, same tuple same id, numbers keyed as strings', () => {
  const idx = new SeriesIndex(2);
  assert.equal(idx.id(['GET', 200]), 0);
  assert.equal(idx.id(['GET', 404]), 1);
  assert.equal(idx.id(['POST', 200]), 2);
  assert.equal(idx.id(['GET', '200']), 0);
  assert.equal(idx.id(['GET', 404]), 1);
  assert.equal(idx.size, 3);
  assert.deepEqual(idx.valuesOf(1), ['GET', '404']);
  const b = new SeriesIndex(1);
  assert.equal(b.id([true]), 0);
  assert.equal(b.id(['true']), 0);
  assert.deepEqual(b.valuesOf(0), ['true']);
});

test('SeriesIndex: width 0 has a single series; lone surrogates are made well-formed', () => {
  const none = new SeriesIndex(0);
  assert.equal(none.id([]), 0);
  assert.equal(none.id([]), 0);
  assert.equal(none.size, 1);
  const idx = new SeriesIndex(1);
  idx.id(['a\uD800b']);
  assert.deepEqual(idx.valuesOf(0), ['a\uFFFDb']);
  assert.throws(() => new SeriesIndex(-1), RangeError);
  // found again under either form, and removed (the trie is keyed by the stored form)
  const two = new SeriesIndex(2);
  const id = two.id(['x\uDC00', 'y']);
  assert.equal(two.id(['x\uFFFD', 'y']), id);
  two.now = 10;
  two.id(['kept', 'y']);
  assert.equal(two.expire(5), 1);
  assert.equal(two.live, 1);
  two.id(['x\uD800', 'z']);
  assert.equal(two.live, 2);
  assert.equal(two.removeWhere(0, 'x\uDBFF'), 1);
  assert.equal(two.live, 1);
});

test('HistogramVec: validation', () => {
  const idx = new SeriesIndex(1);
  assert.throws(() => new HistogramVec({ name: 'h', help: 'h', labelNames: [], buckets: [1], index: idx }), RangeError);
  assert.throws(() => new HistogramVec({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1, 1], index: idx }), RangeError);
  assert.throws(() => new HistogramVec({ name: 'h', help: 'h', labelNames: ['a'], buckets: [2, 1], index: idx }), RangeError);
  assert.throws(() => new HistogramVec({ name: 'h', help: 'h', labelNames: ['a'], buckets: [Infinity], index: idx }), RangeError);
  assert.throws(() => new HistogramVec({ name: 'h', help: 'h', labelNames: ['le'], buckets: [1], index: idx }), RangeError);
});

test('HistogramVec: exposition through a prom-client registry', async () => {
  const reg = new ScrapableStore();
  const idx = new SeriesIndex(1);
  const h = new HistogramVec({ name: 'lat_seconds', help: 'latency "quoted"\nnext', labelNames: ['m'], buckets: [0, 1, 2], index: idx }).registerIn(reg);
  const get = idx.id(['GET']);
  const put = idx.id(['P"U\\T']);
  idx.id(['never-observed']);
  h.observe(get, 0); // le=0 is inclusive
  h.observe(get, 1); // on the bound
  h.observe(get, 1.5);
  h.observe(get, 3); // above the last bound: +Inf only
  h.observe(get, Number.NaN); // ignored
  h.observe(put, 2);
  assert.equal(
    await reg.metrics(),
    [
      '# HELP lat_seconds latency "quoted"\\nnext',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{le="0",m="GET"} 1',
      'lat_seconds_bucket{le="1",m="GET"} 2',
      'lat_seconds_bucket{le="2",m="GET"} 3',
      'lat_seconds_bucket{le="+Inf",m="GET"} 4',
      'lat_seconds_sum{m="GET"} 5.5',
      'lat_seconds_count{m="GET"} 4',
      'lat_seconds_bucket{le="0",m="P\\"U\\\\T"} 0',
      'lat_seconds_bucket{le="1",m="P\\"U\\\\T"} 0',
      'lat_seconds_bucket{le="2",m="P\\"U\\\\T"} 1',
      'lat_seconds_bucket{le="+Inf",m="P\\"U\\\\T"} 1',
      'lat_seconds_sum{m="P\\"U\\\\T"} 2',
      'lat_seconds_count{m="P\\"U\\\\T"} 1',
      '',
    ].join('\n'),
  );
  assert.deepEqual(h.snapshot(get), { count: 4, sum: 5.5 });
  assert.deepEqual(h.snapshot(99), { count: 0, sum: 0 });

  const json = await reg.getMetricsAsJSON();
  assert.equal(json.length, 1);
  assert.deepEqual(json[0].values[0], { value: 1, labels: { le: 0, m: 'GET' }, metricName: 'lat_seconds_bucket' });
  assert.deepEqual(json[0].values[5], { value: 4, labels: { m: 'GET' }, metricName: 'lat_seconds_count' });

  reg.resetMetrics();
  assert.equal(await reg.metrics(), '# HELP lat_seconds latency "quoted"\\nnext\n# TYPE lat_seconds histogram\n');
  h.observe(put, 0.5);
  assert.deepEqual(h.snapshot(put), { count: 1, sum: 0.5 });
  assert.deepEqual(h.snapshot(get), { count: 0, sum: 0 });
});

test('HistogramVec: two histograms share an index; storage grows past the initial capacity', async () => {
  const reg = new ScrapableStore();
  const idx = new SeriesIndex(1);
  const a = new HistogramVec({ name: 'a', help: 'a', labelNames: ['k'], buckets: [10], index: idx }).registerIn(reg);
  const b = new HistogramVec({ name: 'b', help: 'b', labelNames: ['k'], buckets: [10], index: idx }).registerIn(reg);
  for (let i = 0; i < 100; i++) {
    const id = idx.id([`s${i}`]);
    a.observe(id, i);
    if (i % 2 === 0) b.observe(id, 1);
  }
  for (let i = 0; i < 100; i++) assert.deepEqual(a.snapshot(i), { count: 1, sum: i });
  assert.deepEqual(b.snapshot(98), { count: 1, sum: 1 });
  assert.deepEqual(b.snapshot(99), { count: 0, sum: 0 });
  const text = await reg.metrics();
  assert.equal(text.split('\n').filter((l) => l.startsWith('a_count{')).length, 100);
  assert.equal(text.split('\n').filter((l) => l.startsWith('b_count{')).length, 50);
  assert.ok(text.includes('\na_bucket{le="10",k="s11"} 0\n'));
  assert.ok(text.includes('\na_bucket{le="10",k="s10"} 1\n'));
});

test('HistogramVec.series: per observed series, non-cumulative counts with the overflow bucket last', () => {
  const idx = new SeriesIndex(1);
  const h = new HistogramVec({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1, 10], index: idx });
  const x = idx.id(['x']);
  idx.id(['unused']);
  const y = idx.id(['y']);
  for (const v of [0.5, 1, 5, 10, 11, 1000]) h.observe(x, v);
  h.observe(y, 2);
  assert.deepEqual(h.series(), [
    { id: x, labelValues: ['x'], bucketCounts: [2, 2, 2], sum: 1027.5, count: 6 },
    { id: y, labelValues: ['y'], bucketCounts: [0, 1, 0], sum: 2, count: 1 },
  ]);
});

test('HistogramVec sinks see every accepted observation and resets', () => {
  const idx = new SeriesIndex(0);
  const h = new HistogramVec({ name: 'h', help: 'h', labelNames: [], buckets: [1], index: idx });
  const seen: [number, number][] = [];
  let resets = 0;
  h.addSink({ observe: (id, v) => void seen.push([id, v]), reset: () => void resets++ });
  h.observe(0, 3);
  h.observe(0, Number.NaN);
  h.observe(0, 0.5);
  h.reset();
  assert.deepEqual(seen, [[0, 3], [0, 0.5]]);
  assert.equal(resets, 1);
});
