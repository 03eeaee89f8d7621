import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceIdentity } from '../common/service.ts';
import { SpanCtx, type TraceIds } from '../common/trace.ts';
import { NodeContextLinker, parseNodeCtxReport } from './node-links.ts';
import type { Span } from './span.ts';
import type { CounterVec } from './counter.ts';
import { MetricStore } from './store.ts';

const service: ServiceIdentity = { name: 'api', namespace: '', instanceId: 'h:7', pid: 7, exePath: '/usr/bin/node', language: 'nodejs' };
let n = 0;

function span(kind: 'server' | 'client', lport: number, rport: number, startNs: number, endNs: number, pid = 7): Span {
  n++;
  return {
    protocol: 'http',
    category: 'http',
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    traceFlags: 1,
    name: 'GET',
    kind,
    startNs,
    endNs,
    status: 'unset',
    attributes: {},
    service,
    conn: { pid, tid: pid, role: kind, localAddr: '127.0.0.1', localPort: lport, remoteAddr: '127.0.0.1', remotePort: rport, tls: false },
  };
}

const MS = 1e6;

test('a client span reported in a context becomes the child of that context’s server span, held until the server span arrives', () => {
  const l = new NodeContextLinker();
  l.track(7);
  l.report(7, 's,1,8080,50000,1000');
  l.report(7, 's,2,8080,50001,1100');
  l.report(7, 'c,2,40000,9000,2000');
  l.report(7, 'c,1,40001,9000,2100');
  const c2 = span('client', 40000, 9000, 2010, 3000);
  const c1 = span('client', 40001, 9000, 2110, 3100);
  assert.deepEqual(l.link([c1, c2], 10 * MS), []); // waiting for their server spans
  assert.equal(l.held, 2);
  const s1 = span('server', 8080, 50000, 900, 4000);
  const out1 = l.link([s1], 11 * MS);
  assert.equal(out1.length, 2);
  assert.equal(out1[0], s1);
  assert.equal(out1[1]!.spanId, c1.spanId);
  assert.equal(out1[1]!.parentSpanId, s1.spanId);
  assert.equal(out1[1]!.traceId, s1.traceId);
  const s2 = span('server', 8080, 50001, 1050, 4100);
  const out2 = l.link([s2], 12 * MS);
  assert.equal(out2[1]!.parentSpanId, s2.spanId);
  assert.equal(out2[1]!.traceId, s2.traceId);
  assert.equal(l.held, 0);
  assert.equal(l.counts.linked, 2);
  assert.equal(l.counts.server_matched, 2);
});

test('a client span after its server span (fire and forget) is linked at once; one in the same batch too', () => {
  const l = new NodeContextLinker();
  l.track(7);
  l.report(7, 's,5,8080,50000,1000');
  l.report(7, 'c,5,40000,9000,1500');
  const s = span('server', 8080, 50000, 900, 2000);
  const c = span('client', 40000, 9000, 1600, 5000);
  const out = l.link([c, s], MS);
  assert.equal(out.length, 2);
  assert.equal(out.find((x) => x.kind === 'client')!.parentSpanId, s.spanId);
});

test('reports of two contexts before one client span: ambiguous, never a guess; a call outside any request: no_context', () => {
  const l = new NodeContextLinker();
  l.track(7);
  l.report(7, 'c,1,40000,6379,1000');
  l.report(7, 'c,2,40000,6379,1001');
  l.report(7, 'c,0,40002,6379,1000');
  const a = span('client', 40000, 6379, 1005, 1100);
  const b = span('client', 40002, 6379, 1005, 1100);
  const out = l.link([a, b], MS);
  assert.deepEqual(out, [a, b]);
  assert.equal(l.counts.ambiguous, 1);
  assert.equal(l.counts.no_context, 1);
  assert.equal(out[0]!.parentSpanId, undefined);
});

test('a report made after the client span started is not its report (it belongs to the next request)', () => {
  const l = new NodeContextLinker({ reportWaitNs: 100 });
  l.track(7);
  l.report(7, 'c,3,40000,9000,2000');
  const c = span('client', 40000, 9000, 1000, 1500);
  assert.deepEqual(l.link([c], 0), []);
  assert.deepEqual(l.link([], 200), [c]);
  assert.equal(l.counts.no_report, 1);
});

