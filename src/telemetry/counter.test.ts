import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { CounterVec } from './counter.ts';
import { SeriesIndex } from './histogram.ts';

test('CounterVec: exposition, shared index, increments by 0 expose the series, invalid values ignored', async () => {
  const reg = new ScrapableStore();
  const idx = new SeriesIndex(2);
  const calls = new CounterVec({ name: 'calls_total', help: 'number of calls', labelNames: ['svc', 'code'], index: idx }).registerIn(reg);
  const bytes = new CounterVec({ name: 'bytes_total', help: 'bytes', labelNames: ['svc', 'code'], index: idx }).registerIn(reg);
  const a = idx.id(['a', 200]);
  const b = idx.id(['b', 500]);
  calls.inc(a);
  calls.inc(a);
  calls.inc(b, 3);
  calls.inc(b, -1);
  calls.inc(b, NaN);
  calls.inc(b, Infinity);
  bytes.inc(a, 0);
  assert.equal(
    await reg.metrics(),
    [
      '# HELP calls_total number of calls',
      '# TYPE calls_total counter',
      'calls_total{svc="a",code="200"} 2',
      'calls_total{svc="b",code="500"} 3',
      '',
      '# HELP bytes_total bytes',
      '# TYPE bytes_total counter',
      'bytes_total{svc="a",code="200"} 0',
      '',
    ].join('\n'),
  );
  assert.equal(calls.value(a), 2);
  assert.equal(bytes.value(b), undefined);
  assert.deepEqual(calls.series(), [
    { id: 0, labelValues: ['a', '200'], value: 2 },
    { id: 1, labelValues: ['b', '500'], value: 3 },
  ]);
  const json = await reg.getMetricsAsJSON();
  assert.deepEqual(json[0].values, [
    { value: 2, labels: { svc: 'a', code: '200' } },
    { value: 3, labels: { svc: 'b', code: '500' } },
  ]);
  reg.resetMetrics();
  assert.deepEqual(calls.series(), []);
});

test('CounterVec: grows past its initial capacity; validation', () => {
  const idx = new SeriesIndex(1);
  const c = new CounterVec({ name: 'c_total', help: 'c', labelNames: ['i'], index: idx });
  for (let i = 0; i < 100; i++) c.inc(idx.id([i]), i);
  assert.equal(c.value(99), 99);
  assert.equal(c.series().length, 100);
  assert.throws(() => new CounterVec({ name: 'x', help: 'x', labelNames: [], index: idx }), RangeError);
});
