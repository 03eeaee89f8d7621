import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassedServers } from './passed-servers.ts';

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');
const tid = (n: number): string => `${hex(n, 8)}0af7651916cd43dd8448eb21`;
const sid = (n: number): string => `b7ad6b71${hex(n, 8)}`;

test('entries are taken by the time a report was made, once; ids and flags come back as they went in', () => {
  const p = new PassedServers(64);
  for (let k = 1; k <= 3; k++) assert.equal(p.push(k * 100, k * 1000, k * 1000 + 500, tid(k), sid(k), k === 2 ? 0 : 1), true);
  assert.equal(p.size, 3);
  const b = p.take(2250)!;
  assert.deepEqual([b.traceId, b.spanId, b.traceFlags], [tid(2), sid(2), 0]);
  assert.deepEqual([b.ctx.traceId, b.ctx.spanId, b.ctx.traceFlags, b.ctx.settled, b.ctx.pending], [tid(2), sid(2), 0, true, false]);
  assert.equal(p.take(2250), undefined); // taken
  assert.equal(p.take(1501), undefined); // between two spans
  assert.equal(p.take(3000)!.spanId, sid(3)); // bounds inclusive
  assert.equal(p.size, 1);
  assert.equal(p.startsAfter(500), true); // the first entry (1000) is still there
  assert.equal(p.startsAfter(1000), false); // the later ones are taken
});

test('at most cap entries: the oldest is overwritten, across the growth of the slots', () => {
  const p = new PassedServers(6);
  for (let k = 1; k <= 9; k++) p.push(k, k * 10, k * 10 + 5, tid(k), sid(k), 1);
  assert.equal(p.size, 6);
  assert.equal(p.take(30), undefined); // 1..3 overwritten
  assert.deepEqual([4, 5, 6, 7, 8, 9].map((k) => p.take(k * 10 + 1)?.spanId), [4, 5, 6, 7, 8, 9].map(sid));
  assert.equal(p.size, 0);
  // a taken slot still counts against the cap until it is the oldest and overwritten
  for (let k = 10; k <= 15; k++) p.push(k, k * 10, k * 10 + 5, tid(k), sid(k), 1);
  assert.equal(p.size, 6);
  assert.equal(p.take(121)!.traceId, tid(12));
  p.push(16, 160, 165, tid(16), sid(16), 1); // overwrites 10, the oldest, not 12's slot
  assert.equal(p.size, 5);
  assert.equal(p.take(101), undefined);
  assert.deepEqual([11, 13, 14, 15, 16].map((k) => p.take(k * 10 + 1)?.spanId), [11, 13, 14, 15, 16].map(sid));
});

test('expire forgets the entries that passed before the bound, oldest first, and tells how many remain', () => {
  const p = new PassedServers(64);
  for (let k = 1; k <= 5; k++) p.push(k * 100, k * 1000, k * 1000 + 500, tid(k), sid(k), 1);
  p.take(4100);
  assert.equal(p.expire(300), 2); // 1 and 2 went; 3 and 5 remain live, 4 was taken
  assert.equal(p.take(1100), undefined);
  assert.equal(p.take(3100)!.spanId, sid(3));
  assert.equal(p.expire(10_000), 0);
  assert.equal(p.push(20_000, 1, 2, tid(6), sid(6), 1), true); // usable after it emptied
  assert.equal(p.take(1)!.spanId, sid(6));
});

test('ids that are not lowercase W3C hex are not kept (their strings could not be made again)', () => {
  const p = new PassedServers(4);
  assert.equal(p.push(1, 10, 20, tid(1).toUpperCase(), sid(1), 1), false);
  assert.equal(p.push(1, 10, 20, tid(1), 'short', 1), false);
  assert.equal(p.push(1, 10, 20, `${tid(1).slice(0, 31)}g`, sid(1), 1), false);
  assert.equal(p.size, 0);
  assert.equal(p.take(15), undefined);
});
