import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoMicros, MonoClock } from './clock.ts';

/** monotonic source returning the given readings in order */
function readings(...ns: bigint[]): () => bigint {
  let i = 0;
  return () => ns[Math.min(i++, ns.length - 1)];
}

test('MonoClock: offset from the narrowest bracket, centred in the wall millisecond', () => {
  // five samples (before, after) of widths 100, 40, 10, 60, 10 ns: the first 10-ns one wins
  const mono = readings(1000n, 1100n, 2000n, 2040n, 3000n, 3010n, 4000n, 4060n, 5000n, 5010n);
  const walls = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_000_003, 1_700_000_000_004];
  let w = 0;
  const clock = new MonoClock({ monotonicNs: mono, wallMs: () => walls[w++] });
  // sample 3: mid = 3005, wall = 1_700_000_000_002 ms → offset = wall·1e6 + 500_000 − 3005
  const offset = 1_700_000_000_002n * 1_000_000n + 500_000n - 3005n;
  assert.equal(clock.offsetNs, offset);
  assert.equal(clock.toEpochNs(3005n), 1_700_000_000_002_500_000n);
  assert.equal(clock.toEpochNs(3005), 1_700_000_000_002_500_000n);
  assert.equal(clock.toEpochNs(1_000_003_005n), 1_700_000_001_002_500_000n);
  assert.equal(clock.toEpochMs(3005), 1_700_000_000_002.5);
  assert.equal(clock.toISO(3005 + 123_456_000), '2023-11-14T22:13:20.125956Z');
});

test('MonoClock: resync measures again', () => {
  let wall = 1_000;
  let mono = 0n;
  const clock = new MonoClock({ monotonicNs: () => mono, wallMs: () => wall });
  assert.equal(clock.offsetNs, 1_000_500_000n);
  wall = 5_000; // NTP step of +4 s
  mono = 10n;
  clock.resync();
  assert.equal(clock.offsetNs, 5_000_500_000n - 10n);
});

test('MonoClock: default sources agree with Date.now within a few ms', () => {
  const clock = new MonoClock();
  const nowMono = process.hrtime.bigint();
  const ms = clock.toEpochMs(Number(nowMono));
  assert.ok(Math.abs(ms - Date.now()) < 50, `${ms} vs ${Date.now()}`);
});

test('isoMicros', () => {
  assert.equal(isoMicros(0n), '1970-01-01T00:00:00.000000Z');
  assert.equal(isoMicros(1_714_564_800_123_456_789n), '2024-05-01T12:00:00.123456Z');
  assert.equal(isoMicros(1_714_564_800_000_000_999n), '2024-05-01T12:00:00.000000Z');
});
