import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { mongoParser } from './index.ts';

// byte captures of real client sessions (test/helpers/mongo-capture.ts) and hand-written cases
const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('mongo fixtures are present', () => {
  assert.ok(cases.length >= 4, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(mongoParser, c), []);
  });
}
