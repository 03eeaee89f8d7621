import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError, ErrorCodes, NotSupportedError } from './errors.ts';

test('docs/reference/errors.md lists every error code, and no other', () => {
  const doc = readFileSync(join(import.meta.dirname, '../docs/reference/errors.md'), 'utf8');
  const listed = [...doc.matchAll(/^\| `(OBI_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(listed, Object.keys(ErrorCodes).sort());
});

test('AgentError is recognisable across realms by its brand, with code and exit code', () => {
  const e = new AgentError('OBI_ERR_NO_BTF', 'no BTF', { exitCode: 3 });
  assert.equal(AgentError.is(e), true);
  assert.equal(AgentError.is(new Error('x')), false);
  assert.equal(AgentError.is({ code: 'OBI_ERR_NO_BTF' }), false);
  assert.equal(e.code, 'OBI_ERR_NO_BTF');
  assert.equal(e.exitCode, 3);
  const n = new NotSupportedError('bpf_loop', '5.17');
  assert.equal(n.code, 'OBI_ERR_KERNEL_FEATURE');
  assert.equal(n.message, 'kernel feature not supported: bpf_loop (needs Linux >= 5.17)');
});
