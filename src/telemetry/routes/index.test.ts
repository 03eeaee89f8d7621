import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouteResolver, WILDCARD_ROUTE } from './index.ts';
import type { RouteResolverConfig } from './index.ts';
import { AgentError } from '../../errors.ts';

const PATHS = ['/users/fdklsd/j4elk/23993/job/2', '/v1/products/22', '/api/hello.world', '/basic/7?delay=30ms', '/items?id=3'];

test('resolver: each unmatched mode', () => {
  const expected: Record<RouteResolverConfig['unmatched'], string[]> = {
    unset: ['', '', '', '', ''],
    path: ['/users/fdklsd/j4elk/23993/job/2', '/v1/products/22', '/api/hello.world', '/basic/7', '/items'],
    wildcard: ['/**', '/**', '/**', '/**', '/**'],
    heuristic: ['/users/*/j4elk/*/job/*', '/v1/products/*', '/api/hello.world', '/basic/*', '/items'],
    'low-cardinality': ['/users/*/j4elk/*/job/*', '/v1/products/*', '/api/hello.world', '/basic/*', '/items'],
  };
  for (const mode of Object.keys(expected) as RouteResolverConfig['unmatched'][]) {
    for (const withPatterns of [false, true]) {
      const r = createRouteResolver({ patterns: withPatterns ? ['/nomatch/:x'] : [], unmatched: mode });
      for (let rep = 0; rep < 2; rep++) {
        // second round is served from the cache (where there is one) and must agree
        assert.deepEqual(PATHS.map((p) => r.resolve(p, 'svc')), expected[mode], `${mode} patterns=${withPatterns} round ${rep}`);
      }
    }
  }
  assert.equal(WILDCARD_ROUTE, '/**');
});

test('resolver: patterns are tried first, in every mode (scenario 1: /basic/:rnd)', () => {
  for (const unmatched of ['unset', 'path', 'wildcard', 'heuristic', 'low-cardinality'] as const) {
    const r = createRouteResolver({ patterns: ['/basic/:rnd', '/users/{id}/orders'], unmatched });
    assert.equal(r.resolve('/basic/1234?delay=30ms&status=404', 's'), '/basic/:rnd');
    assert.equal(r.resolve('/users/fdklsd/orders', 's'), '/users/{id}/orders');
  }
});

test('resolver: wildcard_char', () => {
  const r = createRouteResolver({ patterns: [], unmatched: 'heuristic', wildcardChar: '_' });
  assert.equal(r.resolve('/products/1/org/3', 's'), '/products/_/org/_');
  const w = createRouteResolver({ patterns: [], unmatched: 'wildcard', wildcardChar: '_' });
  assert.equal(w.resolve('/x', 's'), '/**');
});

test('resolver: low-cardinality caps per service and dropService resets it', () => {
  const r = createRouteResolver({ patterns: [], unmatched: 'low-cardinality', maxPathSegmentCardinality: 2 });
  const names = ['alpha', 'beta', 'gamma', 'delta'];
  assert.deepEqual(names.map((n) => r.resolve(`/shop/${n}`, 'a')), ['/shop/alpha', '/shop/beta', '/shop/*', '/shop/*']);
  // another service has its own trie
  assert.deepEqual(names.map((n) => r.resolve(`/shop/${n}`, 'b').length), [11, 10, 7, 7]);
  assert.equal(r.resolve('/shop/delta', 'b'), '/shop/*');
  // the same answers come back from the cache
  assert.deepEqual(names.map((n) => r.resolve(`/shop/${n}`, 'a')), ['/shop/alpha', '/shop/beta', '/shop/*', '/shop/*']);
  r.dropService('a');
  assert.deepEqual(['delta', 'gamma', 'beta'].map((n) => r.resolve(`/shop/${n}`, 'a')), ['/shop/delta', '/shop/gamma', '/shop/*']);
});

test('resolver: low-cardinality default cap is 10', () => {
  const r = createRouteResolver({ patterns: [], unmatched: 'low-cardinality' });
  const words = ['apple', 'banana', 'cherry', 'grape', 'lemon', 'mango', 'melon', 'orange', 'peach', 'pear', 'plum', 'berry'];
  const out = words.map((w) => r.resolve(`/fruit/${w}`, 's'));
  assert.deepEqual(out.slice(10), ['/fruit/*', '/fruit/*']);
  assert.equal(new Set(out).size, 11);
});

test('resolver: the cache stays bounded and correct when paths exceed it', () => {
  const r = createRouteResolver({ patterns: ['/k/:v'], unmatched: 'path', cacheSize: 4 });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20; i++) {
      assert.equal(r.resolve(`/p${i}?q`, 's'), `/p${i}`);
      assert.equal(r.resolve(`/k/${i}`, 's'), '/k/:v');
    }
  }
});

test('resolver: ignored patterns', () => {
  const r = createRouteResolver({ patterns: [], unmatched: 'heuristic', ignoredPatterns: ['/metrics', '/health/:check'] });
  assert.equal(r.isIgnored('/metrics'), true);
  assert.equal(r.isIgnored('/metrics?x=1'), true);
  assert.equal(r.isIgnored('/metrics/'), true);
  assert.equal(r.isIgnored('/health/db'), true);
  assert.equal(r.isIgnored('/health'), false);
  assert.equal(r.isIgnored('/metricsx'), false);
  const none = createRouteResolver({ patterns: [], unmatched: 'heuristic' });
  assert.equal(none.isIgnored('/metrics'), false);
});

test('resolver: invalid configuration is OBI_ERR_CONFIG_INVALID naming the key', () => {
  const cases: [Partial<RouteResolverConfig> & Record<string, unknown>, RegExp][] = [
    [{ unmatched: 'nope' as never }, /^routes\.unmatched must be one of unset, path, wildcard, heuristic, low-cardinality, got "nope"$/],
    [{ wildcardChar: '' }, /^routes\.wildcard_char must be a single character other than "\/", got ""$/],
    [{ wildcardChar: '**' }, /^routes\.wildcard_char must be a single character/],
    [{ wildcardChar: '/' }, /^routes\.wildcard_char must be a single character/],
    [{ maxPathSegmentCardinality: 0 }, /^routes\.max_path_segment_cardinality must be an integer >= 1, got 0$/],
    [{ maxPathSegmentCardinality: 1.5 }, /^routes\.max_path_segment_cardinality must be an integer >= 1, got 1\.5$/],
    [{ patterns: ['nope'] }, /^routes\.patterns\[0\] must start with "\/"/],
    [{ ignoredPatterns: ['/ok', '/x/:'] }, /^routes\.ignored_patterns\[1\] has a parameter without a name/],
    [{ cacheSize: 1 }, /^routes cache size must be an integer >= 2, got 1$/],
  ];
  for (const [override, re] of cases) {
    assert.throws(() => createRouteResolver({ patterns: [], unmatched: 'heuristic', ...override }), (e: unknown) => {
      assert.equal(AgentError.is(e), true);
      assert.equal((e as AgentError).code, 'OBI_ERR_CONFIG_INVALID');
      assert.match((e as Error).message, re);
      return true;
    });
  }
});
