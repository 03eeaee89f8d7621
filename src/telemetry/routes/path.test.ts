import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathStart, pathEnd, pathOnly } from './path.ts';

test('path: origin, absolute and other request-target forms', () => {
  const cases: [string, string][] = [
    ['/a/b?x=1#f', '/a/b'],
    ['/a/b#f?x', '/a/b'],
    ['/a&b', '/a&b'],
    ['http://host:80/a/b?x', '/a/b'],
    ['HTTPS://host/a', '/a'],
    ['http://host', ''],
    ['http://host?x', ''],
    ['*', '*'],
    ['host:443', 'host:443'],
    ['a b://c/d', 'a b://c/d'], // not a scheme
    ['', ''],
  ];
  for (const [input, expected] of cases) assert.equal(pathOnly(input), expected, input);
  const same = '/unchanged/path';
  assert.equal(Object.is(pathOnly(same), same), true);
});

test('path: pathEnd stops at & only when asked', () => {
  assert.equal(pathEnd('/a&b?c', 0, false), 4);
  assert.equal(pathEnd('/a&b?c', 0, true), 2);
  assert.equal(pathEnd('/abc', 0, true), 4);
  assert.equal(pathStart('http://h/x'), 8);
  assert.equal(pathStart('/x'), 0);
});
