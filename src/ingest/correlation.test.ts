import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OBI_AF_UNIX, ObiDirection, ObiEventType, ObiRole, type ObiDataEvent } from '../abi/events.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { SpanCtx, type CorrelatedConn, type RequestCorrelator } from '../common/trace.ts';
import { ConnectionTracker } from './connections.ts';
import { encodeFrame, literalBlock } from '../protocols/http2/build.ts';

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

test('a unix-socket FastCGI connection: both ends (nginx client, PHP-FPM server) give one join key (their socket pair) and are named by the path', () => {
  const starts: { pid: number; role: string; key: string; wire?: string; ts: number }[] = [];
  const corr: RequestCorrelator = {
    requestStart: (c, _tid, ts) => {
      starts.push({ pid: c.pid, role: c.role, key: c.role === 'client' ? `${c.localKey}>${c.remoteKey}` : `${c.remoteKey}>${c.localKey}`, wire: c.wire, ts });
      return new SpanCtx(ids);
    },
    responseStart: () => {},
    segment: () => {},
    connected: () => {},
    closed: () => {},
  };
  const got: { pid: number; role: string; local: string; remote: string; port: number; path?: string; status: number; span?: string }[] = [];
  const t = new ConnectionTracker({
    sink: (rec, conn, ctx) =>
      void got.push({ pid: conn.info.pid, role: conn.info.role, local: conn.info.localAddr, remote: conn.info.remoteAddr, port: conn.info.remotePort, path: conn.info.unixPath, status: (rec as { status: number }).status, span: ctx?.spanId }),
    identify: (pid) => ({ ...service, pid }),
    correlator: corr,
  });
  const sk = (a: bigint): Uint8Array => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, a, true);
    return b;
  };
  const NGINX = 0xffff0001n;
  const FPM = 0xffff0002n;
  // what the kernel reports at the gate: the connection event with the path, then the data
  const end = (pid: number, self: bigint, peer: bigint, role: number) => ({
    hdrType: ObiEventType.OBI_EV_CONN, hdrPid: pid, hdrTsNs: 1, sockId: self, tid: pid, fd: 9, role,
    tupleLocalAddr: sk(self), tupleRemoteAddr: sk(peer), tupleLocalPort: 0, tupleRemotePort: 0, tupleFamily: OBI_AF_UNIX, unixPath: '/run/php/fpm.sock',
  });
  const data = (e: ReturnType<typeof end>, ingress: boolean, ts: number, b: Buffer): void => {
    const { unixPath: _p, ...rest } = e;
    t.onData({ ...rest, hdrType: ObiEventType.OBI_EV_DATA, hdrTsNs: ts, len: b.length, captured: b.length, direction: ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS, flags: 0, sslId: 0n, ctxFlags: 0, traceId: new Uint8Array(16), spanId: new Uint8Array(8), parentId: new Uint8Array(8) }, b);
  };
  const rec = (type: number, c: Buffer): Buffer => Buffer.concat([Buffer.from([1, type, 0, 1, c.length >> 8, c.length & 255, 0, 0]), c]);
  const params = Buffer.concat([Buffer.from([14, 3]), Buffer.from('REQUEST_METHODGET'), Buffer.from([11, 4]), Buffer.from('REQUEST_URI/x/1')]);
  const request = Buffer.concat([rec(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])), rec(4, params), rec(4, Buffer.alloc(0)), rec(5, Buffer.alloc(0))]);
  const response = Buffer.concat([rec(6, Buffer.from('Status: 404 Not Found\r\n\r\n')), rec(3, Buffer.alloc(8))]);
  const client = end(100, NGINX, FPM, ObiRole.OBI_ROLE_CLIENT);
  const server = end(200, FPM, NGINX, ObiRole.OBI_ROLE_SERVER);
  t.onConn(client);
  t.onConn(server);
  data(client, false, 10, request);
  data(server, true, 11, request.subarray(0, 8)); // PHP-FPM reads the header first
  data(server, true, 12, request.subarray(8, request.length - 8));
  data(server, false, 20, response);
  data(client, true, 21, response);
  t.closeAll(30);
  assert.deepEqual(starts.map((s) => [s.pid, s.role, s.wire, s.ts]), [[100, 'client', 'fastcgi', 10], [200, 'server', 'fastcgi', 11]]);
  assert.equal(starts[0].key, starts[1].key, 'one key for both ends');
  assert.deepEqual(got.map((g) => [g.pid, g.role, g.local, g.remote, g.port, g.path, g.status]), [
    [200, 'server', '/run/php/fpm.sock', '/run/php/fpm.sock', 0, '/run/php/fpm.sock', 404],
    [100, 'client', '/run/php/fpm.sock', '/run/php/fpm.sock', 0, '/run/php/fpm.sock', 404],
  ]);
  assert.ok(got.every((g) => g.span !== undefined), 'each record carries the context decided at its start');
});

const h2frame = encodeFrame;
const hpack = literalBlock;
const HEADERS = 1;
const END_STREAM = 1;
const END_HEADERS = 4;

test('HTTP/2: stream starts (two in one segment) reach the correlator with their traceparent; each record carries its own stream\'s context', () => {
  const calls: string[] = [];
  const ctxs = new Map<number, SpanCtx>();
  const corr: RequestCorrelator = {
    requestStart: () => (calls.push('req'), undefined),
    responseStart: () => void calls.push('resp'),
    segment: (_c, tid) => void calls.push(`seg ${tid}`),
    connected: () => undefined,
    closed: (_c, ts) => void calls.push(`closed ${ts}`),
    streamStart: (c, sid, tid, ts, tp) => {
      calls.push(`start ${c.role} ${c.wire} ${sid} ${tid} ${ts} ${tp ?? '-'}`);
      const ctx = new SpanCtx(ids);
      ctxs.set(sid, ctx);
      return ctx;
    },
    streamResponse: (_c, sid, tid, ts) => void calls.push(`response ${sid} ${tid} ${ts}`),
    streamEnd: (_c, sid) => void calls.push(`end ${sid}`),
  };
  const got: [string, SpanCtx | undefined][] = [];
  const t = new ConnectionTracker({ sink: (rec, _conn, ctx) => void got.push([(rec as { path: string }).path, ctx]), identify: () => service, correlator: corr });
  const feed = (e: ObiDataEvent, b: Buffer): void => t.onData({ ...e, len: b.length, captured: b.length }, b);
  const req = (sid: number, path: string, extra: [string, string][] = []): Buffer =>
    h2frame(HEADERS, END_HEADERS | END_STREAM, sid, hpack([[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'x'], ...extra]));
  const resp = (sid: number): Buffer => h2frame(HEADERS, END_HEADERS | END_STREAM, sid, hpack([[':status', '200']]));
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  feed(ev(true, 10), Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), h2frame(4, 0, 0, Buffer.alloc(0)), req(1, '/a'), req(3, '/b', [['traceparent', tp]])]));
  feed(ev(false, 12), resp(3));
  feed(ev(false, 13, 8), resp(1));
  t.closeAll(30);
  assert.deepEqual(calls, [
    'seg 7',
    'start server http2 1 7 10 -',
    `start server http2 3 7 10 ${tp}`,
    'seg 7',
    'response 3 7 12',
    'end 3',
    'seg 8',
    'response 1 8 13',
    'end 1',
    'closed 30',
  ]);
  assert.deepEqual(got.map(([p, c]) => [p, c?.spanId]), [['/b', ctxs.get(3)!.spanId], ['/a', ctxs.get(1)!.spanId]]);
});
