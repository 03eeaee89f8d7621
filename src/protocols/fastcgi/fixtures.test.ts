import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { fastcgiParser } from './index.ts';

const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('fastcgi fixtures are present', () => {
  assert.ok(cases.length >= 11, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(fastcgiParser, c), []);
  });
}
