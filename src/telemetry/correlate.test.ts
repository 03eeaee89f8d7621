// Over 400 lines: one case per correlator rule (policies, both ends, HTTP/2 streams, the kernel's wire ids), sharing one set of fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CorrelatedConn } from '../common/trace.ts';
import { Correlator, type CorrelationPolicy } from './correlate.ts';
import { RandomIdSource } from './ids.ts';

const NO_HEAD = Buffer.alloc(0);
let port = 1000;

/** a server connection of pid and the client connection (of cpid) at its other end */
function pair(pid: number, cpid: number, wire = 'http1'): { server: CorrelatedConn; client: CorrelatedConn } {
  const p = port++;
  return {
    server: { pid, role: 'server', localKey: 'a:80', remoteKey: `a:${p}`, wire },
    client: { pid: cpid, role: 'client', localKey: `a:${p}`, remoteKey: 'a:80', wire },
  };
}
function out(pid: number, wire = 'http1'): CorrelatedConn {
  return { pid, role: 'client', localKey: `b:${port++}`, remoteKey: 'c:6379', wire };
}
function inbound(pid: number, wire = 'http1'): CorrelatedConn {
  return { pid, role: 'server', localKey: 'a:80', remoteKey: `d:${port++}`, wire };
}

function correlator(policies: Record<number, CorrelationPolicy> = {}, opts: { maxThreads?: number } = {}): Correlator {
  return new Correlator({ ids: new RandomIdSource(), policyOf: (pid) => policies[pid] ?? { kind: 'thread' }, ...opts });
}

test('thread policy: a client request on the serving thread is the child of the server span, until the response starts', () => {
  const c = correlator();
  const s = inbound(1);
  const srv = c.requestStart(s, 11, 1, NO_HEAD)!;
  const db = c.requestStart(out(1, 'redis'), 11, 2, NO_HEAD)!;
  assert.equal(db.parentSpanId, srv.spanId);
  assert.equal(db.traceId, srv.traceId);
  const other = c.requestStart(out(1), 12, 3, NO_HEAD)!; // another thread: not linked
  assert.equal(other.parentSpanId, undefined);
  assert.notEqual(other.traceId, srv.traceId);
  c.responseStart(s, 11, 4);
  const after = c.requestStart(out(1), 11, 5, NO_HEAD)!;
  assert.equal(after.parentSpanId, undefined);
  assert.equal(c.counters.linkedClients, 1);
  assert.equal(c.unlinked.size, 0);
});

test('two server requests open on one thread invalidate the link until both are answered (counted)', () => {
  const c = correlator();
  const a = inbound(1);
  const b = inbound(1);
  c.requestStart(a, 11, 1, NO_HEAD);
  c.requestStart(b, 11, 2, NO_HEAD);
  assert.equal(c.requestStart(out(1), 11, 3, NO_HEAD)!.parentSpanId, undefined);
  c.responseStart(a, 11, 4);
  assert.equal(c.requestStart(out(1), 11, 5, NO_HEAD)!.parentSpanId, undefined); // b still open: still ambiguous
  assert.equal(c.unlinked.get('overlap'), 2);
  c.responseStart(b, 11, 6);
  const s3 = c.requestStart(a, 11, 7, NO_HEAD)!; // a keep-alive request after both: linked again
  assert.equal(c.requestStart(out(1), 11, 8, NO_HEAD)!.parentSpanId, s3.spanId);
});

test('a thread created while a context is active inherits it while the parent still works for that request', () => {
  const c = correlator();
  const s = inbound(1);
  const srv = c.requestStart(s, 11, 1, NO_HEAD)!;
  c.threadCreated(1, 11, 21, 2);
  assert.equal(c.requestStart(out(1), 21, 3, NO_HEAD)!.parentSpanId, srv.spanId);
  c.responseStart(s, 11, 4);
  assert.equal(c.requestStart(out(1), 21, 5, NO_HEAD)!.parentSpanId, undefined);
  // a thread created with no active context inherits nothing
  c.threadCreated(1, 11, 22, 6);
  assert.equal(c.counters.threadsInherited, 1);
  // and the inheritance does not carry over to the parent's next request
  c.threadCreated(1, 11, 23, 7);
  const s2 = c.requestStart(s, 11, 8, NO_HEAD)!;
  assert.equal(c.requestStart(out(1), 23, 9, NO_HEAD)!.parentSpanId, undefined);
  assert.equal(c.requestStart(out(1), 11, 10, NO_HEAD)!.parentSpanId, s2.spanId);
});

