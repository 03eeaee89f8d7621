import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBatch, formatAddress, type EventHandlers } from './decode.ts';
import { OBI_DATA_EVENT_SIZE, ObiCtxFlags, ObiDataEventOffsets, ObiEventType } from '../abi/events.ts';
import { wireOf } from './correlation.ts';

function frame(records: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    const pad = (8 - ((4 + r.length) % 8)) % 8;
    parts.push(len, r, Buffer.alloc(pad));
  }
  return Buffer.concat(parts);
}

function dataRecord(pid: number, payload: string, wire: number): Buffer {
  const p = Buffer.from(payload);
  const r = Buffer.alloc(OBI_DATA_EVENT_SIZE + p.length);
  r.writeUInt8(ObiEventType.OBI_EV_DATA, 0);
  r.writeUInt32LE(pid, ObiDataEventOffsets.hdrPid);
  r.writeBigUInt64LE(123456789n, ObiDataEventOffsets.hdrTsNs);
  r.writeBigUInt64LE(0xffff888104439800n, ObiDataEventOffsets.sockId);
  r.writeUInt32LE(wire, ObiDataEventOffsets.len);
  r.writeUInt32LE(p.length, ObiDataEventOffsets.captured);
  r.writeUInt16LE(8080, ObiDataEventOffsets.tupleLocalPort);
  p.copy(r, OBI_DATA_EVENT_SIZE);
  return r;
}

test('decodeBatch walks framed records and hands out payload views', () => {
  const seen: string[] = [];
  const h: EventHandlers = {
    data(ev, payload) {
      seen.push(`${ev.hdrPid}:${payload.toString()}:${ev.len}:${ev.tupleLocalPort}:${ev.sockId.toString(16)}:${ev.hdrTsNs}`);
    },
    conn() {},
    close() {},
    proc() {},
  };
  const stats = { records: 0, malformed: 0, bytesLost: 0 };
  decodeBatch(frame([dataRecord(7, 'GET / HTTP/1.1\r\n', 500), dataRecord(8, 'abc', 3)]), h, stats);
  assert.equal(stats.records, 2);
  assert.equal(stats.malformed, 0);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], '7:GET / HTTP/1.1\r\n:500:8080:ffff888104439800:123456789');
  assert.equal(seen[1], '8:abc:3:8080:ffff888104439800:123456789');
  const bad = frame([Buffer.from([99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
  decodeBatch(bad, h, stats);
  assert.equal(stats.malformed, 1);
  assert.equal(stats.records, 3);
  decodeBatch(Buffer.alloc(0), h, stats);
  assert.equal(stats.records, 3);
});

test('formatAddress renders IPv4-mapped, IPv6 and loopback', () => {
  const v4 = new Uint8Array(16);
  v4[10] = 0xff; v4[11] = 0xff; v4.set([127, 0, 0, 1], 12);
  assert.equal(formatAddress(v4), '127.0.0.1');
  const lo6 = new Uint8Array(16); lo6[15] = 1;
  assert.equal(formatAddress(lo6), '::1');
  const any = new Uint8Array(16);
  assert.equal(formatAddress(any), '::');
  const g = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  assert.equal(formatAddress(g), '2001:db8::1:0:0:1');
});

test('decoded arrays are read when asked, from the record; the kernel ids give the same wire context laid out as in the record or apart', () => {
  const r = dataRecord(9, 'x', 1);
  for (let i = 0; i < 32; i++) r[ObiDataEventOffsets.traceId + i] = 0xa0 + i;
  r.writeUInt8(ObiCtxFlags.OBI_CTX_SET | ObiCtxFlags.OBI_CTX_REMOTE, ObiDataEventOffsets.ctxFlags);
  r.set([127, 0, 0, 1], ObiDataEventOffsets.tupleLocalAddr + 12);
  let got: ReturnType<typeof wireOf>;
  let apart: ReturnType<typeof wireOf>;
  let local = '';
  decodeBatch(frame([r]), {
    data(ev) {
      got = wireOf(ev);
      apart = wireOf({ ctxFlags: ev.ctxFlags, traceId: Uint8Array.from(ev.traceId), spanId: Uint8Array.from(ev.spanId), parentId: Uint8Array.from(ev.parentId) });
      local = Buffer.from(ev.tupleLocalAddr).toString('hex');
    },
    conn() {},
    close() {},
    proc() {},
  }, { records: 0, malformed: 0, bytesLost: 0 });
  const hexOf = (from: number, n: number): string => Buffer.from(Array.from({ length: n }, (_, i) => 0xa0 + from + i)).toString('hex');
  assert.deepEqual(got, { traceId: hexOf(0, 16), spanId: hexOf(16, 8), parentId: hexOf(24, 8), remote: true, inherited: false });
  assert.deepEqual(apart, got);
  assert.equal(local, '0'.repeat(24) + '7f000001');
});
