/**
 * The GenAI extractor over HTTP/2: recorded node:http2 exchanges (fixtures/h2/, written by
 * scripts/gen-h2-extract-fixtures.ts) replayed through the HTTP/2 parser keeping payloads, whole,
 * at every split point and byte by byte, then read by the extractor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkFixture, loadFixtures } from '../../../test/helpers/protocol-fixtures.ts';
import { extractorParser } from '../../../test/helpers/http-extract-fixtures.ts';
import { GENAI_BODY_KEEP, genaiExtractor } from './index.ts';

const cases = loadFixtures(fileURLToPath(new URL('./fixtures/h2/', import.meta.url)));
const parser = extractorParser(genaiExtractor(['openai']), 'client', GENAI_BODY_KEEP, 'api.openai.com:443', 'http2');

test('genai HTTP/2 fixtures are present', () => {
  assert.ok(cases.length >= 1, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`h2/${c.file}: ${c.name} (whole, every split, byte by byte)`, () => {
    assert.deepEqual(checkFixture(parser, c), []);
  });
}