test('thread states expire by age and are bounded (oldest evicted, counted)', () => {
  const c = correlator({}, { maxThreads: 3 });
  for (let tid = 1; tid <= 5; tid++) c.requestStart(inbound(1), tid, tid * 1e9, NO_HEAD);
  assert.equal(c.threadCount, 3);
  assert.equal(c.counters.threadsEvicted, 2);
  c.expire(3e9 + 300e9 + 1); // tid 3 started at 3 s: older than the 300 s default
  assert.equal(c.threadCount, 2);
  assert.equal(c.counters.contextsExpired, 1);
  // an expired context links nothing
  assert.equal(c.requestStart(out(1), 3, 400e9, NO_HEAD)!.parentSpanId, undefined);
  c.forgetPid(1);
  assert.equal(c.threadCount, 0);
});

test('a thread-per-request server leaves no thread state behind: an idle thread is forgotten at the next sweep past idleThreadNs', () => {
  const c = correlator();
  for (let tid = 100; tid < 1100; tid++) {
    const s = inbound(1);
    const srv = c.requestStart(s, tid, tid, NO_HEAD)!;
    assert.equal(c.requestStart(out(1, 'redis'), tid, tid + 0.5, NO_HEAD)!.parentSpanId, srv.spanId);
    c.responseStart(s, tid, tid + 0.7);
  }
  assert.equal(c.counters.linkedClients, 1000);
  assert.equal(c.counters.threadsEvicted, 0);
  assert.equal(c.threadCount, 1000);
  c.expire(1100 + 5e9); // idle for less than 10 s: kept (a busy thread reuses its state)
  assert.equal(c.threadCount, 1000);
  c.expire(1100 + 10e9 + 1);
  assert.equal(c.threadCount, 0);
  // a thread still serving another connection keeps its state (and the overlap rule)
  const a = inbound(1);
  const b = inbound(1);
  c.requestStart(a, 7, 1, NO_HEAD);
  c.requestStart(b, 7, 2, NO_HEAD);
  c.responseStart(a, 7, 3);
  c.expire(3 + 10e9 + 1); // still serving b: kept however long
  assert.equal(c.threadCount, 1);
  assert.equal(c.requestStart(out(1), 7, 4, NO_HEAD)!.parentSpanId, undefined);
  assert.equal(c.unlinked.get('overlap'), 1);
  c.responseStart(b, 7, 5);
  c.expire(5 + 20e9 + 1);
  assert.equal(c.threadCount, 0);
  // a thread that inherited a context keeps it while the parent works for that request
  const p = inbound(1);
  const ps = c.requestStart(p, 11, 10, NO_HEAD)!;
  c.threadCreated(1, 11, 21, 11);
  const q = inbound(1);
  c.requestStart(q, 21, 12, NO_HEAD);
  c.responseStart(q, 21, 13);
  assert.equal(c.requestStart(out(1), 21, 14, NO_HEAD)!.parentSpanId, ps.spanId);
});

test('unlinked policy (Go): the client span keeps its own trace and is counted', () => {
  const c = correlator({ 2: { kind: 'unlinked', reason: 'go_runtime' } });
  const srv = c.requestStart(inbound(2), 11, 1, NO_HEAD)!;
  const cl = c.requestStart(out(2), 11, 2, NO_HEAD)!;
  assert.equal(cl.parentSpanId, undefined);
  assert.notEqual(cl.traceId, srv.traceId);
  assert.equal(c.unlinked.get('go_runtime'), 1);
});

