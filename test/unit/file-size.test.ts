/**
 * House rule: a hand-written source file has one purpose; one over 400 lines says why on its
 * first line (`// Over 400 lines: <reason>.`). Generated files are exempt.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const GENERATED = [/^src\/config\/generated\//, /^src\/abi\/events\.ts$/, /^bpf\/include\//];
const SOURCE = /\.(ts|js|cjs|mjs|c|h)$/;

test('no hand-written source file over 400 lines without a reason on its first line', () => {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => SOURCE.test(f) && !GENERATED.some((g) => g.test(f)));
  assert.ok(files.length > 100, 'git lists the sources');
  const offenders: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, f), 'utf8');
    } catch {
      continue; // deleted in the work tree
    }
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > 400 && !/^(\/\/|\/\*) Over 400 lines: .{10,}/.test(text)) offenders.push(`${f} (${lines} lines)`);
  }
  assert.deepEqual(offenders, []);
});
