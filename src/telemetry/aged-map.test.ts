import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgedMap } from './aged-map.ts';

test('entries come out oldest first by the time they were last set; deleted and re-set ones are skipped where they were', () => {
  const m = new AgedMap<number>();
  m.set('a', 1, 10);
  m.set('b', 2, 20);
  m.set('c', 3, 30);
  m.set('a', 4, 40); // a is now the newest
  assert.equal(m.delete('b'), true);
  assert.equal(m.size, 2);
  assert.deepEqual(m.oldest(), { key: 'c', value: 3, atNs: 30 });
  assert.deepEqual(m.shift(), { key: 'c', value: 3, atNs: 30 });
  assert.deepEqual(m.shift(), { key: 'a', value: 4, atNs: 40 });
  assert.equal(m.shift(), undefined);
  assert.equal(m.size, 0);
  assert.equal(m.get('a'), undefined);
});

test('a long run of sets and deletes stays in order and compacts its queue', () => {
  const m = new AgedMap<number>();
  const live = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    m.set(`k${i % 3000}`, i, i);
    live.set(`k${i % 3000}`, i);
    if (i % 7 === 0) {
      m.delete(`k${(i * 13) % 3000}`);
      live.delete(`k${(i * 13) % 3000}`);
    }
    if (m.size > 2000) {
      const o = m.shift()!;
      assert.equal(live.get(o.key), o.value);
      // nothing older than it is still there
      for (const [, v] of live) assert.ok(v >= o.value);
      live.delete(o.key);
    }
  }
  assert.equal(m.size, live.size);
  assert.ok((m as unknown as { _order: unknown[] })._order.length < 10_000);
});

test('keys set again and again, only looked at (never shifted): the queue is compacted too', () => {
  const m = new AgedMap<number>();
  for (let i = 0; i < 100_000; i++) {
    m.set(`k${i % 32}`, i, i);
    assert.equal(m.oldest()!.key, i < 31 ? 'k0' : `k${(i + 1) % 32}`);
  }
  assert.equal(m.size, 32);
  assert.ok((m as unknown as { _order: unknown[] })._order.length < 5_000);
});