test('event policy: the upstream request right after the downstream read is its child; anything in between makes it ambiguous', () => {
  const c = correlator({ 3: { kind: 'event' } });
  const a = inbound(3);
  const b = inbound(3);
  const sa = c.requestStart(a, 5, 1, NO_HEAD)!;
  const sb = c.requestStart(b, 5, 2, NO_HEAD)!; // nginx reads b after a: a's marker is gone
  const up1 = out(3);
  c.connected(up1, 5, 3); // connect right after b's read: b's upstream
  assert.equal(c.requestStart(up1, 5, 4, NO_HEAD)!.parentSpanId, sb.spanId);
  // keep-alive upstream: the write right after the downstream read
  c.responseStart(a, 5, 5);
  const sa2 = c.requestStart(a, 5, 6, NO_HEAD)!;
  const up2 = out(3);
  assert.equal(c.requestStart(up2, 5, 7, NO_HEAD)!.parentSpanId, sa2.spanId);
  // a socket event of another connection in between: not linked, counted
  c.responseStart(up2, 5, 8);
  c.responseStart(a, 5, 9);
  c.requestStart(a, 5, 10, NO_HEAD);
  c.segment(b, 5);
  assert.equal(c.requestStart(up2, 5, 11, NO_HEAD)!.parentSpanId, undefined);
  assert.equal(c.unlinked.get('ambiguous'), 1);
  assert.notEqual(sa.spanId, sa2.spanId);
});

test('both ends on this host: the server span is the child of the client span, in either order of arrival', () => {
  const c = correlator();
  const { server, client } = pair(2, 1);
  const front = inbound(1);
  const up = c.requestStart(front, 11, 1, NO_HEAD)!;
  const cl = c.requestStart(client, 11, 2, NO_HEAD)!; // client write seen first
  const sv = c.requestStart(server, 31, 3, NO_HEAD)!;
  assert.equal(sv.parentSpanId, cl.spanId);
  assert.equal(sv.traceId, up.traceId);
  // the server's read seen before the client's write (the write's event comes at its syscall exit)
  c.responseStart(server, 31, 4);
  c.responseStart(client, 11, 5);
  const sv2 = c.requestStart(server, 31, 6, NO_HEAD)!;
  const db = out(2);
  const child = c.requestStart(db, 31, 7, NO_HEAD)!; // the server's own child, linked before the join
  const cl2 = c.requestStart(client, 11, 8, NO_HEAD)!;
  assert.equal(sv2.parentSpanId, cl2.spanId);
  assert.equal(child.traceId, up.traceId); // resolved through the joined parent
  assert.equal(c.counters.joinedServers, 2);
  for (const conn of [server, client, front, db]) c.closed(conn, 9);
  assert.equal(c.joinIndexSize, 0);
});

test('an answered request no longer pairs: a stale client request never becomes a later server parent', () => {
  const c = correlator();
  const { server, client } = pair(2, 1);
  c.requestStart(client, 11, 1, NO_HEAD); // the server was not traced then
  c.responseStart(client, 11, 2);
  const sv = c.requestStart(server, 31, 3, NO_HEAD)!;
  assert.equal(sv.parentSpanId, undefined);
});

