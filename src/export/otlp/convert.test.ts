import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MonoClock } from '../../telemetry/clock.ts';
import { EpochConverter, ResourceCache, toHrTime } from './convert.ts';
import { TEST_SERVICE } from '../../../test/helpers/otlp-testing.ts';

test('EpochConverter gives exactly MonoClock.toEpochNs, without BigInt per call', () => {
  for (const wall of [1_700_000_000_123, 1_700_000_000_999, 946_684_800_000]) {
    let mono = 5_000_000_000n;
    const clock = new MonoClock({ monotonicNs: () => mono, wallMs: () => wall });
    const conv = new EpochConverter(clock);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 }), (m) => {
        const want = toHrTime(clock.toEpochNs(m));
        const got = conv.hrTime(m);
        return got[0] === want[0] && got[1] === want[1];
      }),
      { numRuns: 20_000 },
    );
    mono += 1n;
  }
});

test('ResourceCache: one Resource per instance, LRU-bounded', () => {
  let reads = 0;
  const cache = new ResourceCache({
    host: { hostName: 'h', hostId: '' },
    version: '9',
    maxEntries: 2,
    processAttributes: () => {
      reads++;
      return new Map([['service.version', '3']]);
    },
  });
  const a = cache.get(TEST_SERVICE);
  assert.equal(cache.get(TEST_SERVICE), a);
  assert.equal(a.attributes['service.version'], '3');
  assert.equal(reads, 1);
  const b = { ...TEST_SERVICE, instanceId: 'host:1', pid: 1 };
  const c = { ...TEST_SERVICE, instanceId: 'host:2', pid: 2 };
  cache.get(b);
  cache.get(TEST_SERVICE); // refresh a: b is now the oldest
  cache.get(c);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(TEST_SERVICE), a);
  assert.notEqual(cache.get(b), undefined);
  assert.equal(reads, 4); // a, b, c, then b again after its eviction
});
