import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiDataFlags, ObiDirection, ObiEventType, ObiRole, type ObiDataEvent } from '../abi/events.ts';
import type { HttpExchange } from '../protocols/http1/types.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ConnectionTracker } from './connections.ts';

const SERVICE: ServiceIdentity = Object.freeze({ name: 'app', namespace: '', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/app', language: 'generic' });

const SOCK = 0xffff888104439800n;
const SSL = 0x5581a2b3c4d0n;
const v4 = (a: number[]): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...a]);

function ev(o: { ingress: boolean; ts: number; payload: Buffer; tls?: boolean; sock?: bigint; ssl?: bigint; role?: number; pid?: number }): [ObiDataEvent, Buffer] {
  const paired = o.sock !== 0n;
  return [
    {
      hdrType: ObiEventType.OBI_EV_DATA,
      hdrPid: o.pid ?? 42,
      hdrTsNs: o.ts,
      sockId: o.sock ?? SOCK,
      tid: 42,
      fd: paired ? 7 : 0xffffffff,
      len: o.payload.length,
      captured: o.payload.length,
      direction: o.ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS,
      role: o.role ?? (paired ? ObiRole.OBI_ROLE_SERVER : ObiRole.OBI_ROLE_UNKNOWN),
      flags: o.tls ? ObiDataFlags.OBI_DATA_TLS : 0,
      tupleLocalAddr: paired ? v4([127, 0, 0, 1]) : new Uint8Array(16),
      tupleRemoteAddr: paired ? v4([127, 0, 0, 1]) : new Uint8Array(16),
      tupleLocalPort: paired ? 8443 : 0,
      tupleRemotePort: paired ? 51000 : 0,
      tupleFamily: paired ? 2 : 0,
      sslId: o.tls ? (o.ssl ?? SSL) : 0n,
      ctxFlags: 0, traceId: new Uint8Array(16), spanId: new Uint8Array(8), parentId: new Uint8Array(8),
    },
    o.payload,
  ];
}

const REQ = Buffer.from('GET /secret HTTP/1.1\r\nHost: x\r\n\r\n');
const RESP = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
// what a TLS 1.3 handshake and an application-data record look like on the socket
const HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xf4, 0x01, 0x00, 0x00, 0xf0, 0x03, 0x03]);
const APPDATA = Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40, 1, 2, 3, 4, 5, 6, 7]);

function tracker() {
  const out: { rec: HttpExchange; conn: ConnInfo }[] = [];
  const t = new ConnectionTracker({ sink: (rec, pc) => void out.push({ rec: rec as HttpExchange, conn: pc.info }), identify: () => SERVICE });
  return { t, out };
}

test('ciphertext before the plaintext is forgotten; ciphertext after it is ignored; spans are https', () => {
  const { t, out } = tracker();
  let ts = 1000;
  // enough handshake segments to give up on detection, as a long handshake does
  for (let i = 0; i < 10; i++) t.onData(...ev({ ingress: i % 2 === 0, ts: ts++, payload: i % 2 ? APPDATA : HELLO }));
  assert.equal(t.counters.ignoredConnections, 1);
  t.onData(...ev({ ingress: true, ts: ts++, payload: REQ, tls: true }));
  t.onData(...ev({ ingress: true, ts: ts++, payload: APPDATA })); // the record the plaintext came from
  t.onData(...ev({ ingress: false, ts: ts++, payload: RESP, tls: true }));
  t.onData(...ev({ ingress: false, ts: ts++, payload: APPDATA }));
  assert.equal(out.length, 1);
  assert.equal(out[0].rec.path, '/secret');
  assert.equal(out[0].rec.status, 200);
  assert.equal(out[0].conn.tls, true);
  assert.equal(out[0].conn.role, 'server');
  assert.equal(t.counters.tlsRawSegments, 2);
  assert.equal(t.size, 1, 'one connection');
});

test('plaintext of a session whose socket was not known yet is replayed into the connection, in order', () => {
  const { t, out } = tracker();
  // Node.js client: the request is encrypted into memory before any socket write names the socket
  t.onData(...ev({ ingress: false, ts: 10, payload: REQ, tls: true, sock: 0n }));
  assert.equal(t.size, 0);
  t.onData(...ev({ ingress: true, ts: 20, payload: RESP, tls: true, role: ObiRole.OBI_ROLE_CLIENT }));
  assert.equal(out.length, 1);
  assert.equal(out[0].conn.role, 'client');
  assert.equal(out[0].conn.tls, true);
  assert.equal(out[0].rec.method, 'GET');
  assert.equal(out[0].rec.startNs, 10);
  assert.equal(t.counters.tlsPairedLate, 1);
  // the held copy is not the batch's memory
  const payload = Buffer.from(REQ);
  t.onData(...ev({ ingress: false, ts: 30, payload, tls: true, sock: 0n, ssl: 7n }));
  payload.fill(0);
  t.onData(...ev({ ingress: true, ts: 40, payload: RESP, tls: true, ssl: 7n, sock: SOCK + 1n, role: ObiRole.OBI_ROLE_CLIENT }));
  assert.equal(out.length, 2);
  assert.equal(out[1].rec.path, '/secret');
});

test('held plaintext is bounded and dropped with its process', () => {
  const { t } = tracker();
  for (let i = 0; i < 20; i++) t.onData(...ev({ ingress: false, ts: i, payload: REQ, tls: true, sock: 0n }));
  assert.equal(t.counters.tlsUnpairedDropped, 4, '16 segments held per session');
  t.onData(...ev({ ingress: false, ts: 99, payload: REQ, tls: true, sock: 0n, ssl: 9n, pid: 43 }));
  t.dropPid(42, 100);
  assert.equal(t.counters.tlsUnpairedDropped, 20);
  t.onData(...ev({ ingress: true, ts: 101, payload: RESP, tls: true, role: ObiRole.OBI_ROLE_CLIENT }));
  assert.equal(t.counters.tlsPairedLate, 0);
});

test('a TLS server connection closed with a request unanswered lingers, then is flushed by the timer at its close time', () => {
  const { t, out } = tracker();
  const closeEv = (ts: number) => ({ hdrType: ObiEventType.OBI_EV_CLOSE, hdrPid: 42, hdrTsNs: ts, sockId: SOCK }) as unknown as Parameters<ConnectionTracker['onClose']>[0];
  t.onData(...ev({ ingress: true, ts: 1_000, payload: REQ, tls: true }));
  t.onClose(closeEv(5_000));
  assert.equal(t.lingering, 1, 'waiting for plaintext decrypted after the close');
  t.expireLingering(5_000 + 0.5e9);
  assert.equal(out.length, 0, 'still within the wait');
  // no event comes (the host went quiet): the timer ends the wait
  t.expireLingering(5_000 + 1.5e9);
  assert.equal(t.lingering, 0);
  assert.equal(out.length, 1);
  assert.equal(out[0].rec.path, '/secret');
  assert.equal(out[0].rec.status, 0, 'no response');
  assert.equal(out[0].rec.endNs, 5_000, 'ended when the connection closed, not when the wait ended');
});
