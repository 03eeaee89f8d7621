import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuYield } from './yield.ts';

/** a clock the test moves, counting its reads */
function fakeClock(): { now: () => number; t: number; reads: number } {
  const c = { t: 1000, reads: 0, now: () => (c.reads++, c.t) };
  return c;
}

test('due() reads the clock once per 16 units of work and is true once the slice is used up', () => {
  const clock = fakeClock();
  let yields = 0;
  const cpu = new CpuYield(() => yields++, 0.25, 16, clock.now);
  cpu.begin();
  assert.equal(clock.reads, 1);
  for (let i = 0; i < 15; i++) assert.equal(cpu.due(), false);
  assert.equal(clock.reads, 1, 'no clock read before the 16th unit');
  clock.t += 0.2;
  assert.equal(cpu.due(), false, '0.2 ms into a 0.25 ms slice');
  assert.equal(clock.reads, 2);
  clock.t += 0.05;
  for (let i = 0; i < 15; i++) assert.equal(cpu.due(), false);
  assert.equal(cpu.due(), true, '0.25 ms: the slice is used up');
  assert.equal(yields, 0, 'due() itself never yields');
});

test('yieldNow() yields once, counts it, keeps the time given away apart, and starts a new slice', () => {
  const clock = fakeClock();
  const cpu = new CpuYield(() => (clock.t += 0.4), 0.25, 1, clock.now);
  cpu.begin();
  clock.t += 0.3;
  assert.equal(cpu.due(), true);
  cpu.yieldNow();
  assert.equal(cpu.count, 1);
  assert.ok(Math.abs(cpu.yieldedMs - 0.4) < 1e-9, `yieldedMs ${cpu.yieldedMs}`);
  assert.equal(cpu.due(), false, 'the slice starts again after the yield');
  clock.t += 0.25;
  assert.equal(cpu.due(), true);
});

test('begin() starts the slice at the wake-up: time asleep is not work', () => {
  const clock = fakeClock();
  const cpu = new CpuYield(() => {}, 0.25, 1, clock.now);
  cpu.begin();
  clock.t += 10; // the agent slept between two drains
  cpu.begin();
  assert.equal(cpu.due(), false);
});

test('a stretch begun behind (a large backlog) never yields; the next one begun on time does', () => {
  const clock = fakeClock();
  const cpu = new CpuYield(() => undefined, 0.25, 1, clock.now);
  cpu.begin(true);
  clock.t += 5;
  for (let i = 0; i < 100; i++) assert.equal(cpu.due(), false);
  cpu.begin();
  clock.t += 0.25;
  assert.equal(cpu.due(), true);
});