test('an incoming traceparent flows to the server span and to its children; it wins over a join', () => {
  const c = correlator();
  const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n');
  const { server, client } = pair(2, 1);
  c.requestStart(client, 11, 1, NO_HEAD);
  const sv = c.requestStart(server, 31, 2, head)!;
  assert.equal(sv.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(sv.parentSpanId, 'b7ad6b7169203331');
  const child = c.requestStart(out(2, 'mysql'), 31, 3, NO_HEAD)!;
  assert.equal(child.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(child.parentSpanId, sv.spanId);
  assert.equal(c.counters.remoteParents, 1);
  assert.equal(c.counters.joinedServers, 0);
});

test('multiplexed protocols get no context at start', () => {
  const c = correlator();
  assert.equal(c.requestStart(inbound(1, 'http2'), 11, 1, NO_HEAD), undefined);
  assert.equal(c.requestStart(out(1, 'kafka'), 11, 1, NO_HEAD), undefined);
});

test('custom provider decides the parent (the Node.js mechanism builds on this)', () => {
  const served: string[] = [];
  const c = correlator({
    4: {
      kind: 'custom',
      provider: {
        serverStart: (_pid, _tid, _ts, ctx) => void served.push(ctx.spanId),
        parentOf: (_pid, tid) => (tid === 1 ? 'event_loop' : undefined),
      },
    },
  });
  c.requestStart(inbound(4), 1, 1, NO_HEAD);
  assert.equal(served.length, 1);
  assert.equal(c.requestStart(out(4), 1, 2, NO_HEAD)!.parentSpanId, undefined);
  assert.equal(c.unlinked.get('event_loop'), 1);
  const unlinked = c.requestStart(out(4), 2, 3, NO_HEAD)!;
  assert.equal(unlinked.pending, false, 'no `defers`: an unlinked client is final at once');

  const d = correlator({ 5: { kind: 'custom', provider: { defers: true, parentOf: () => undefined } } });
  const pending = d.requestStart(out(5), 1, 1, NO_HEAD)!;
  assert.equal(pending.pending, true, '`defers`: left for the provider to settle');
  assert.equal(pending.settled, false);
  const parent = d.requestStart(inbound(5), 1, 2, NO_HEAD)!;
  assert.equal(pending.settle(parent), true);
  assert.equal(pending.settle(), false, 'settled once');
  assert.equal(pending.settled, true);
  assert.equal(pending.traceId, parent.traceId);
});

test('HTTP/2: each server stream is the child of the client stream with the same id on the same connection, in either order', () => {
  const c = correlator({ 1: { kind: 'unlinked', reason: 'go_runtime' }, 2: { kind: 'unlinked', reason: 'go_runtime' } });
  const { server, client } = pair(1, 2, 'http2');
  // streams 1 and 3 in flight at once; stream 1 seen client first, stream 3 server first
  const c1 = c.streamStart(client, 1, 21, 1, undefined)!;
  const s3 = c.streamStart(server, 3, 11, 2, undefined)!;
  const s1 = c.streamStart(server, 1, 11, 3, undefined)!;
  const c3 = c.streamStart(client, 3, 21, 4, undefined)!;
  assert.equal(s1.parentSpanId, c1.spanId);
  assert.equal(s1.traceId, c1.traceId);
  assert.equal(s3.parentSpanId, c3.spanId);
  assert.equal(s3.traceId, c3.traceId);
  assert.notEqual(c1.traceId, c3.traceId);
  assert.equal(c.counters.joinedServers, 2);
  assert.equal(c.unlinked.get('go_runtime'), 2); // Go's client calls: their own trace, counted
  // the same stream id on another connection never pairs
  const other = pair(1, 2, 'http2');
  const oc = c.streamStart(other.client, 5, 21, 5, undefined)!;
  c.streamEnd(other.client, 5, 6);
  const os = c.streamStart(other.server, 5, 11, 7, undefined)!;
  assert.equal(os.parentSpanId, undefined);
  assert.notEqual(os.traceId, oc.traceId);
  // a stream whose record was handed on no longer pairs; closing forgets the connection
  c.streamEnd(server, 1, 8);
  c.closed(server, 9);
  c.closed(client, 9);
  c.closed(other.server, 9);
  c.closed(other.client, 9);
  assert.equal(c.joinIndexSize, 0);
  // HTTP/1 requests are not streams, streams are not HTTP/1 requests
  assert.equal(c.streamStart(pair(1, 2).server, 1, 11, 10, undefined), undefined);
});

test('HTTP/2: an incoming traceparent wins over the join', () => {
  const c = correlator();
  const { server, client } = pair(1, 2, 'http2');
  const cl = c.streamStart(client, 1, 21, 1, undefined)!;
  const sv = c.streamStart(server, 1, 11, 2, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')!;
  assert.equal(sv.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(sv.parentSpanId, '00f067aa0ba902b7');
  assert.notEqual(cl.traceId, sv.traceId);
  // server first: the client stream pairs it but does not link it
  const s3 = c.streamStart(server, 3, 11, 3, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b8-01')!;
  c.streamStart(client, 3, 21, 4, undefined);
  assert.equal(s3.parentSpanId, '00f067aa0ba902b8');
  assert.equal(c.counters.joinedServers, 0);
  assert.equal(c.counters.remoteParents, 2);
});

test('HTTP/2 under the thread policy: a server stream gives its reading thread no context; client calls meanwhile are counted', () => {
  const c = correlator();
  const s = inbound(1, 'http2');
  c.streamStart(s, 1, 11, 1, undefined);
  const same = c.streamStart(out(1, 'http2'), 1, 11, 2, undefined)!; // even on the thread that read the stream
  const db = c.requestStart(out(1, 'redis'), 12, 3, NO_HEAD)!;
  assert.equal(same.parentSpanId, undefined);
  assert.equal(db.parentSpanId, undefined);
  assert.equal(c.unlinked.get('multiplexed_server'), 2);
  c.streamResponse(s, 1, 11, 4);
  c.requestStart(out(1, 'redis'), 12, 5, NO_HEAD);
  assert.equal(c.unlinked.get('multiplexed_server'), 2); // no stream open: nothing to count
  // an HTTP/1 server request of the same process still links its client calls
  const h1 = inbound(1);
  const r = c.requestStart(h1, 13, 6, NO_HEAD)!;
  c.streamStart(s, 3, 11, 7, undefined);
  assert.equal(c.streamStart(out(1, 'http2'), 1, 13, 8, undefined)!.parentSpanId, r.spanId);
  c.closed(s, 9);
  c.requestStart(out(1, 'redis'), 12, 10, NO_HEAD);
  assert.equal(c.unlinked.get('multiplexed_server'), 2); // closing ended the open stream
});

test('HTTP/2 under the event policy (nginx): the upstream of the one stream open on its connection is its child; a second stream makes it ambiguous', () => {
  const c = correlator({ 1: { kind: 'event' } });
  const s = inbound(1, 'http2');
  const st1 = c.streamStart(s, 1, 11, 1, undefined)!;
  c.segment(s, 11); // the rest of the stream's request on the same connection
  const up1 = out(1);
  c.connected(up1, 11, 2);
  assert.equal(c.requestStart(up1, 11, 3, NO_HEAD)!.parentSpanId, st1.spanId);
  c.streamResponse(s, 1, 11, 4);
  // two streams open on the connection: neither upstream is linked
  c.streamStart(s, 3, 11, 5, undefined);
  c.streamStart(s, 5, 11, 5, undefined);
  const up2 = out(1);
  c.connected(up2, 11, 6);
  assert.equal(c.requestStart(up2, 11, 7, NO_HEAD)!.parentSpanId, undefined);
  assert.equal(c.unlinked.get('ambiguous'), 1);
  c.streamResponse(s, 3, 11, 8);
  c.streamResponse(s, 5, 11, 8);
  // the connection idle again: the next stream links
  const st7 = c.streamStart(s, 7, 11, 9, undefined)!;
  const up3 = out(1);
  assert.equal(c.requestStart(up3, 11, 10, NO_HEAD)!.parentSpanId, st7.spanId); // keep-alive upstream, first write
  assert.equal(c.counters.linkedClients, 2);
});

// propagation `tcp` (docs/devdocs/propagation.md): the kernel's ids, as on the wire
const T1 = '11111111111111111111111111111111';
const T2 = '22222222222222222222222222222222';
const wire = (traceId: string, spanId: string, o: { parentId?: string; remote?: boolean; inherited?: boolean } = {}) => ({
  traceId,
  spanId,
  parentId: o.parentId,
  remote: o.remote ?? false,
  inherited: o.inherited ?? false,
});

test('wire ids: server and client spans adopt the kernel span id and trace id; a parent in the same trace is kept', () => {
  const c = correlator();
  const s = inbound(1);
  const srv = c.requestStart(s, 11, 1, NO_HEAD, wire(T1, 'aaaaaaaaaaaaaaaa'))!;
  assert.equal(srv.spanId, 'aaaaaaaaaaaaaaaa');
  assert.equal(srv.traceId, T1);
  assert.equal(srv.parentSpanId, undefined);
  const cli = c.requestStart(out(1), 11, 2, NO_HEAD, wire(T1, 'bbbbbbbbbbbbbbbb', { parentId: 'aaaaaaaaaaaaaaaa', inherited: true }))!;
  assert.equal(cli.spanId, 'bbbbbbbbbbbbbbbb');
  assert.equal(cli.traceId, T1);
  assert.equal(cli.parentSpanId, srv.spanId);
  assert.equal(c.counters.linkedClients, 1);
});

test('wire ids: a user-space parent in another trace than the one sent is dropped and counted wire_mismatch', () => {
  const c = correlator();
  c.requestStart(inbound(1), 11, 1, NO_HEAD, wire(T1, 'aaaaaaaaaaaaaaaa'));
  const cli = c.requestStart(out(1), 11, 2, NO_HEAD, wire(T2, 'bbbbbbbbbbbbbbbb'))!;
  assert.equal(cli.traceId, T2, 'the trace that went on the wire');
  assert.equal(cli.parentSpanId, undefined);
  assert.equal(c.unlinked.get('wire_mismatch'), 1);
  assert.equal(c.counters.linkedClients, 0);
});

test('wire ids: where user space finds no parent, the parent the kernel inherited is kept (wire_parent)', () => {
  const c = correlator({ 1: { kind: 'unlinked', reason: 'go_runtime' } });
  const cli = c.requestStart(out(1), 11, 2, NO_HEAD, wire(T1, 'bbbbbbbbbbbbbbbb', { parentId: 'aaaaaaaaaaaaaaaa', inherited: true }))!;
  assert.equal(cli.traceId, T1);
  assert.equal(cli.parentSpanId, 'aaaaaaaaaaaaaaaa');
  assert.equal(c.counters.wireParents, 1);
});

test('wire ids: a received TCP option wins over an incoming traceparent header and over a join with another client', () => {
  const c = correlator();
  const { server, client } = pair(1, 2);
  c.requestStart(client, 21, 1, NO_HEAD, wire(T2, 'cccccccccccccccc')); // a same-host client whose span is not the option's
  const head = Buffer.from(`GET / HTTP/1.1\r\ntraceparent: 00-${'3'.repeat(32)}-${'4'.repeat(16)}-01\r\n\r\n`);
  const srv = c.requestStart(server, 11, 2, head, wire(T1, 'aaaaaaaaaaaaaaaa', { parentId: 'dddddddddddddddd', remote: true }))!;
  assert.equal(srv.traceId, T1);
  assert.equal(srv.parentSpanId, 'dddddddddddddddd');
  assert.equal(c.counters.optionParents, 1);
  assert.equal(c.counters.remoteParents, 0);
  assert.equal(c.counters.joinedServers, 0);
});

test('wire ids: the option from the client end on this host joins (service graph), in either order of arrival', () => {
  for (const serverFirst of [false, true]) {
    const c = correlator();
    const { server, client } = pair(1, 2);
    const cw = wire(T1, 'cccccccccccccccc');
    const sw = wire(T1, 'aaaaaaaaaaaaaaaa', { parentId: 'cccccccccccccccc', remote: true });
    let srv;
    let cli;
    if (serverFirst) {
      srv = c.requestStart(server, 11, 1, NO_HEAD, sw)!;
      cli = c.requestStart(client, 21, 2, NO_HEAD, cw)!;
    } else {
      cli = c.requestStart(client, 21, 1, NO_HEAD, cw)!;
      srv = c.requestStart(server, 11, 2, NO_HEAD, sw)!;
    }
    assert.equal(srv.parentSpanId, cli.spanId);
    assert.equal(srv.parent, cli, `joined (server first: ${serverFirst})`);
    assert.equal(srv.traceId, T1);
    assert.equal(c.counters.joinedServers, 1);
  }
});
