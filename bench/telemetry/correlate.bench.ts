/**
 * Cost of correlation per request (src/telemetry/correlate.ts, docs/devdocs/correlation.md).
 * Plain performance.now loops:
 *   node bench/telemetry/correlate.bench.ts
 * One "request" = an HTTP/1 server exchange on a keep-alive connection plus one Redis call made
 * from the serving thread (4 data events), fed through the ConnectionTracker and turned into
 * spans by recordToSpan, with and without the correlator; the difference is the cost of
 * deciding the ids at request start and linking them. Also the correlator's calls alone.
 */
import { ObiDirection, ObiEventType, ObiRole, type ObiDataEvent } from '../../src/abi/events.ts';
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { CorrelatedConn } from '../../src/common/trace.ts';
import { ConnectionTracker } from '../../src/ingest/connections.ts';
import { Correlator } from '../../src/telemetry/correlate.ts';
import { RandomIdSource } from '../../src/telemetry/ids.ts';
import { recordToSpan, type SpanContext } from '../../src/telemetry/record.ts';

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

const N = 200_000;
const off = run('ingest + spans, no correlation (2 spans)', false, N);
const on = run('ingest + spans, correlated (2 spans, child linked)', true, N);
process.stdout.write(`${'correlation cost per request'.padEnd(58)} ${(on - off).toFixed(0).padStart(6)} ns/request\n`);

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
