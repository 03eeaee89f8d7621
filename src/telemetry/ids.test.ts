import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomIdSource } from './ids.ts';

test('RandomIdSource: lowercase hex of the right length, never all zero', () => {
  const ids = new RandomIdSource();
  for (let i = 0; i < 1000; i++) {
    const t = ids.traceId();
    const s = ids.spanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    assert.notEqual(t, '0'.repeat(32));
    assert.notEqual(s, '0'.repeat(16));
  }
});

test('RandomIdSource: refills across pool boundaries without repeating', () => {
  // 24-byte pool: a trace id (16) then a span id (8) exhaust it; every call after refills
  const ids = new RandomIdSource(24);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    seen.add(ids.traceId());
    seen.add(ids.spanId());
    seen.add(ids.spanId());
  }
  assert.equal(seen.size, 1500);
});

test('RandomIdSource: rejects a pool smaller than a trace id', () => {
  assert.throws(() => new RandomIdSource(15), RangeError);
  assert.throws(() => new RandomIdSource(16.5), RangeError);
});

test('RandomIdSource: all-zero draws are skipped; refills come from the fill function', () => {
  let refills = 0;
  // first pool: 8 zero bytes then 0x01..; second pool: all 0xab
  const ids = new RandomIdSource(24, (buf) => {
    refills++;
    if (refills === 1) for (let i = 0; i < buf.length; i++) buf[i] = i < 8 ? 0 : i;
    else buf.fill(0xab);
  });
  assert.equal(ids.spanId(), '08090a0b0c0d0e0f'); // bytes 0..7 were all zero
  assert.equal(ids.spanId(), '1011121314151617');
  assert.equal(refills, 1);
  assert.equal(ids.traceId(), 'ab'.repeat(16)); // 16 bytes do not fit in what is left: refill
  assert.equal(refills, 2);
});
