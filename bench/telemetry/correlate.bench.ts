/**
 * Cost of correlation per request (src/telemetry/correlate.ts, docs/devdocs/correlation.md).
 * Plain performance.now loops:
 *   node bench/telemetry/correlate.bench.ts
 * One "request" = an HTTP/1 server exchange on a keep-alive connection plus one Redis call made
 * from the serving thread (4 data events), fed through the ConnectionTracker and turned into
 * spans by recordToSpan, with and without the correlator; the difference is the cost of
 * deciding the ids at request start and linking them. The same for a unary gRPC call on an h2c
 * connection whose both ends are traced (ids decided per stream, the server stream joined). Also
 * the correlator's calls alone.
 */
import { ObiDirection, ObiEventType, ObiRole, type ObiDataEvent } from '../../src/abi/events.ts';
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { CorrelatedConn } from '../../src/common/trace.ts';
import { ConnectionTracker } from '../../src/ingest/connections.ts';
import { Correlator } from '../../src/telemetry/correlate.ts';
import { RandomIdSource } from '../../src/telemetry/ids.ts';
import { recordToSpan, type SpanContext } from '../../src/telemetry/record.ts';
import { encodeFrame, literalBlock } from '../../src/protocols/http2/build.ts';

const service: ServiceIdentity = { name: 'svc', namespace: '', instanceId: 'i' } as ServiceIdentity;
const ids = new RandomIdSource();
const spanCtx: SpanContext = { ids, route: () => '' };

function ev(sockId: bigint, ingress: boolean, role: number, ts: number, localPort: number, remotePort: number): ObiDataEvent {
  return {
    hdrType: ObiEventType.OBI_EV_DATA,
    hdrPid: 100,
    hdrTsNs: ts,
    sockId,
    tid: 101,
    fd: 5,
    len: 0,
    captured: 0,
    direction: ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS,
    role,
    flags: 0,
    tupleLocalAddr: new Uint8Array(16),
    tupleRemoteAddr: new Uint8Array(16),
    tupleLocalPort: localPort,
    tupleRemotePort: remotePort,
    tupleFamily: 10,
    sslId: 0n,
    ctxFlags: 0, traceId: new Uint8Array(16), spanId: new Uint8Array(8), parentId: new Uint8Array(8),
  };
}

const req = Buffer.from('GET /api/users/42 HTTP/1.1\r\nHost: svc\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n');
const resp = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
const redisReq = Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nuser1\r\n');
const redisResp = Buffer.from('$3\r\nbob\r\n');

function run(name: string, withCorrelator: boolean, n: number): number {
  let spans = 0;
  const correlator = withCorrelator ? new Correlator({ ids }) : undefined;
  const t = new ConnectionTracker({
    sink: (rec, conn, ctx) => {
      if (recordToSpan(rec, conn, spanCtx, ctx) !== undefined) spans++;
    },
    identify: () => service,
    correlator,
  });
  const events: [ObiDataEvent, Buffer][] = [];
  let ts = 1;
  const loop = (count: number): void => {
    for (let i = 0; i < count; i++) {
      events.length = 0;
      events.push(
        [ev(1n, true, ObiRole.OBI_ROLE_SERVER, ts++, 8080, 40000), req],
        [ev(2n, false, ObiRole.OBI_ROLE_CLIENT, ts++, 50000, 6379), redisReq],
        [ev(2n, true, ObiRole.OBI_ROLE_CLIENT, ts++, 50000, 6379), redisResp],
        [ev(1n, false, ObiRole.OBI_ROLE_SERVER, ts++, 8080, 40000), resp],
      );
      for (const [e, p] of events) t.onData({ ...e, len: p.length, captured: p.length }, p);
    }
  };
  loop(20_000); // warm-up
  spans = 0;
  const t0 = performance.now();
  loop(n);
  const ns = ((performance.now() - t0) * 1e6) / n;
  if (spans !== 2 * n) throw new Error(`expected ${2 * n} spans, got ${spans}`);
  process.stdout.write(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/request\n`);
  return ns;
}

function bench(name: string, n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 50_000); i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / n;
  process.stdout.write(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/op\n`);
  return ns;
}

const h2frame = encodeFrame;
const hpack = literalBlock;
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), h2frame(4, 0, 0, Buffer.alloc(0))]);
const h2ReqBlock = hpack([[':method', 'POST'], [':scheme', 'http'], [':path', '/test.Svc/Unary'], [':authority', 'svc:8443'], ['content-type', 'application/grpc'], ['te', 'trailers']]);
const h2RespBlock = hpack([[':status', '200'], ['content-type', 'application/grpc']]);
const h2Trailers = hpack([['grpc-status', '0']]);
const h2Msg = Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]);

/**
 * One "request" = one unary gRPC call on a long-lived h2c connection whose both ends are traced
 * (client HEADERS+DATA written and read, response HEADERS+DATA+trailers written and read: 4 data
 * events, 2 spans), with and without the correlator (the server stream joined to the client's).
 */
