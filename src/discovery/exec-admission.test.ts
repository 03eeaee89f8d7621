import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, globBaseFacts, type BaseNameFact } from '../common/glob.ts';
import { planExecAdmission } from './exec-admission.ts';

const exact = (text: string): BaseNameFact => ({ text, kind: 'exact' });
const prefix = (text: string): BaseNameFact => ({ text, kind: 'prefix' });
const suffix = (text: string): BaseNameFact => ({ text, kind: 'suffix' });

test('globBaseFacts: exact names, suffixes after a wildcard, prefixes before a trailing wildcard', () => {
  assert.deepEqual(globBaseFacts('*/curl'), [exact('curl')]);
  assert.deepEqual(globBaseFacts('/usr/bin/{curl,wget}'), [exact('curl'), exact('wget')]);
  assert.deepEqual(globBaseFacts('{*/a/curl,*/wget}'), [exact('curl'), exact('wget')]);
  assert.deepEqual(globBaseFacts('/opt/*/bin/app'), [exact('app')]);
  assert.deepEqual(globBaseFacts('curl'), [exact('curl')]);
  assert.deepEqual(globBaseFacts('*/bin/*server'), [suffix('server')]);
  assert.deepEqual(globBaseFacts('*curl'), [suffix('curl')]);
  assert.deepEqual(globBaseFacts('*/python3*'), [prefix('python3')]);
  assert.deepEqual(globBaseFacts('/usr/bin/python3.?'), [prefix('python3.')]);
  assert.deepEqual(globBaseFacts('{*/python3*,*/bin/*-obi}'), [prefix('python3'), suffix('-obi')]);
  assert.equal(globBaseFacts('*'), undefined);
  assert.equal(globBaseFacts('*/'), undefined);
  assert.equal(globBaseFacts('*/bin/*'), undefined);
  assert.equal(globBaseFacts('*/cu?l'), undefined); // suffix `l`: too short
  assert.equal(globBaseFacts('{*/curl,*}'), undefined); // one alternative without a fact
  // a superset of what the glob matches: every matching path's base name satisfies a fact
  // (prefixes: where no trailing wildcard matches a `/`)
  const holds = (f: BaseNameFact, base: string): boolean =>
    f.kind === 'exact' ? base === f.text : f.kind === 'prefix' ? base.startsWith(f.text) : base.endsWith(f.text);
  for (const [glob, paths] of [
    ['*/curl', ['/usr/bin/curl', '/a/b/curl', '/curl']],
    ['/usr/bin/{curl,wget}', ['/usr/bin/curl', '/usr/bin/wget']],
    ['*/bin/*server', ['/usr/bin/redis-server', '/opt/bin/x/server', '/bin/server']],
    ['*/python3*', ['/usr/bin/python3', '/usr/bin/python3.11']],
  ] as const) {
    const m = compileGlob(glob);
    for (const p of paths) {
      assert.ok(m(p), `${glob} matches ${p}`);
      const base = p.slice(p.lastIndexOf('/') + 1);
      assert.ok(globBaseFacts(glob)!.some((f) => holds(f, base)), `${glob}: a fact holds for ${p}`);
    }
  }
});

test('planExecAdmission: exe and language facts, prefixes, long names, unsupported selectors', () => {
  const plan = planExecAdmission(
    [
      { openPorts: [{ start: 80, end: 80 }] }, // needs a port: nothing at exec
      { exePath: '*/curl' },
      { languages: 'python' },
      { languages: '{nodejs,java}' },
      { exePath: '*/python3*' }, // a prefix
      { languages: 'go' }, // told by ELF contents
      { exePath: `*/${'x'.repeat(40)}` },
      { exePath: '*/curl', cmdArgs: '*-v*' }, // duplicate fact
      { exePath: '*/bin/*server' }, // a suffix
      { exePath: `*/bin/*${'y'.repeat(31)}` }, // a suffix longer than the kernel tests
      { exePath: '*/bin/*' }, // nothing to test in the kernel
    ],
    32,
  );
  assert.deepEqual(
    plan.facts.map((f) => [f.name, f.prefix, f.suffix === true, f.bytes.length, f.selector]),
    [
      ['curl', false, false, 4, 2],
      ['python', true, false, 6, 3],
      ['node', false, false, 4, 4],
      ['nodejs', false, false, 6, 4],
      ['java', false, false, 4, 4],
      ['python3', true, false, 7, 5],
      ['x'.repeat(40), true, false, 31, 7],
      ['server', false, true, 6, 9],
    ],
  );
  assert.equal(plan.prefixLengths, ((1 << 6) | (1 << 7) | (1 << 31)) >>> 0);
  assert.equal(plan.suffixLengths, 1 << 6);
  assert.deepEqual(plan.unsupported.map((s) => s.exePath ?? s.languages), ['go', `*/bin/*${'y'.repeat(31)}`, '*/bin/*']);
});