test('bounds: a server span that never comes releases its children unlinked; the hold cap; untrack releases pending spans', () => {
  const l = new NodeContextLinker({ holdNs: 1000, maxHeld: 1, reportWaitNs: 10 });
  l.track(7);
  l.report(7, 'c,1,40000,9000,100');
  l.report(7, 'c,1,40001,9000,100');
  const a = span('client', 40000, 9000, 200, 300);
  const b = span('client', 40001, 9000, 200, 300);
  assert.deepEqual(l.link([a, b], 0), [b]); // the cap: b released at once
  assert.equal(l.counts.server_missing, 1);
  assert.deepEqual(l.link([], 2000), [a]);
  assert.equal(l.counts.server_missing, 2);
  const c = span('client', 40002, 9000, 200, 300);
  assert.deepEqual(l.link([c], 3000), []);
  l.untrack(7);
  assert.deepEqual(l.link([], 3001), [c]);
});

test('spans of other processes and of other kinds pass through unchanged and at once', () => {
  const l = new NodeContextLinker();
  l.track(7);
  const other = span('client', 40000, 9000, 1, 2, 8);
  assert.deepEqual(l.link([other], 0), [other]);
  assert.equal(l.held, 0);
});

test('the per-connection report queue is bounded; reports of untracked processes and malformed lines are dropped', () => {
  const l = new NodeContextLinker({ maxReportsPerConn: 2 });
  l.report(7, 'c,1,40000,9000,1');
  l.track(7);
  for (const bad of ['', 'x,1,2,3,4', 'c,1,0,9000,1', 'c,-1,1,1,1', 'c,1,1,70000,1', 'c,1,1,1', 'c,1.5,1,1,1', 'c,1,1,1,0']) l.report(7, bad);
  assert.equal(l.reportsDropped, 9);
  for (let i = 1; i <= 3; i++) l.report(7, `c,${i},40000,9000,${i}`);
  assert.equal(l.reportsDropped, 10);
  assert.deepEqual(parseNodeCtxReport('s,12,8080,50000,123456789'), { kind: 's', id: 12, localPort: 8080, remotePort: 50000, t: 123456789 });
});

test('flush releases everything; the outcome counter reads the counts; onTracked follows track/untrack', async () => {
  const seen: string[] = [];
  const l = new NodeContextLinker({ onTracked: (pid, on) => seen.push(`${pid}:${on}`) });
  l.track(7);
  l.report(7, 'c,1,40000,9000,1');
  const a = span('client', 40000, 9000, 5, 6);
  l.link([a], 0);
  assert.deepEqual(l.flush(), [a]);
  l.untrack(7);
  l.untrack(7);
  assert.deepEqual(seen, ['7:true', '7:false']);
  const store = new MetricStore();
  l.registerMetrics(store);
  const text = JSON.stringify(store.families().map((f) => f.name));
  assert.match(text, /obi\.nodejs\.context\.links/);
});

test('a span of another process joined under a pending client call waits for the link and takes its trace; past the bound the call stays unlinked', () => {
  let k = 0;
  const ids: TraceIds = { traceId: () => (++k).toString(16).padStart(32, 'a'), spanId: () => (++k).toString(16).padStart(16, 'b') };
  const withCtx = (sp: Span, ctx: SpanCtx): Span => ({ ...sp, traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: ctx.parentSpanId, ctx });
  const l = new NodeContextLinker({ holdNs: 10 * MS, reportWaitNs: 1 * MS });
  l.track(7);
  // the Node server request (its own parent upstream: settled), its client call (pending until linked),
  // the downstream server in process 9 joined under that call, and that server's own child
  const upstream = new SpanCtx(ids);
  const sCtx = new SpanCtx(ids, upstream);
  const cCtx = new SpanCtx(ids);
  cCtx.pending = true;
  const dCtx = new SpanCtx(ids, cCtx);
  const dChildCtx = new SpanCtx(ids, dCtx);
  l.report(7, 's,1,8080,50000,1000');
  l.report(7, 'c,1,40000,9000,2000');
  const down = withCtx(span('server', 9000, 40000, 2100, 2900, 9), dCtx);
  const downChild = withCtx(span('client', 41000, 6379, 2200, 2300, 9), dChildCtx);
  assert.deepEqual(l.link([downChild, down], 3 * MS), []); // held: their trace is not decided yet
  assert.equal(l.held, 2);
  const c = withCtx(span('client', 40000, 9000, 2010, 3000), cCtx);
  assert.deepEqual(l.link([c], 4 * MS), []);
  const s = withCtx(span('server', 8080, 50000, 900, 4000), sCtx);
  const out = l.link([s], 5 * MS);
  assert.equal(out.length, 4);
  assert.equal(l.held, 0);
  const trace = upstream.traceId;
  for (const x of out) assert.equal(x.traceId, trace, `${x.kind} ${x.conn!.pid}`);
  assert.equal(out.find((x) => x.conn!.pid === 7 && x.kind === 'client')!.parentSpanId, s.spanId);
  assert.equal(out.find((x) => x.conn!.pid === 9 && x.kind === 'server')!.parentSpanId, c.spanId);
  assert.equal(out.find((x) => x.conn!.pid === 9 && x.kind === 'client')!.parentSpanId, down.spanId);
  assert.equal(l.counts.downstream_unsettled, 0);

  // a pending call whose span never comes: the downstream span is released past holdNs + reportWaitNs
  // with the call's own trace, and the call, should it come later, is not linked (it would disagree)
  const c2Ctx = new SpanCtx(ids);
  c2Ctx.pending = true;
  const d2 = withCtx(span('server', 9000, 40001, 6000, 6100, 9), new SpanCtx(ids, c2Ctx));
  assert.deepEqual(l.link([d2], 6 * MS), []);
  assert.deepEqual(l.link([], 16 * MS), []);
  const late = l.link([], 18 * MS);
  assert.equal(late.length, 1);
  assert.equal(late[0]!.traceId, c2Ctx.traceId);
  assert.equal(late[0]!.parentSpanId, c2Ctx.spanId);
  assert.equal(l.counts.downstream_unsettled, 1);
  l.report(7, 's,2,8080,50001,19000000');
  l.report(7, 'c,2,40001,9000,19100000');
  const s2 = withCtx(span('server', 8080, 50001, 18.9 * MS, 20 * MS), new SpanCtx(ids));
  const c2 = withCtx(span('client', 40001, 9000, 19.2 * MS, 19.5 * MS), c2Ctx);
  const out2 = l.link([s2, c2], 20 * MS);
  assert.equal(out2.find((x) => x.kind === 'client')!.parentSpanId, undefined);
  assert.equal(out2.find((x) => x.kind === 'client')!.traceId, c2Ctx.traceId);
  assert.equal(l.counts.downstream_unsettled, 2);
});

