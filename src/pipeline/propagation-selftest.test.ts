import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeSelfTest, SELFTEST_MAX_RTT_MS } from './propagation-selftest.ts';

const good = { fionread: 100, keepalive: { rounds: 3, answered: 3, injected: 3, exact: 3, maxMs: 0.4 }, bigsend: { rounds: 10, ok: 10, eagain: 0, other: 0 } };

test('judge: all checks right is a pass', () => {
  assert.deepEqual(judgeSelfTest(good), []);
});

test('judge: each pitfall is named when it shows', () => {
  assert.match(judgeSelfTest({ ...good, fionread: 0 }).join(), /FIONREAD returned 0 for 100 bytes/);
  assert.match(judgeSelfTest({ ...good, keepalive: { ...good.keepalive, injected: 1, exact: 3 } }).join(), /1 of 3 requests arrived with a traceparent/);
  assert.match(judgeSelfTest({ ...good, keepalive: { ...good.keepalive, exact: 2 } }).join(), /1 of 3 requests arrived with other bytes changed/);
  assert.match(judgeSelfTest({ ...good, keepalive: { ...good.keepalive, maxMs: SELFTEST_MAX_RTT_MS + 15 } }).join(), /delayed ACK/);
  assert.match(judgeSelfTest({ ...good, keepalive: { ...good.keepalive, answered: 2 } }).join(), /2 of 3 requests answered/);
  assert.match(judgeSelfTest({ ...good, bigsend: { rounds: 10, ok: 7, eagain: 3, other: 0 } }).join(), /7 of 10 answered, 3 EAGAIN/);
  assert.deepEqual(judgeSelfTest({ error: 'cannot join the cgroup: Permission denied' }), ['the loopback peer failed: cannot join the cgroup: Permission denied']);
  assert.equal(judgeSelfTest({ ...good, fionread: 0, bigsend: { rounds: 10, ok: 9, eagain: 1, other: 0 } }).length, 2);
});
