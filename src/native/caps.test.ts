import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadBinding } from './binding.ts';

test('raiseCapabilities: the effective set becomes the permitted set, reported as /proc/self/status shows it', () => {
  const eff = loadBinding().raiseCapabilities();
  const status = readFileSync('/proc/self/status', 'utf8');
  assert.equal(eff, /^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]);
  assert.equal(eff, /^CapPrm:\s*([0-9a-f]+)$/m.exec(status)![1]);
});
