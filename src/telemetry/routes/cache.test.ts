import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteCache } from './cache.ts';

test('cache: holds at most capacity entries and keeps recently used ones', () => {
  const c = new RouteCache(4); // generations of 2
  c.set('a', 'A');
  c.set('b', 'B');
  assert.equal(c.size, 2);
  c.set('c', 'C'); // young {a,b} → old; young {c}
  assert.equal(c.get('a'), 'A'); // promoted: young {c,a}, old {b}
  c.set('d', 'D'); // young full → old {c,a}, young {d}; b dropped
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('c'), 'C');
  assert.equal(c.get('a'), 'A');
  assert.equal(c.get('d'), 'D');
  assert.equal(c.size <= 4, true);
  c.set('d', 'D2');
  assert.equal(c.get('d'), 'D2');
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.get('a'), undefined);
});

test('cache: size never exceeds capacity over many inserts', () => {
  const c = new RouteCache(101);
  for (let i = 0; i < 5000; i++) {
    c.set(`k${i}`, `v${i}`);
    if (i % 3 === 0) c.get(`k${i >> 1}`);
    assert.equal(c.size <= 101, true);
  }
  assert.equal(c.get('k4999'), 'v4999');
});

test('cache: invalid capacity', () => {
  assert.throws(() => new RouteCache(1), /capacity must be an integer >= 2/);
});
