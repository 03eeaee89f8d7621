import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentCardinalityLimiter, DEFAULT_MAX_PATH_SEGMENT_CARDINALITY } from './lowcard.ts';

test('lowcard: the first N distinct values at a node are kept, later new ones become the wildcard', () => {
  assert.equal(DEFAULT_MAX_PATH_SEGMENT_CARDINALITY, 10);
  const l = new SegmentCardinalityLimiter(3, '*');
  assert.equal(l.limit('/shop/alpha'), '/shop/alpha');
  assert.equal(l.limit('/shop/beta'), '/shop/beta');
  assert.equal(l.limit('/shop/gamma'), '/shop/gamma');
  assert.equal(l.limit('/shop/delta'), '/shop/*'); // 4th distinct value under /shop
  assert.equal(l.limit('/shop/epsilon'), '/shop/*');
  assert.equal(l.limit('/shop/beta'), '/shop/beta'); // admitted values stay admitted
  assert.equal(l.limit('/shop/delta'), '/shop/*'); // rejected values stay rejected
  // the cap is per prefix: another parent has its own N places
  assert.equal(l.limit('/blog/delta'), '/blog/delta');
  // the root is a node too: /shop and /blog used 2 of its 3 places
  assert.equal(l.limit('/news'), '/news');
  assert.equal(l.limit('/about'), '/*');
  assert.equal(l.literalNodes, 3 + 3 + 1);
});

test('lowcard: resolution continues below the wildcard, which has its own places', () => {
  const l = new SegmentCardinalityLimiter(1, '*');
  assert.equal(l.limit('/a/x/list'), '/a/x/list');
  assert.equal(l.limit('/b/y/list'), '/*/y/list'); // b overflows the root; y is the first child of *
  assert.equal(l.limit('/c/z/list'), '/*/*/list'); // c → *, z overflows *'s single place
  assert.equal(l.limit('/c/z/edit'), '/*/*/*'); // */*/ already has "list"
});

test('lowcard: heuristic wildcards do not use up places', () => {
  const l = new SegmentCardinalityLimiter(2, '*');
  assert.equal(l.limit('/users/*/orders'), '/users/*/orders');
  assert.equal(l.limit('/users/*'), '/users/*');
  assert.equal(l.limit('/users/me'), '/users/me');
  assert.equal(l.limit('/users/you'), '/users/you');
  assert.equal(l.limit('/users/them'), '/users/*');
  assert.equal(l.limit('/users/*/orders'), '/users/*/orders');
});

test('lowcard: trailing slash, root, custom wildcard, other shapes', () => {
  const l = new SegmentCardinalityLimiter(1, '#');
  assert.equal(l.limit('/'), '/');
  assert.equal(l.limit('/a/'), '/a/'); // '' is a's first child value
  assert.equal(l.limit('/a/b'), '/a/#');
  assert.equal(l.limit('/a/#/c'), '/a/#/c');
  assert.equal(l.limit('*'), '#'); // root's one place is taken by 'a'
  assert.equal(l.limit('/x'), '/#');
});

test('lowcard: maxNodes bounds the trie', () => {
  const l = new SegmentCardinalityLimiter(100, '*', 3);
  assert.equal(l.limit('/a/b'), '/a/b');
  assert.equal(l.limit('/c'), '/c');
  assert.equal(l.literalNodes, 3);
  assert.equal(l.limit('/d/e'), '/*/*');
  assert.equal(l.limit('/a/b'), '/a/b');
  assert.equal(l.literalNodes, 3);
});

test('lowcard: 50 distinct ids under one prefix yield exactly 10 literals and the wildcard', () => {
  const l = new SegmentCardinalityLimiter(DEFAULT_MAX_PATH_SEGMENT_CARDINALITY, '*');
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) seen.add(l.limit(`/items/item${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`));
  assert.equal(seen.size, 11);
  assert.equal(seen.has('/items/*'), true);
  assert.equal(seen.has('/items/itemaa'), true);
  assert.equal(seen.has('/items/itemja'), true);
  assert.equal(seen.has('/items/itemka'), false);
});

test('lowcard: invalid limits', () => {
  assert.throws(() => new SegmentCardinalityLimiter(0, '*'), /maxPerNode must be an integer >= 1/);
  assert.throws(() => new SegmentCardinalityLimiter(2.5, '*'), /maxPerNode must be an integer >= 1/);
  assert.throws(() => new SegmentCardinalityLimiter(2, '*', 0), /maxNodes must be an integer >= 1/);
});
