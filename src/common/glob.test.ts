import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AgentError } from '../errors.ts';
import { compileGlob, globLiteralPrefix } from './glob.ts';

const cases: [pattern: string, input: string, expected: boolean][] = [
  // literal and empty
  ['/usr/bin/app', '/usr/bin/app', true],
  ['/usr/bin/app', '/usr/bin/app2', false],
  ['', '', true],
  ['', 'a', false],
  // `*` crosses `/`
  ['*', '', true],
  ['*', '/any/thing', true],
  ['*/obi', '/usr/local/bin/obi', true],
  ['*/obi', 'obi', false],
  ['/usr/*', '/usr/local/bin/x', true],
  ['/usr/*', '/opt/usr/x', false],
  ['*java*', '/usr/lib/jvm/java-17/bin/java', true],
  ['*java*', '/usr/bin/node', false],
  ['a*b*c', 'a/x/b/y/c', true],
  ['a*b*c', 'a/x/c/y/b', false],
  ['a**c', 'a/b/c', true],
  // `?`
  ['python?', 'python3', true],
  ['python?', 'python', false],
  ['python?', 'python31', false],
  ['a?c', 'a/c', true],
  ['?', '😀', true],
  // classes
  ['python[23]', 'python3', true],
  ['python[23]', 'python4', false],
  ['v[0-9]', 'v7', true],
  ['v[0-9]', 'va', false],
  ['x[!0-9]', 'xa', true],
  ['x[!0-9]', 'x5', false],
  ['x[!/]', 'x/', false],
  ['x[^a]', '^', false],
  ['x[^a]', 'x^', true],
  ['x[^a]', 'xa', true],
  ['[a-cx-z]', 'y', true],
  ['[a-cx-z]', 'd', false],
  ['[\\]]', ']', true],
  ['[\\-]', '-', true],
  ['[a-]', '-', true],
  // alternatives
  ['{go,java}', 'go', true],
  ['{go,java}', 'java', true],
  ['{go,java}', 'gojava', false],
  ['{go,java}', 'python', false],
  ['*.{js,ts}', 'main.ts', true],
  ['*.{js,ts}', 'main.rs', false],
  ['{a,}b', 'b', true],
  ['{a,}b', 'ab', true],
  ['{a,{b,c}d}', 'cd', true],
  ['{a,{b,c}d}', 'c', false],
  ['{*x,y?}', 'yz', true],
  ['{*x,y?}', 'abcx', true],
  ['{*x,y?}', 'yzz', false],
  // comma outside braces is literal
  ['a,b', 'a,b', true],
  // a closing brace outside braces is literal (gobwas)
  ['a}', 'a}', true],
  // escapes
  ['\\*', '*', true],
  ['\\*', 'x', false],
  ['a\\?', 'a?', true],
  ['a\\?', 'ab', false],
  ['\\{a,b\\}', '{a,b}', true],
  ['\\\\', '\\', true],
  // regexp metacharacters are literals
  ['a.b', 'a.b', true],
  ['a.b', 'axb', false],
  ['a+(b)|c$', 'a+(b)|c$', true],
  ['*.(x)', 'f.(x)', true],
  ['^a', '^a', true],
];

test('glob cases', () => {
  for (const [pattern, input, expected] of cases) {
    assert.equal(compileGlob(pattern)(input), expected, `${pattern} vs ${input}`);
  }
});

test('OBI default exclude pattern', () => {
  const m = compileGlob('{*/obi,obi,*otelcol,*otelcol-contrib,*otelcol-contrib[!/]*}');
  const yes = ['/usr/local/bin/obi', 'obi', '/otelcol', '/opt/otelcol', '/x/otelcol-contrib', '/x/otelcol-contrib2', '/x/otelcol-contrib-v1.2'];
  const no = ['/usr/bin/nobi', '/usr/local/bin/obi2', '/usr/bin/obi-ts', '/x/otelcol-contrib/bin', '/x/otelcol2', '/usr/sbin/nginx'];
  for (const s of yes) assert.equal(m(s), true, s);
  for (const s of no) assert.equal(m(s), false, s);
});

test('malformed patterns throw OBI_ERR_CONFIG_INVALID', () => {
  for (const bad of ['[abc', '{a,b', 'a\\', '[]', '[z-a]', '{a,[b}']) {
    assert.throws(
      () => compileGlob(bad),
      (e: unknown) => AgentError.is(e) && e.code === 'OBI_ERR_CONFIG_INVALID',
      bad,
    );
  }
});

test('globLiteralPrefix', () => {
  assert.equal(globLiteralPrefix('/usr/sbin/nginx'), '/usr/sbin/nginx');
  assert.equal(globLiteralPrefix('/usr/sbin/ngin?'), '/usr/sbin/ngin');
  assert.equal(globLiteralPrefix('*nginx'), '');
  assert.equal(globLiteralPrefix('/opt/{a,b}'), '/opt/');
  assert.equal(globLiteralPrefix('/a\\*b*'), '/a*b');
});

/** Naive reference matcher for patterns over a, b, /, *, ? (no classes or braces). */
function naive(p: string, s: string): boolean {
  if (p === '') return s === '';
  if (p[0] === '*') {
    for (let i = 0; i <= s.length; i++) if (naive(p.slice(1), s.slice(i))) return true;
    return false;
  }
  if (s === '') return false;
  if (p[0] === '?' || p[0] === s[0]) return naive(p.slice(1), s.slice(1));
  return false;
}

test('fast paths and the regexp path agree with a naive matcher', () => {
  const pat = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 7 });
  const str = fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 9 });
  fc.assert(
    fc.property(pat, str, (p, s) => compileGlob(p)(s) === naive(p, s)),
    { numRuns: 3000 },
  );
});
