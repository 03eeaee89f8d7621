import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures, matchRecords, parseFixtures, replayFixture } from '../../../test/helpers/protocol-fixtures.ts';
import { http1Parser } from './index.ts';

const FENCE = '```';
const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('http1 fixtures are present', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(http1Parser, c), []);
  });
}

test('replayFixture: run counts per mode, and each mode really re-splits the input', () => {
  const [c] = parseFixtures(
    [
      '## case: r',
      '### request',
      `${FENCE}http`,
      'GET /r HTTP/1.1\\r\\n\\r\\n',
      FENCE,
      '### response',
      `${FENCE}http`,
      'HTTP/1.1 200 OK\\r\\n',
      'Content-Length: 0\\r\\n\\r\\n',
      FENCE,
      '### expect',
      `${FENCE}json`,
      '[{ "path": "/r", "status": 200, "startNs": 1000, "endNs": 2000 }]',
      FENCE,
    ].join('\n'),
  );
  assert.equal(replayFixture(http1Parser, c, 'whole').length, 1);
  const split = replayFixture(http1Parser, c, 'split');
  assert.equal(split.length, 18 + 37);
  assert.equal(split[0].label, 'split step 1 at 1');
  assert.ok(split.every((r) => matchRecords(r.records, c.expect) === undefined));
  assert.equal(replayFixture(http1Parser, c, 'bytes').length, 1);
  assert.deepEqual(checkFixture(http1Parser, c), []);
  const wrong = { ...c, expect: [{ status: 201 }] };
  assert.deepEqual(checkFixture(http1Parser, wrong), [
    '<inline>:1 "r" [whole] record 0: status expected 201, got 200',
    '<inline>:1 "r" [split step 1 at 1] record 0: status expected 201, got 200',
    '<inline>:1 "r" [bytes] record 0: status expected 201, got 200',
  ]);
});
