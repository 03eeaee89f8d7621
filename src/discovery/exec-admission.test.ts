import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, globBaseNames } from '../common/glob.ts';
import { planExecAdmission } from './exec-admission.ts';

test('globBaseNames: exact base names only where every alternative ends in a literal after a /', () => {
  assert.deepEqual(globBaseNames('*/curl'), ['curl']);
  assert.deepEqual(globBaseNames('/usr/bin/{curl,wget}'), ['curl', 'wget']);
  assert.deepEqual(globBaseNames('{*/a/curl,*/wget}'), ['curl', 'wget']);
  assert.deepEqual(globBaseNames('/opt/*/bin/app'), ['app']);
  assert.equal(globBaseNames('*/python3*'), undefined); // `*` matches `/` too
  assert.equal(globBaseNames('*curl'), undefined);
  assert.equal(globBaseNames('*/'), undefined);
  assert.equal(globBaseNames('*/cu?l'), undefined);
  // a superset of what the glob matches: every matching path has one of the names
  for (const [glob, paths] of [
    ['*/curl', ['/usr/bin/curl', '/a/b/curl', '/curl']],
    ['/usr/bin/{curl,wget}', ['/usr/bin/curl', '/usr/bin/wget']],
  ] as const) {
    const m = compileGlob(glob);
    for (const p of paths) {
      assert.ok(m(p));
      assert.ok(globBaseNames(glob)!.includes(p.slice(p.lastIndexOf('/') + 1)));
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
      { exePath: '*/python3*' }, // no fixed base name
      { languages: 'go' }, // told by ELF contents
      { exePath: `*/${'x'.repeat(40)}` },
      { exePath: '*/curl', cmdArgs: '*-v*' }, // duplicate fact
    ],
    32,
  );
  assert.deepEqual(
    plan.facts.map((f) => [f.name, f.prefix, f.bytes.length, f.selector]),
    [
      ['curl', false, 4, 2],
      ['python', true, 6, 3],
      ['node', false, 4, 4],
      ['nodejs', false, 6, 4],
      ['java', false, 4, 4],
      ['x'.repeat(40), true, 31, 7],
    ],
  );
  assert.equal(plan.prefixLengths, ((1 << 6) | (1 << 31)) >>> 0);
  assert.deepEqual(plan.unsupported.map((s) => s.exePath ?? s.languages), ['*/python3*', 'go']);
});
