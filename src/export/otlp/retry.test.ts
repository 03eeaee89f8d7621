import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { backoffDelay, isRetryable } from './retry.ts';

test('isRetryable: network errors and the spec retryable statuses are; other answers are not', () => {
  assert.equal(isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isRetryable(new Error('Request timed out')), true);
  assert.equal(isRetryable(undefined), true);
  for (const s of [429, 502, 503, 504]) assert.equal(isRetryable(Object.assign(new Error('x'), { code: s })), true, String(s));
  for (const s of [400, 401, 404, 413, 500]) assert.equal(isRetryable(Object.assign(new Error('x'), { code: s })), false, String(s));
  const grpc = (code: number): Error => Object.assign(new Error('x'), { code, details: '', metadata: new Metadata() });
  for (const c of [1, 4, 8, 10, 11, 14, 15]) assert.equal(isRetryable(grpc(c)), true, `grpc ${c}`);
  for (const c of [2, 3, 5, 7, 12, 13, 16]) assert.equal(isRetryable(grpc(c)), false, `grpc ${c}`);
});

test('backoffDelay: grows by the multiplier, capped, jittered within ±randomization', () => {
  const p = { initialMs: 100, maxMs: 1000, maxElapsedMs: 0, randomization: 0 };
  assert.deepEqual([0, 1, 2, 3, 10].map((a) => backoffDelay(p, a)), [100, 150, 225, 337.5, 1000]);
  const j = { initialMs: 100, maxMs: 1000, maxElapsedMs: 0 };
  assert.equal(backoffDelay(j, 0, () => 0), 50);
  assert.equal(backoffDelay(j, 0, () => 0.999999), 149.9999);
  assert.equal(backoffDelay(j, 10, () => 0.999999), 1000);
});
