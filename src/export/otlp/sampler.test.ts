import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSampler, traceIdRatioSampled } from './sampler.ts';
import { testSpan } from '../../../test/helpers/otlp-testing.ts';

test('traceidratio: decided on the low 8 bytes of the trace id, as the Go SDK does', () => {
  assert.equal(traceIdRatioSampled(`${'f'.repeat(16)}0000000000000000`, 0.0001), true);
  assert.equal(traceIdRatioSampled(`${'0'.repeat(16)}ffffffffffffffff`, 0.9999), false);
  assert.equal(traceIdRatioSampled(`${'0'.repeat(16)}7ffffffffffffffe`, 0.5), true); // >>1 = 0x3fff… < 2^62
  assert.equal(traceIdRatioSampled(`${'0'.repeat(16)}8000000000000000`, 0.5), false); // >>1 = 2^62
  assert.equal(traceIdRatioSampled('0'.repeat(32), 0), false);
  assert.equal(traceIdRatioSampled('f'.repeat(32), 1), true);
  // about the ratio over many random ids
  let kept = 0;
  for (let i = 0; i < 20_000; i++) {
    const id = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    if (traceIdRatioSampled(id, 0.25)) kept++;
  }
  assert.ok(kept > 4500 && kept < 5500, `${kept} of 20000`);
});

test('samplers by name; parentbased_* follow the parent flag', () => {
  const root = testSpan();
  const sampledChild = testSpan({ parentSpanId: '1'.repeat(16), traceFlags: 1 });
  const unsampledChild = testSpan({ parentSpanId: '1'.repeat(16), traceFlags: 0 });
  const decide = (name: string, arg?: string) => [root, sampledChild, unsampledChild].map(createSampler({ name: name as never, arg }));
  assert.deepEqual(decide('always_on'), [true, true, true]);
  assert.deepEqual(decide('always_off'), [false, false, false]);
  assert.deepEqual(decide('parentbased_always_on'), [true, true, false]);
  assert.deepEqual(decide('parentbased_always_off'), [false, true, false]);
  assert.deepEqual(decide('traceidratio', '0'), [false, false, false]);
  assert.deepEqual(decide('parentbased_traceidratio', '1'), [true, true, false]);
  assert.deepEqual([root].map(createSampler(undefined)), [true]);
});
