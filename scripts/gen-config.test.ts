import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll, readSchema, OUTPUTS } from './gen-config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

test('committed generated files match the schema (run node scripts/gen-config.ts)', () => {
  const files = generateAll(readSchema());
  assert.deepEqual(Object.keys(files).sort(), Object.values(OUTPUTS).sort());
  for (const [rel, content] of Object.entries(files)) {
    assert.equal(readFileSync(join(ROOT, rel), 'utf8'), content, `${rel} is stale`);
  }
});

test('generation is deterministic', () => {
  assert.deepEqual(generateAll(readSchema()), generateAll(readSchema()));
});

test('the docs list every env var of the schema', () => {
  const docs = readFileSync(join(ROOT, OUTPUTS.docs), 'utf8');
  const schemaText = readFileSync(join(ROOT, 'src/config/schema.json'), 'utf8');
  const vars = new Set([...schemaText.matchAll(/"((?:OTEL|KUBECONFIG)[A-Z0-9_]*)"/g)].map((m) => m[1]!));
  const missing = [...vars].filter((v) => !docs.includes(`\`${v}\``));
  assert.deepEqual(missing, []);
  assert.ok(vars.size > 150);
});
