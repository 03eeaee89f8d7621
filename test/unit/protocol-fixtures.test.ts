import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEscapes, matchRecords, parseFixtures } from '../helpers/protocol-fixtures.ts';

const FENCE = '```';
const doc = [
  '# title',
  '',
  '## case: first',
  'some prose',
  '### request',
  `${FENCE}http`,
  'GET / HTTP/1.1\\r\\n',
  '\\r\\n',
  '<gap 10>',
  'ab\\x00\\t\\\\',
  FENCE,
  '### response ts=7777',
  `${FENCE}http`,
  '<gap 3>',
  FENCE,
  '### close',
  '### expect',
  `${FENCE}json`,
  '[{ "a": 1 },',
  ' { "b": null }]',
  FENCE,
  '### counters',
  `${FENCE}json`,
  '{ "invalidFrames": 2 }',
  FENCE,
  '',
  '## case: second',
  '### expect',
  `${FENCE}json`,
  '[]',
  FENCE,
].join('\n');

test('parseFixtures: steps, escapes, gaps, timestamps, expectations', () => {
  const cases = parseFixtures(doc, 'doc.md');
  assert.equal(cases.length, 2);
  const c = cases[0];
  assert.equal(c.name, 'first');
  assert.equal(c.file, 'doc.md');
  assert.equal(c.line, 3);
  assert.deepEqual(
    c.steps.map((s) => (s.kind === 'close' ? ['close', s.tsNs] : [s.type, s.data.toString('latin1'), s.wireLen, s.tsNs])),
    [
      ['request', 'GET / HTTP/1.1\r\n\r\n', 28, 1000],
      ['request', 'ab\x00\t\\', 5, 2000],
      ['response', '', 3, 7777],
      ['close', 4000],
    ],
  );
  assert.deepEqual(c.expect, [{ a: 1 }, { b: null }]);
  assert.deepEqual(c.counters, { invalidFrames: 2 });
  assert.deepEqual(cases[1].steps, []);
  assert.equal(cases[1].counters, undefined);
});

test('parseFixtures rejects malformed files with a location', () => {
  assert.throws(() => parseFixtures('## case: x\n### request\n```\nab\n```\n', 'f.md'), /f\.md:1: case "x" has no ### expect/);
  assert.throws(() => parseFixtures('## case: x\n### bogus\n', 'f.md'), /f\.md:2: unknown section/);
  assert.throws(() => parseFixtures('## case: x\n### expect\n```json\n{"a":1}\n```\n', 'f.md'), /f\.md:3: ### expect must be a JSON array/);
  assert.throws(() => parseFixtures('## case: x\n### expect\n```json\n[\n', 'f.md'), /unterminated code block/);
  assert.throws(() => decodeEscapes('a\\q', 'f.md', 9), /f\.md:9: bad escape \\q/);
  assert.throws(() => decodeEscapes('\\x4', 'f.md', 9), /bad escape/);
});

test('matchRecords compares listed fields only; null matches a missing field', () => {
  const actual = [{ a: 1, b: undefined, c: [1, 2] }];
  assert.equal(matchRecords(actual, [{ a: 1 }]), undefined);
  assert.equal(matchRecords(actual, [{ a: 1, b: null, c: [1, 2] }]), undefined);
  assert.equal(matchRecords(actual, [{ a: 2 }]), 'record 0: a expected 2, got 1');
  assert.equal(matchRecords(actual, [{ c: [1] }]), 'record 0: c expected [1], got [1,2]');
  assert.match(matchRecords(actual, []) as string, /^expected 0 record\(s\), got 1/);
});