test('spans on HTTP/2 connections (HTTP/2, gRPC) of an attached process pass at once, unlinked, counted multiplexed', () => {
  const l = new NodeContextLinker();
  l.track(7);
  const h2 = { ...span('server', 8080, 50000, 900, 4000), attributes: { 'network.protocol.version': '2' } };
  const rpc = { ...span('client', 40000, 9000, 1000, 2000), category: 'rpc' as const, protocol: 'grpc' };
  const h1 = span('server', 8080, 50001, 900, 4000);
  const out = l.link([h2, rpc, h1], 10 * MS);
  assert.deepEqual(out.map((s) => s.spanId), [h2.spanId, rpc.spanId, h1.spanId]); // the HTTP/1 server passes too, without a report
  assert.equal(l.counts.multiplexed, 2);
  assert.equal(l.counts.server_passed, 1);
  assert.equal(l.held, 0);
});

test('contexts are remembered for late client calls within their ttl and their cap, the oldest forgotten first', () => {
  const l = new NodeContextLinker({ contextTtlNs: 100 * MS, maxContexts: 2 });
  l.track(7);
  for (const [id, rp] of [[1, 50001], [2, 50002], [3, 50003]] as const) l.report(7, `s,${id},8080,${rp},${1000 * id + 10}`);
  const servers = [1, 2, 3].map((id) => span('server', 8080, 50000 + id, 1000 * id, 1000 * id + 500));
  assert.equal(l.link(servers, 1 * MS).length, 3);
  assert.equal(l.contextsEvicted, 1); // context 1 went: over the cap of 2
  const store = new MetricStore();
  l.registerMetrics(store);
  store.collect();
  assert.equal((store.getByPromName('obi_nodejs_context_evicted_total') as CounterVec).value(0), 1);
  // fire-and-forget calls after the responses: context 3 and 2 are remembered, 1 is not
  l.report(7, 'c,3,40003,9000,5000');
  l.report(7, 'c,2,40002,9000,5000');
  l.report(7, 'c,1,40001,9000,5000');
  const [c3, c2, c1] = [40003, 40002, 40001].map((p) => span('client', p, 9000, 5010, 6000));
  const out = l.link([c3, c2, c1], 2 * MS);
  assert.deepEqual(out.map((s) => [s.spanId, s.parentSpanId]), [[c3.spanId, servers[2]!.spanId], [c2.spanId, servers[1]!.spanId]]);
  assert.equal(l.held, 1); // c1 waits for a server span that will not come
  // past the ttl: context 2 and 3 are forgotten, a later call of theirs is not linked
  l.report(7, 'c,2,40012,9000,7000');
  const c2late = span('client', 40012, 9000, 7010, 8000);
  assert.deepEqual(l.link([c2late], 200 * MS), []);
  assert.equal(l.held, 2);
  assert.equal(l.counts.linked, 2);
});

