import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { createRedisParser } from './index.ts';

// the fixtures expect `SELECT n` → db.namespace: OBI's DB cache, off by default, enabled here
const redisParser = createRedisParser({ dbCache: { enabled: true } });
const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));

test('redis fixtures are present', () => {
  assert.ok(cases.length >= 15, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(redisParser, c), []);
  });
}
