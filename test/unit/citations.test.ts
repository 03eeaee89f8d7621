/**
 * Comments cite only documents inside the repository: OBI's behaviour through
 * docs/devdocs/obi-compat.md (`obi-compat §N`), kernel facts through docs/devdocs/kernel.md.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE = /\.(ts|js|cjs|mjs|c|h|sh)$|(^|\/)Makefile$/;
/** documents that live outside this repository (earlier comments cited them) */
const OUTSIDE = /obi-reference|kernel-notes|house-style|shared\/docs/;

const sources = (): string[] =>
  execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => SOURCE.test(f) && existsSync(join(ROOT, f)) && f !== 'test/unit/citations.test.ts');

test('no source file cites a document outside the repository', () => {
  const hits: string[] = [];
  for (const f of sources()) {
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (OUTSIDE.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(hits, []);
});

test('every docs/… path a source file names exists', () => {
  const missing = new Set<string>();
  for (const f of sources()) {
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/\bdocs\/[\w./-]+\.md\b/g)) {
      if (!existsSync(join(ROOT, m[0]))) missing.add(`${f}: ${m[0]}`);
    }
  }
  assert.deepEqual([...missing], []);
});
