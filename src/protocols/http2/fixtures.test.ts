import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { Http2Parser } from './parse.ts';

const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('http2 fixtures are present', () => {
  assert.ok(cases.length >= 10, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(new Http2Parser() as never, c), []);
  });
}
