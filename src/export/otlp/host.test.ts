import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readHostId } from './host.ts';

test('readHostId: override, then the first readable machine-id file, else empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-hostid-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  writeFileSync(b, 'abc123\n');
  assert.equal(readHostId(' forced ', [a, b]), 'forced');
  assert.equal(readHostId(undefined, [a, b]), 'abc123');
  assert.equal(readHostId('', [a]), '');
  writeFileSync(a, '\n');
  assert.equal(readHostId(undefined, [a, b]), 'abc123');
});
