/**
 * setSchedSlice sets the calling thread's fair-scheduler time slice (the agent's draining thread,
 * pipeline/yield.ts AGENT_SLICE_NS), checked against the kernel's own account of the thread
 * (/proc/PID/task/TID/sched, se.slice). Linux >= 6.12 takes a slice for SCHED_OTHER; an older
 * kernel answers EINVAL and the test says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setSchedSlice } from '../../src/native/binding.ts';

const EINVAL = 22;

function slice(): number | undefined {
  const m = /^se\.slice\s*:\s*(\d+)/m.exec(readFileSync(`/proc/${process.pid}/task/${process.pid}/sched`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

test("setSchedSlice: the calling thread's slice as the scheduler reports it; the rest of its policy kept", (t) => {
  const before = slice();
  const niceBefore = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[16];
  const err = setSchedSlice(200_000);
  if (err === EINVAL) {
    t.skip('the kernel takes no time slice for SCHED_OTHER (Linux < 6.12)');
    return;
  }
  assert.equal(err, 0);
  assert.equal(slice(), 200_000, `se.slice was ${before}`);
  assert.equal(setSchedSlice(100_000), 0);
  assert.equal(slice(), 100_000);
  assert.equal(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ')[16], niceBefore, 'nice unchanged');
  // the kernel clamps to its range, 100 µs to 100 ms
  assert.equal(setSchedSlice(10_000), 0);
  assert.equal(slice(), 100_000);
  assert.equal(setSchedSlice(200_000_000), 0);
  assert.equal(slice(), 100_000_000);
  assert.equal(setSchedSlice(100_000), 0);
});
