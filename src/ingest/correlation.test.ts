import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiDirection, ObiEventType, ObiRole, type ObiDataEvent } from '../abi/events.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { SpanCtx, type CorrelatedConn, type RequestCorrelator } from '../common/trace.ts';
import { ConnectionTracker } from './connections.ts';

let n = 0;
const ids = { traceId: () => 'a'.repeat(31) + 'b', spanId: () => (++n).toString(16).padStart(16, '0') };
const service = { name: 'svc', namespace: '', instanceId: 'i', pid: 1, exePath: '/x', language: 'python' } as ServiceIdentity;

function ev(ingress: boolean, ts: number, tid = 7): ObiDataEvent {
  return {
    hdrType: ObiEventType.OBI_EV_DATA, hdrPid: 1, hdrTsNs: ts, sockId: 5n, tid, fd: 3, len: 0, captured: 0,
    direction: ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS, role: ObiRole.OBI_ROLE_SERVER, flags: 0,
    tupleLocalAddr: new Uint8Array(16), tupleRemoteAddr: new Uint8Array(16), tupleLocalPort: 80, tupleRemotePort: 4000, tupleFamily: 10, sslId: 0n, ctxFlags: 0, traceId: new Uint8Array(16), spanId: new Uint8Array(8), parentId: new Uint8Array(8),
  };
}

test('request and response starts reach the correlator once per exchange; each record carries the context of its start', () => {
  const calls: string[] = [];
  const corr: RequestCorrelator = {
    requestStart: (c: CorrelatedConn, tid, ts) => (calls.push(`req ${c.role} ${c.wire} ${tid} ${ts}`), new SpanCtx(ids)),
    responseStart: (_c, tid, ts) => void calls.push(`resp ${tid} ${ts}`),
    segment: (_c, tid) => void calls.push(`seg ${tid}`),
    connected: () => void calls.push('connected'),
    closed: (_c, ts) => void calls.push(`closed ${ts}`),
  };
  const got: [string, SpanCtx | undefined][] = [];
  const t = new ConnectionTracker({ sink: (rec, _conn, ctx) => void got.push([(rec as { path: string }).path, ctx]), identify: () => service, correlator: corr });
  const feed = (e: ObiDataEvent, s: string): void => {
    const b = Buffer.from(s);
    t.onData({ ...e, len: b.length, captured: b.length }, b);
  };
  feed(ev(true, 10), 'GET /a HTTP/1.1\r\nHost: x\r\n');
  feed(ev(true, 11), '\r\n'); // the rest of the same request
  feed(ev(false, 12), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  feed(ev(true, 20, 8), 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  feed(ev(false, 21, 8), 'HTTP/1.1 204 No Content\r\n\r\n');
  t.closeAll(30);
  assert.deepEqual(calls, ['req server http1 7 10', 'seg 7', 'resp 7 12', 'req server http1 8 20', 'resp 8 21', 'closed 30']);
  assert.deepEqual(got.map(([p, c]) => [p, c?.spanId]), [['/a', '0000000000000001'], ['/b', '0000000000000002']]);
});

test('without a correlator records carry no context', () => {
  const got: (SpanCtx | undefined)[] = [];
  const t = new ConnectionTracker({ sink: (_r, _c, ctx) => void got.push(ctx), identify: () => service });
  const b = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  t.onData({ ...ev(true, 1), len: b.length, captured: b.length }, b);
  const r = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n');
  t.onData({ ...ev(false, 2), len: r.length, captured: r.length }, r);
  assert.deepEqual(got, [undefined]);
});
