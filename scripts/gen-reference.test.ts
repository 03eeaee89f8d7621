import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, SPANS_DOC } from './gen-reference.ts';

test('docs/reference/spans.md matches what the parsers and span builders produce (run node scripts/gen-reference.ts)', async () => {
  const text = await generate();
  assert.equal(readFileSync(join(import.meta.dirname, '..', SPANS_DOC), 'utf8'), text);
  assert.match(text, /## `http1` \(instrumentation `http`, category `http`\)/);
  assert.match(text, /\| SERVER \| `GET \/index\.html`/);
});
