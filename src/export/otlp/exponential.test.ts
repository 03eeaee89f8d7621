import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { ExponentialHistogram as SdkExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { SeriesIndex } from '../../telemetry/histogram.ts';
import { ExponentialHistogram, ExponentialHistogramVec, lowerBoundary, mapToIndex } from './exponential.ts';

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 2000);

test('mapToIndex: the spec examples, exact powers of two are upper bounds', () => {
  // scale 0: base 2, bucket i = (2^i, 2^(i+1)]
  assert.equal(mapToIndex(1, 0), -1);
  assert.equal(mapToIndex(1.5, 0), 0);
  assert.equal(mapToIndex(2, 0), 0);
  assert.equal(mapToIndex(3, 0), 1);
  assert.equal(mapToIndex(0.25, 0), -3);
  // scale 1: base √2
  assert.equal(mapToIndex(1.4, 1), 0);
  assert.equal(mapToIndex(1.5, 1), 1);
  assert.equal(mapToIndex(2, 1), 1);
  assert.equal(mapToIndex(4, 1), 3);
  // scale -1: base 4
  assert.equal(mapToIndex(1, -1), -1);
  assert.equal(mapToIndex(4, -1), 0);
  assert.equal(mapToIndex(5, -1), 1);
  assert.equal(mapToIndex(16, -1), 1);
  assert.equal(mapToIndex(17, -1), 2);
  // scale 20 at a power of two
  assert.equal(mapToIndex(2 ** -10, 20), -10 * 2 ** 20 - 1);
});

test('mapToIndex: every value lies in (base^i, base^(i+1)] of its bucket (fuzzed)', () => {
  fc.assert(
    fc.property(fc.double({ min: 1e-9, max: 1e12, noNaN: true }), fc.integer({ min: -10, max: 20 }), (v, scale) => {
      const i = mapToIndex(v, scale);
      const lo = lowerBoundary(i, scale);
      const hi = lowerBoundary(i + 1, scale);
      // the logarithm can put a value within a few ulps of a boundary on either side
      return v > lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
    }),
    { interruptAfterTimeLimit: FUZZ_MS / 2, numRuns: 100_000 },
  );
});

test('ExponentialHistogram: downscales to stay within max size and never loses a count', () => {
  const h = new ExponentialHistogram(8, 20);
  const values = [1, 1.0001, 1.5, 3, 100, 1000, 0, 0, 1e6];
  for (const v of values) h.record(v);
  h.record(-1);
  h.record(Number.NaN);
  h.record(Infinity);
  const v = h.value();
  assert.equal(v.count, 9);
  assert.equal(v.zeroCount, 2);
  assert.ok(v.positive.bucketCounts.length <= 8);
  assert.equal(v.positive.bucketCounts.reduce((a, b) => a + b, 0), 7);
  assert.equal(v.min, 0);
  assert.equal(v.max, 1e6);
  assert.ok(Math.abs(v.sum - values.reduce((a, b) => a + b, 0)) < 1e-6);
  // the first and last populated buckets hold the extremes
  assert.equal(mapToIndex(1, v.scale), v.positive.offset);
  assert.equal(mapToIndex(1e6, v.scale), v.positive.offset + v.positive.bucketCounts.length - 1);
});

/** The official SDK's exponential histogram of the same values (max size 160). */
async function sdkHistogram(values: readonly number[]): Promise<SdkExponentialHistogram> {
  class Reader extends MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const reader = new Reader();
  const provider = new MeterProvider({
    readers: [reader],
    views: [{ instrumentName: 'h', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } }],
  });
  const h = provider.getMeter('t').createHistogram('h');
  for (const v of values) h.record(v);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics.scopeMetrics[0].metrics[0].dataPoints[0].value as SdkExponentialHistogram;
}

test('ExponentialHistogram agrees with the OpenTelemetry JS SDK on scale, offset and counts', async () => {
  const cases: number[][] = [
    [0.0005, 0.001, 0.002, 0.003, 0.03, 0.03, 0.25, 9],
    [1, 2, 3, 4, 5, 6, 7, 8, 1024],
    Array.from({ length: 500 }, (_, i) => 0.0001 * 1.03 ** i),
    [42],
    [0, 0, 3.5],
  ];
  for (const values of cases) {
    const ours = new ExponentialHistogram(160, 20);
    for (const v of values) ours.record(v);
    const mine = ours.value();
    const sdk = await sdkHistogram(values);
    assert.equal(mine.scale, sdk.scale, `scale for ${values.length} values`);
    assert.equal(mine.zeroCount, sdk.zeroCount);
    assert.equal(mine.count, sdk.count);
    assert.equal(mine.positive.offset, sdk.positive.offset);
    assert.deepEqual(mine.positive.bucketCounts, sdk.positive.bucketCounts);
  }
});

test('ExponentialHistogramVec: one histogram per series id, only observed series listed', () => {
  const idx = new SeriesIndex(1);
  const a = idx.id(['a']);
  const b = idx.id(['b']);
  idx.id(['never']);
  const vec = new ExponentialHistogramVec(idx);
  vec.observe(a, 1);
  vec.observe(a, 2);
  vec.observe(b, 0);
  const s = vec.series();
  assert.deepEqual(s.map((x) => [x.labelValues[0], x.value.count, x.value.zeroCount]), [['a', 2, 0], ['b', 1, 1]]);
  vec.reset();
  assert.deepEqual(vec.series(), []);
});