function runH2(name: string, withCorrelator: boolean, n: number): number {
  let spans = 0;
  const correlator = withCorrelator ? new Correlator({ ids }) : undefined;
  const t = new ConnectionTracker({
    sink: (rec, conn, ctx) => {
      if (recordToSpan(rec, conn, spanCtx, ctx) !== undefined) spans++;
    },
    identify: () => service,
    correlator,
  });
  let ts = 1;
  const feed = (e: ObiDataEvent, p: Buffer): void => t.onData({ ...e, len: p.length, captured: p.length }, p);
  feed(ev(3n, false, ObiRole.OBI_ROLE_CLIENT, ts++, 50001, 8443), H2_PREFACE);
  feed(ev(4n, true, ObiRole.OBI_ROLE_SERVER, ts++, 8443, 50001), H2_PREFACE);
  let sid = 1;
  const loop = (count: number): void => {
    for (let i = 0; i < count; i++, sid += 2) {
      const reqB = Buffer.concat([h2frame(1, 4, sid, h2ReqBlock), h2frame(0, 1, sid, h2Msg)]);
      const respB = Buffer.concat([h2frame(1, 4, sid, h2RespBlock), h2frame(0, 0, sid, h2Msg), h2frame(1, 5, sid, h2Trailers)]);
      feed(ev(3n, false, ObiRole.OBI_ROLE_CLIENT, ts++, 50001, 8443), reqB);
      feed(ev(4n, true, ObiRole.OBI_ROLE_SERVER, ts++, 8443, 50001), reqB);
      feed(ev(4n, false, ObiRole.OBI_ROLE_SERVER, ts++, 8443, 50001), respB);
      feed(ev(3n, true, ObiRole.OBI_ROLE_CLIENT, ts++, 50001, 8443), respB);
    }
  };
  loop(20_000); // warm-up
  spans = 0;
  const joined = correlator?.counters.joinedServers ?? 0;
  const t0 = performance.now();
  loop(n);
  const ns = ((performance.now() - t0) * 1e6) / n;
  if (spans !== 2 * n) throw new Error(`expected ${2 * n} spans, got ${spans}`);
  if (correlator !== undefined && correlator.counters.joinedServers - joined !== n) throw new Error(`expected ${n} joins, got ${correlator.counters.joinedServers - joined}`);
  process.stdout.write(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/request\n`);
  return ns;
}

const N = 200_000;
const off = run('ingest + spans, no correlation (2 spans)', false, N);
const on = run('ingest + spans, correlated (2 spans, child linked)', true, N);
process.stdout.write(`${'correlation cost per request'.padEnd(58)} ${(on - off).toFixed(0).padStart(6)} ns/request\n`);
// alternated three times, the fastest of each kept: the shared test machine's load swings within a run
let h2off = Infinity;
let h2on = Infinity;
for (let r = 0; r < 3; r++) {
  h2off = Math.min(h2off, runH2('h2c gRPC call, both ends, no correlation (2 spans)', false, N / 2));
  h2on = Math.min(h2on, runH2('h2c gRPC call, both ends, correlated (server joined)', true, N / 2));
}
process.stdout.write(`${'correlation cost per HTTP/2 stream pair'.padEnd(58)} ${(h2on - h2off).toFixed(0).padStart(6)} ns/request\n`);

const c = new Correlator({ ids });
const server: CorrelatedConn = { pid: 1, role: 'server', localKey: 'a:80', remoteKey: 'b:1', wire: 'http1' };
const client: CorrelatedConn = { pid: 1, role: 'client', localKey: 'a:2', remoteKey: 'c:6379', wire: 'redis' };
bench('correlator: server start + client start + 2 response starts', N, (i) => {
  c.requestStart(server, 7, i, req);
  c.requestStart(client, 7, i, redisReq);
  c.responseStart(client, 7, i);
  c.responseStart(server, 7, i);
});
const tp = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n');
bench('correlator: server start with a traceparent + response start', N, (i) => {
  c.requestStart(server, 7, i, tp);
  c.responseStart(server, 7, i);
});
const h2s: CorrelatedConn = { pid: 1, role: 'server', localKey: 'a:8443', remoteKey: 'a:50001', wire: 'http2' };
const h2c: CorrelatedConn = { pid: 2, role: 'client', localKey: 'a:50001', remoteKey: 'a:8443', wire: 'http2' };
let streamId = 1;
bench('correlator: HTTP/2 client + server stream start (joined), response, 2 ends', N, () => {
  const sid = (streamId += 2);
  c.streamStart(h2c, sid, 7, sid, undefined);
  c.streamStart(h2s, sid, 8, sid, undefined);
  c.streamResponse(h2s, sid, 8, sid);
  c.streamEnd(h2s, sid, sid);
  c.streamEnd(h2c, sid, sid);
});
