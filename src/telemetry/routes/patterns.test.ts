import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePatterns } from './patterns.ts';
import { AgentError } from '../../errors.ts';

test('patterns: :name and {name} parameters, first match wins, route is the template text', () => {
  const m = compilePatterns(['/basic/:rnd', '/users/{id}/orders', '/users/{id}', '/users/me', '/user/{id}/basket/{product}']);
  assert.equal(m.size, 5);
  assert.equal(m.match('/basic/1234'), '/basic/:rnd');
  assert.equal(m.match('/basic/1234?delay=30ms&status=404'), '/basic/:rnd');
  assert.equal(m.match('/users/42/orders'), '/users/{id}/orders');
  assert.equal(m.match('/users/42'), '/users/{id}');
  assert.equal(m.match('/users/me'), '/users/{id}'); // earlier template wins over the literal one
  assert.equal(m.match('/user/123/basket/1'), '/user/{id}/basket/{product}');
  assert.equal(m.match('/users/42/orders/7'), undefined);
  assert.equal(m.match('/basic'), undefined);
  assert.equal(m.match('/Basic/1'), undefined); // literals are case-sensitive
  assert.equal(m.match('/other'), undefined);
});

test('patterns: empty segments, trailing slash, query and fragment', () => {
  const m = compilePatterns(['/users/:id', '/docs/', '/', '/a//b']);
  assert.equal(m.match('/users/'), undefined); // a parameter never matches an empty segment
  assert.equal(m.match('/users//'), undefined);
  assert.equal(m.match('/users/42/'), '/users/:id'); // one trailing slash is insignificant
  assert.equal(m.match('/users/42//'), undefined);
  assert.equal(m.match('/docs'), '/docs/');
  assert.equal(m.match('/docs/'), '/docs/');
  assert.equal(m.match('/docs#top'), '/docs/');
  assert.equal(m.match('/'), '/');
  assert.equal(m.match(''), '/');
  assert.equal(m.match('/?q=1'), '/');
  assert.equal(m.match('/a//b'), '/a//b');
  assert.equal(m.match('/a/b'), undefined);
  assert.equal(m.match('http://host:8080/users/7?x'), '/users/:id');
  assert.equal(m.match('*'), undefined);
  assert.equal(m.match('users/7'), undefined);
});

test('patterns: partial-segment braces are literals', () => {
  const m = compilePatterns(['/files/{name}.json']);
  assert.equal(m.match('/files/a.json'), undefined);
  assert.equal(m.match('/files/{name}.json'), '/files/{name}.json');
});

test('patterns: no templates never match', () => {
  const m = compilePatterns([]);
  assert.equal(m.size, 0);
  assert.equal(m.match('/anything'), undefined);
});

test('patterns: paths longer than every template bail out', () => {
  const m = compilePatterns(['/a/:b']);
  assert.equal(m.match('/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p'), undefined);
  assert.equal(m.match('/a/x'), '/a/:b');
});

test('patterns: invalid templates are config errors naming the key and index', () => {
  const cases: [unknown[], RegExp][] = [
    [['users/:id'], /^routes\.patterns\[0\] must start with "\/": "users\/:id"$/],
    [['/ok', ''], /^routes\.patterns\[1\] must start with "\/": ""$/],
    [['/a/:'], /^routes\.patterns\[0\] has a parameter without a name: "\/a\/:"$/],
    [['/a/{}'], /^routes\.patterns\[0\] has a parameter without a name: "\/a\/\{\}"$/],
    [['/a?b=1'], /^routes\.patterns\[0\] must be a path without query or fragment: "\/a\?b=1"$/],
    [[42], /^routes\.patterns\[0\] must be a string$/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => compilePatterns(input as string[]), (e: unknown) => {
      assert.equal(AgentError.is(e), true);
      assert.equal((e as AgentError).code, 'OBI_ERR_CONFIG_INVALID');
      assert.match((e as Error).message, re);
      return true;
    });
  }
  assert.throws(() => compilePatterns(['x'], 'routes.ignored_patterns'), /^AgentError: routes\.ignored_patterns\[0\]/);
});