test('server spans pass at once; a report that comes later (a request\'s first client call) finds its span\'s ids on the connection', () => {
  const l = new NodeContextLinker({ holdNs: 50 * MS, maxServersPerConn: 2 });
  l.track(7);
  const a = span('server', 8080, 50000, 1000, 2000);
  const b = span('server', 8080, 50000, 3000, 4000);
  const c = span('server', 8080, 50000, 5000, 6000);
  assert.deepEqual(l.link([a, b, c], 1 * MS).map((s) => s.spanId), [a.spanId, b.spanId, c.spanId]);
  assert.equal(l.counts.server_passed, 3);
  assert.equal(l.held, 0);
  // fire-and-forget calls of b's and c's requests, made after their responses: their server reports come first
  l.report(7, 's,2,8080,50000,3500\ns,3,8080,50000,5500\nc,2,40000,9000,7000\nc,3,40001,9000,7100');
  const cb = span('client', 40000, 9000, 7010, 7500);
  const cc = span('client', 40001, 9000, 7110, 7600);
  const out = l.link([cb, cc], 2 * MS);
  assert.deepEqual(out.map((s) => [s.spanId, s.parentSpanId, s.traceId]), [[cb.spanId, b.spanId, b.traceId], [cc.spanId, c.spanId, c.traceId]]);
  // a's ids went past the per-connection cap (2): its late call is held, then released unlinked
  l.report(7, 's,1,8080,50000,1500\nc,1,40002,9000,8000');
  const ca = span('client', 40002, 9000, 8010, 8500);
  assert.deepEqual(l.link([ca], 3 * MS), []);
  assert.equal(l.held, 1);
  assert.deepEqual(l.link([], 60 * MS).map((s) => [s.spanId, s.parentSpanId]), [[ca.spanId, undefined]]);
  assert.equal(l.counts.server_missing, 1);
  assert.equal(l.counts.linked, 2);
  // a report that arrives with a later server span of its connection in the same batch is still its own
  const d = span('server', 8080, 50001, 10_000, 11_000);
  assert.deepEqual(l.link([d], 61 * MS).map((s) => s.spanId), [d.spanId]);
  l.report(7, 's,4,8080,50001,10500\nc,4,40003,9000,10600');
  const e = span('server', 8080, 50001, 12_000, 13_000);
  const cd = span('client', 40003, 9000, 10_610, 10_700);
  const out2 = l.link([e, cd], 62 * MS);
  assert.deepEqual(out2.map((s) => s.spanId), [e.spanId, cd.spanId]);
  assert.equal(out2[1]!.parentSpanId, d.spanId);
  // a detached process's passed servers go with it
  l.untrack(7);
  l.track(7);
  l.report(7, 's,5,8080,50001,12500\nc,5,40004,9000,12600');
  assert.deepEqual(l.link([span('client', 40004, 9000, 12_610, 12_700)], 63 * MS), []);
  assert.equal(l.held, 1);
});

test('passed server ids last contextTtlNs each: a connection that keeps passing spans keeps the recent ones', () => {
  const l = new NodeContextLinker({ contextTtlNs: 100 * MS });
  l.track(7);
  const a = span('server', 8080, 50000, 1000, 2000);
  const b = span('server', 8080, 50000, 3000, 4000);
  l.link([a], 1 * MS);
  l.link([b], 150 * MS);
  l.link([], 160 * MS); // a's ids expired, b's kept
  l.report(7, 's,1,8080,50000,1500\nc,1,40000,9000,5000\ns,2,8080,50000,3500\nc,2,40001,9000,5000');
  const ca = span('client', 40000, 9000, 5010, 5100);
  const cb = span('client', 40001, 9000, 5010, 5100);
  const out = l.link([ca, cb], 170 * MS);
  assert.deepEqual(out.map((s) => [s.spanId, s.parentSpanId]), [[cb.spanId, b.spanId]]);
  assert.equal(l.held, 1); // ca waits for a server span that is gone
});

test('a payload of several report lines is taken line by line; a malformed line is dropped alone', () => {
  const l = new NodeContextLinker();
  l.track(7);
  l.report(7, 's,1,8080,50000,1500\nnonsense\ns,2,8080,50001,2500');
  assert.equal(l.reportsDropped, 1);
  const out = l.link([span('server', 8080, 50000, 1000, 2000), span('server', 8080, 50001, 2000, 3000)], 1 * MS);
  assert.equal(out.length, 2);
  assert.equal(l.counts.server_matched, 2);
});
