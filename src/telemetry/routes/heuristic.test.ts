import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { heuristicRoute, segmentNeedsWildcard, KNOWN_TOKENS, DEFAULT_ROUTE_MODEL, MAX_HEURISTIC_SEGMENTS } from './heuristic.ts';
import { isGibberish } from './gibberish.ts';

/** [input, expected] with the default wildcard `*` */
const CASES: readonly (readonly [string, string])[] = [
  // required by the brief / OBI reference (section 1.8, scenario 15)
  ['/users/fdklsd/j4elk/23993/job/2', '/users/*/j4elk/*/job/*'],
  ['/v1/products/22j', '/v1/products/*'],
  ['/v1/products/22', '/v1/products/*'],
  ['/api/hello.world', '/api/hello.world'],
  ['/products/1/org/3', '/products/*/org/*'],
  // common REST paths stay intact
  ['/api/v2/users/profile', '/api/v2/users/profile'],
  ['/health', '/health'],
  ['/healthz', '/healthz'],
  ['/metrics', '/metrics'],
  ['/static/css/main.css', '/static/css/main.css'],
  ['/static/js/app.bundle.js', '/static/js/app.bundle.js'],
  ['/favicon.ico', '/favicon.ico'],
  ['/robots.txt', '/robots.txt'],
  ['/api/webhook/video/sync', '/api/webhook/video/sync'],
  ['/api/data.json', '/api/data.json'],
  ['/readyz', '/readyz'],
  ['/qwzxkj.json', '/*'],
  ['/graphql', '/graphql'],
  ['/oauth/authorize', '/oauth/authorize'],
  ['/k8s/pods', '/k8s/pods'],
  ['/UserProfile/GetDetails', '/UserProfile/GetDetails'],
  ['/shopping-cart/check_out', '/shopping-cart/check_out'],
  ['/echoCall', '/echoCall'],
  ['/create-trace-with-id', '/create-trace-with-id'],
  ['/basic/42', '/basic/*'],
  // identifiers
  ['/users/550e8400-e29b-41d4-a716-446655440000', '/users/*'],
  ['/users/550e8400-e29b-41d4-a716-446655440000/orders', '/users/*/orders'],
  ['/commit/3f2a9c1d0b', '/commit/*'],
  ['/commit/deadbeefcafe', '/commit/*'],
  ['/s/aGVsbG8gd29ybGQ', '/s/*'],
  ['/t/eyJhbGciOiJIUzI1NiJ9', '/t/*'],
  ['/u/john@example.com', '/u/*'],
  ['/reports/2024-01-05/daily', '/reports/*/daily'],
  ['/search/xkcdqwzzp', '/search/*'],
  ['/users/fdklsd-home', '/users/*'], // one gibberish piece wildcards the segment
  ['/p/%E2%82%AC', '/p/*'],
  ['/a/ünï', '/a/*'],
  // digit tolerance is for the second character only
  ['/v12/x', '/*/x'],
  ['/1a/x', '/*/x'],
  ['/api2/x', '/*/x'],
  ['/a1/x', '/a1/x'],
  // short pieces are never scored
  ['/xq/zzz', '/xq/zzz'],
  // query, fragment and & are cut
  ['/users/?x=1', '/users/'],
  ['/items?id=22', '/items'],
  ['/x&y=2', '/x'],
  ['/docs#intro', '/docs'],
  ['http://example.com:8080/users/qwzxkj?z=1', '/users/*'],
  ['http://example.com', '/'],
  // shape is preserved
  ['/', '/'],
  ['', '/'],
  ['?a=1', '/'],
  ['//double//slash', '//double//slash'],
  ['/trailing/', '/trailing/'],
  ['/with space', '/with space'],
  ['*', '*'],
  // at most 10 segments: anything after the 10th becomes one wildcard segment
  ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/i/j'],
  ['/a/b/c/d/e/f/g/h/i/j/', '/a/b/c/d/e/f/g/h/i/j/'],
  ['/a/b/c/d/e/f/g/h/i/j/k', '/a/b/c/d/e/f/g/h/i/j/*'],
  ['/a/b/c/d/e/f/g/h/i/j/k/l/m', '/a/b/c/d/e/f/g/h/i/j/*'],
  ['/1/2/3/4/5/6/7/8/9/10/11/12', '/*/*/*/*/*/*/*/*/*/*/*'],
];

test('heuristic: table of paths', () => {
  for (const [input, expected] of CASES) assert.equal(heuristicRoute(input), expected, `input ${JSON.stringify(input)}`);
});

test('heuristic: wildcard_char is used for replaced segments and the overflow segment', () => {
  assert.equal(heuristicRoute('/users/fdklsd/j4elk/23993/job/2', '#'), '/users/#/j4elk/#/job/#');
  assert.equal(heuristicRoute('/a/b/c/d/e/f/g/h/i/j/k/l', '_'), '/a/b/c/d/e/f/g/h/i/j/_');
});

test('heuristic: a kept path is returned as the same string', () => {
  const p = '/api/v2/users/profile';
  assert.equal(Object.is(heuristicRoute(p), p), true);
  assert.equal(MAX_HEURISTIC_SEGMENTS, 10);
});

test('heuristic: segmentNeedsWildcard on index ranges', () => {
  const s = 'xx/hello.world/fdklsd/v1/';
  assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, s, 3, 14), false);
  assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, s, 15, 21), true);
  assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, s, 22, 24), false);
  assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, '---', 0, 3), false);
});

test('heuristic: every KNOWN_TOKENS entry is one the model flags (no dead entries)', () => {
  for (const t of KNOWN_TOKENS) {
    assert.equal(isGibberish(DEFAULT_ROUTE_MODEL, t, 0, t.length), true, t);
    assert.equal(heuristicRoute(`/${t}`), `/${t}`);
    assert.equal(heuristicRoute(`/${t.toUpperCase()}`), `/${t.toUpperCase()}`);
  }
});

test('heuristic (property): idempotent, never more than 11 segments, never longer than the path', () => {
  const seg = fc.oneof(
    fc.stringMatching(/^[a-zA-Z0-9._~%@-]{0,12}$/),
    fc.constantFrom('users', 'v1', 'j4elk', 'hello.world', '42', 'fdklsd', ''),
  );
  fc.assert(
    fc.property(fc.array(seg, { maxLength: 16 }), (segs) => {
      const path = '/' + segs.join('/');
      const route = heuristicRoute(path);
      assert.equal(heuristicRoute(route), route);
      assert.equal(route.startsWith('/'), true);
      const n = route.split('/').length - 1;
      assert.equal(n <= MAX_HEURISTIC_SEGMENTS + 1, true);
      assert.equal(n, segs.length > MAX_HEURISTIC_SEGMENTS ? MAX_HEURISTIC_SEGMENTS + 1 : Math.max(1, segs.length));
      assert.equal(route.length <= path.length, true);
    }),
    { numRuns: 2000, seed: 42 },
  );
});

test('heuristic (property): the fused segment scan agrees with gibberish.ts isGibberish', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-zA-Z]{1,14}$/), (word) => {
      const flagged = isGibberish(DEFAULT_ROUTE_MODEL, word, 0, word.length) && !KNOWN_TOKENS.has(word.toLowerCase());
      assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, word, 0, word.length), flagged);
      assert.equal(segmentNeedsWildcard(DEFAULT_ROUTE_MODEL, `ok-${word}`, 0, word.length + 3), flagged);
    }),
    { numRuns: 3000, seed: 7 },
  );
});
