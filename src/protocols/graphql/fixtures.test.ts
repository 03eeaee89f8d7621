import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { extractorParser } from '../../../test/helpers/http-extract-fixtures.ts';
import { graphql } from './index.ts';

const cases = loadFixtures(fileURLToPath(new URL('./fixtures/', import.meta.url)));
const parser = extractorParser(graphql, 'server');

test('graphql fixtures are present', () => {
  assert.ok(cases.length >= 8, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(parser, c), []);
  });
}

// the same extractor over HTTP/2: recorded node:http2 exchanges (scripts/gen-h2-extract-fixtures.ts)
const h2cases = loadFixtures(fileURLToPath(new URL('./fixtures/h2/', import.meta.url)));
const h2parser = extractorParser(graphql, 'server', 8192, 'search.local:9200', 'http2');

test('graphql HTTP/2 fixtures are present', () => {
  assert.ok(h2cases.length >= 1, `only ${h2cases.length} cases`);
});

for (const c of h2cases) {
  test(`h2/${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(h2parser, c), []);
  });
}
