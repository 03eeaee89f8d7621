// Over 400 lines: the correlator (its four policies, the join of both ends, bounds) and its self-metrics, one decision point as docs/devdocs/correlation.md asks.
/**
 * The one place where span ids are decided at request start and linked (docs/devdocs/correlation.md):
 *
 * - thread correlation (thread-per-request runtimes): a server request read on thread (pid, tid)
 *   is that thread's context until its response starts; client requests started on the thread
 *   meanwhile are its children. Two server requests open on one thread invalidate the link
 *   (`overlap`). Threads created while a context is active inherit it while it lasts.
 * - event correlation (nginx): the upstream request is the child of the downstream request read
 *   on the thread immediately before (the `connect()` of a new upstream connection or the first
 *   write on a reused one, with no other socket event of the thread in between); anything else
 *   is ambiguous and not linked.
 * - unlinked (Go, event loops without a provider): client spans keep their own trace, counted.
 * - custom: a provider for a runtime's own mechanism (e.g. Node.js async context) decides.
 * - both ends of one connection on this host: the server span of a request is the child of the
 *   client span of that request (paired in order among the requests in flight on the connection).
 * - an incoming `traceparent` (HTTP/1, read from the first segment) makes the server span, and
 *   through the thread context its children, continue that trace.
 * - HTTP/2 per stream (`streamStart`): the server stream is the child of the client stream with
 *   the same id on the same connection; server streams mark nginx's thread (event policy) only
 *   while alone on their connection, and give a thread-policy thread no context (counted).
 *
 * Pure: no I/O, no timers; time is the events' monotonic ns. Bounded: thread states (oldest
 * evicted, counted), per-connection queues, join index entries removed at close.
 */
import type { ServiceIdentity } from '../common/service.ts';
import { SpanCtx, type CorrelatedConn, type RequestCorrelator, type TraceIds, type WireCtx } from '../common/trace.ts';
import { CounterVec } from './counter.ts';
import { SeriesIndex } from './histogram.ts';
import type { MetricStore } from './store.ts';
import { parseTraceparent, peekTraceparent } from './tracecontext.ts';

/** Why a client span was not linked to a server span of its process (`obi_unlinked_client_spans_total{reason}`). */
export type UnlinkedReason =
  /** Go: goroutines share OS threads */
  | 'go_runtime'
  /** an event loop with no context provider (Node.js without its provider, Python asyncio) */
  | 'event_loop'
  /** two server requests were open on the thread */
  | 'overlap'
  /** event correlation: another socket event of the thread came between the downstream read and the upstream request */
  | 'ambiguous'
  /**
   * thread policy: the process serves HTTP/2 streams, which thread-per-request runtimes read on
   * I/O threads that are not the handlers' (gRPC C core, grpc-java, Jetty): no sound link
   */
  | 'multiplexed_server'
  /** propagation `tcp`: the parent user space found is in another trace than the one the request carried on the wire */
  | 'wire_mismatch'
  | (string & {});

/** How the client calls of one process are correlated with its server requests. */
export type CorrelationPolicy =
  | { readonly kind: 'thread' }
  | { readonly kind: 'event' }
  | { readonly kind: 'unlinked'; readonly reason: UnlinkedReason }
  | { readonly kind: 'custom'; readonly provider: ContextProvider };

/**
 * A runtime's own correlation mechanism (e.g. Node.js async context, built on this API).
 * `serverStart` sees every server span decided in the process; `parentOf` names the parent of a
 * client request starting on (pid, tid) now: a SpanCtx, or a reason string when not linked, or
 * undefined when the call is not made while serving a request.
 */
export interface ContextProvider {
  /**
   * true: a client request `parentOf` does not link now is left `pending` (SpanCtx): the provider
   * settles it later, and spans joined under it wait for that (the Node.js linker)
   */
  readonly defers?: boolean;
  serverStart?(pid: number, tid: number, tsNs: number, ctx: SpanCtx, conn: CorrelatedConn): void;
  serverEnd?(pid: number, tid: number, tsNs: number, ctx: SpanCtx, conn: CorrelatedConn): void;
  parentOf(pid: number, tid: number, tsNs: number, conn: CorrelatedConn): SpanCtx | UnlinkedReason | undefined;
}

export interface CorrelatorOptions {
  readonly ids: TraceIds;
  /** the policy of a process, asked once per pid (cached until `forgetPid`); default thread */
  readonly policyOf?: (pid: number) => CorrelationPolicy;
  /** the service of a process (for the service graph edge of a joined server span) */
  readonly serviceOf?: (pid: number) => ServiceIdentity | undefined;
  /** wire protocols whose requests are correlated (one request at a time per connection) */
  readonly wires?: readonly string[];
  /** multiplexed wire protocols whose streams are correlated (`streamStart`, stream ids shared by both ends) */
  readonly streamWires?: readonly string[];
  /** thread states kept at most (oldest evicted, counted) */
  readonly maxThreads?: number;
  /** a thread context older than this ends (`expire`) */
  readonly maxContextAgeNs?: number;
  /** an idle thread state (nothing open, no marker, nothing inherited) untouched this long is forgotten (`expire`; default 10 s) */
  readonly idleThreadNs?: number;
}

export interface CorrelationCounters {
  /** client spans given a local parent (server span of their process) */
  linkedClients: number;
  /** server spans given a local parent (the client span at the other end of their connection) */
  joinedServers: number;
  /** server spans that continued an incoming traceparent */
  remoteParents: number;
  /** thread states evicted at the cap */
  threadsEvicted: number;
  /** thread contexts ended by age */
  contextsExpired: number;
  /** threads that inherited a context at creation */
  threadsInherited: number;
  /** server spans whose parent came from a received TCP option (propagation `tcp`) */
  optionParents: number;
  /** client spans given the parent the kernel chose (the thread's server span) where user space found none */
  wireParents: number;
}

/** Request/response protocols with one exchange at a time per connection (HTTP/2, Kafka are multiplexed). */
export const CORRELATED_WIRES: readonly string[] = ['http1', 'fastcgi', 'postgresql', 'mysql', 'redis', 'memcached', 'mongodb'];

/** Multiplexed protocols correlated per stream (a stream id names one exchange on both ends of a connection). */
export const STREAM_WIRES: readonly string[] = ['http2'];

const MAX_QUEUE = 8;
/** per connection: streams not yet paired with the other end (the HTTP/2 parser's stream cap) */
const MAX_STREAMS = 256;
const TID_SPACE = 4194304; // 2^22: PID_MAX_LIMIT

interface ThreadState {
  lastNs: number;
  /** the server request the thread works for (thread policy) */
  active: SpanCtx | undefined;
  /** server connections with a request open on the thread */
  open: CorrelatedConn[];
  /** two server requests overlapped on the thread since it was last idle */
  poisoned: boolean;
  /** event policy: the downstream request read last, until another socket event of the thread */
  marker: SpanCtx | undefined;
  markerConn: CorrelatedConn | undefined;
  /** inherited at thread creation: valid while the parent thread still works for `inheritedCtx` */
  inheritedFrom: ThreadState | undefined;
  inheritedCtx: SpanCtx | undefined;
}

/** per-connection state, kept on the connection (`CorrelatedConn.corr`) */
interface ConnState {
  /** server: the thread the request in flight was read on */
  thread: ThreadState | undefined;
  threadKey: number;
  /** spans of requests in flight not yet paired with the other end of the connection */
  unjoined: SpanCtx[];
  /** event policy: the parent bound at `connect()` for the first request */
  pendingParent: SpanCtx | undefined;
  joinKey: string | undefined;
  /** the server ctx of the request in flight (custom providers' serverEnd) */
  current: SpanCtx | undefined;
  /** multiplexed: spans of streams not yet paired with the other end, by stream id (until their record) */
  streams: Map<number, SpanCtx> | undefined;
  /** multiplexed server: streams whose response has not started */
  openStreams: Set<number> | undefined;
}

const THREAD: CorrelationPolicy = { kind: 'thread' };

export class Correlator implements RequestCorrelator {
  readonly counters: CorrelationCounters = { linkedClients: 0, joinedServers: 0, remoteParents: 0, threadsEvicted: 0, contextsExpired: 0, threadsInherited: 0, optionParents: 0, wireParents: 0 };
  /** client spans not linked, by reason */
  readonly unlinked = new Map<UnlinkedReason, number>();
  private readonly _ids: TraceIds;
  private readonly _policyOf: (pid: number) => CorrelationPolicy;
  private readonly _serviceOf: ((pid: number) => ServiceIdentity | undefined) | undefined;
  private readonly _wires: ReadonlySet<string>;
  private readonly _streamWires: ReadonlySet<string>;
  /** thread policy: HTTP/2 server streams open per process (their client calls are counted `multiplexed_server`) */
  private readonly _muxOpen = new Map<number, number>();
  private readonly _maxThreads: number;
  private readonly _maxAgeNs: number;
  private readonly _idleThreadNs: number;
  private readonly _policies = new Map<number, CorrelationPolicy>();
  private readonly _threads = new Map<number, ThreadState>();
  private readonly _clients = new Map<string, CorrelatedConn>();
  private readonly _servers = new Map<string, CorrelatedConn>();
  private readonly _state = new WeakMap<CorrelatedConn, ConnState>();

  constructor(opts: CorrelatorOptions) {
    this._ids = opts.ids;
    this._policyOf = opts.policyOf ?? (() => THREAD);
    this._serviceOf = opts.serviceOf;
    this._wires = new Set(opts.wires ?? CORRELATED_WIRES);
    this._streamWires = new Set(opts.streamWires ?? STREAM_WIRES);
    this._maxThreads = opts.maxThreads ?? 16384;
    this._maxAgeNs = opts.maxContextAgeNs ?? 300e9;
    this._idleThreadNs = opts.idleThreadNs ?? 10e9;
  }

  get threadCount(): number {
    return this._threads.size;
  }

  get joinIndexSize(): number {
    return this._clients.size + this._servers.size;
  }

  /** the policy of a process (cached) */
  policy(pid: number): CorrelationPolicy {
    let p = this._policies.get(pid);
    if (p === undefined) {
      p = this._policyOf(pid);
      this._policies.set(pid, p);
    }
    return p;
  }

  /** set (or with undefined, re-ask `policyOf` for) the policy of a process, e.g. when a provider attaches */
  setPolicy(pid: number, policy: CorrelationPolicy | undefined): void {
    if (policy === undefined) this._policies.delete(pid);
    else this._policies.set(pid, policy);
  }

  requestStart(conn: CorrelatedConn, tid: number, tsNs: number, head: Buffer, wire?: WireCtx): SpanCtx | undefined {
    if (conn.wire === undefined || !this._wires.has(conn.wire)) return undefined;
    const cs = this._conn(conn);
    // propagation `tcp`: the kernel decided the ids at the request's start and (client) sent them: adopt them
    const ctx = new SpanCtx(this._ids, undefined, wire?.spanId);
    if (wire !== undefined) ctx.setOwnTrace(wire.traceId);
    const paired = conn.role === 'server' ? this._serverStart(conn, cs, ctx, tid, tsNs, head, wire) : this._clientStart(conn, cs, ctx, tid, tsNs, wire);
    if (!paired) {
      // wait for the other end of the connection (if it is on this host) while the request is in flight
      if (cs.unjoined.length >= MAX_QUEUE) cs.unjoined.shift();
      cs.unjoined.push(ctx);
    }
    return ctx;
  }

  responseStart(conn: CorrelatedConn, tid: number, tsNs: number): void {
    const cs = this._state.get(conn);
    if (cs === undefined) {
      this._touch(conn, tid);
      return;
    }
    cs.unjoined.length = 0; // answered: no longer waiting for the other end
    if (conn.role === 'server') this._serverEnd(conn, cs, tsNs);
    this._touch(conn, tid);
  }

  segment(conn: CorrelatedConn, tid: number): void {
    this._touch(conn, tid);
  }

  connected(conn: CorrelatedConn, tid: number, tsNs: number): void {
    const t = this._threads.get(key(conn.pid, tid));
    if (t === undefined || t.marker === undefined) return;
    // event policy: a connect right after a downstream read is that request's upstream
    this._conn(conn).pendingParent = t.marker;
    t.marker = undefined;
    t.markerConn = undefined;
    t.lastNs = tsNs;
  }

  closed(conn: CorrelatedConn, tsNs: number): void {
    const cs = this._state.get(conn);
    if (cs === undefined) return;
    if (cs.openStreams !== undefined) for (const sid of [...cs.openStreams]) this._streamClosed(conn, cs, sid, tsNs);
    cs.streams?.clear();
    if (conn.role === 'server') this._serverEnd(conn, cs, tsNs);
    if (cs.joinKey !== undefined) {
      const index = conn.role === 'server' ? this._servers : this._clients;
      if (index.get(cs.joinKey) === conn) index.delete(cs.joinKey);
    }
    cs.unjoined.length = 0;
    cs.pendingParent = undefined;
    this._state.delete(conn);
  }

  /**
   * Multiplexed (HTTP/2): stream `sid` of `conn` starts. Its ids are decided now; the server
   * stream is joined to the client stream with the same id on the same connection (4-tuple),
   * whichever end is seen first, unless its request carries a `traceparent`, which wins.
   */
  streamStart(conn: CorrelatedConn, sid: number, tid: number, tsNs: number, traceparent: string | undefined, wire?: WireCtx): SpanCtx | undefined {
    if (conn.wire === undefined || !this._streamWires.has(conn.wire)) return undefined;
    const cs = this._conn(conn);
    // propagation `headers`: the kernel decided a client stream's ids and sent them in its HEADERS: adopt them
    const ctx = new SpanCtx(this._ids, undefined, wire?.spanId);
    if (wire !== undefined) ctx.setOwnTrace(wire.traceId);
    const peer = (conn.role === 'server' ? this._clients : this._servers).get(cs.joinKey!);
    const pcs = peer === undefined ? undefined : this._state.get(peer);
    const other = pcs?.streams?.get(sid);
    if (other !== undefined) pcs!.streams!.delete(sid);
    if (conn.role === 'server') {
      const tp = parseTraceparent(traceparent);
      if (tp !== undefined) {
        ctx.continueRemote(tp.traceId, tp.parentId, tp.flags);
        this.counters.remoteParents++;
      } else if (other !== undefined) this._join(ctx, other, peer!);
      this._serverStream(conn, cs, sid, ctx, tid, tsNs);
    } else {
      this._clientParent(conn, cs, ctx, tid, tsNs, wire);
      if (other !== undefined && other.isRoot) this._join(other, ctx, conn); // else it continued a traceparent: paired, not linked
    }
    if (other === undefined) {
      // wait for the other end of the connection (if it is on this host) until the stream's record
      const streams = (cs.streams ??= new Map());
      if (streams.size >= MAX_STREAMS) {
        const oldest = streams.keys().next().value;
        if (oldest !== undefined) streams.delete(oldest);
      }
      streams.set(sid, ctx);
    }
    return ctx;
  }

  /** Multiplexed: the first response headers of stream `sid` (a server stream's handling is over). */
  streamResponse(conn: CorrelatedConn, sid: number, tid: number, tsNs: number): void {
    const cs = this._state.get(conn);
    if (cs !== undefined && conn.role === 'server') this._streamClosed(conn, cs, sid, tsNs);
    this._touch(conn, tid);
  }

  /** Multiplexed: the record of stream `sid` was handed on; too late to pair it. */
  streamEnd(conn: CorrelatedConn, sid: number, tsNs: number): void {
    const cs = this._state.get(conn);
    if (cs === undefined) return;
    cs.streams?.delete(sid);
    if (conn.role === 'server') this._streamClosed(conn, cs, sid, tsNs);
  }

  /**
   * A server stream starts. Under the `event` policy (nginx) the stream is the thread's marker
   * only while it is the one stream open on its connection: a second stream started before the
   * first one's response makes the upstream of either ambiguous. Under the `thread` policy no
   * context: no thread-per-request runtime handles HTTP/2 streams on the thread that reads them
   * (docs/devdocs/correlation.md); the process's client calls meanwhile are counted.
   */
  private _serverStream(conn: CorrelatedConn, cs: ConnState, sid: number, ctx: SpanCtx, tid: number, tsNs: number): void {
    const open = (cs.openStreams ??= new Set());
    if (open.has(sid)) return;
    open.add(sid);
    const policy = this.policy(conn.pid);
    switch (policy.kind) {
      case 'thread':
        this._muxOpen.set(conn.pid, (this._muxOpen.get(conn.pid) ?? 0) + 1);
        break;
      case 'event': {
        const t = this._thread(conn.pid, tid, tsNs);
        this._touch(conn, tid);
        cs.thread = t;
        cs.threadKey = key(conn.pid, tid);
        if (!t.open.includes(conn)) t.open.push(conn);
        if (open.size === 1) {
          t.marker = ctx;
          t.markerConn = conn;
        } else if (t.markerConn === conn) {
          t.marker = undefined;
          t.markerConn = undefined;
        }
        break;
      }
      case 'custom': // the Node.js provider sees http.server requests only: its h2 streams are not its
      case 'unlinked':
        break;
    }
  }

  /** a server stream's response started, its record was handed on, or its connection closed */
  private _streamClosed(conn: CorrelatedConn, cs: ConnState, sid: number, tsNs: number): void {
    const open = cs.openStreams;
    if (open === undefined || !open.delete(sid)) return;
    const policy = this.policy(conn.pid);
    if (policy.kind === 'thread') {
      const n = (this._muxOpen.get(conn.pid) ?? 1) - 1;
      if (n <= 0) this._muxOpen.delete(conn.pid);
      else this._muxOpen.set(conn.pid, n);
      return;
    }
    const t = cs.thread;
    if (t === undefined) return;
    if (open.size === 0) this._serverEnd(conn, cs, tsNs);
    else if (t.markerConn === conn) {
      // the marker was this stream's or was already cleared as ambiguous
      t.marker = undefined;
      t.markerConn = undefined;
    }
  }

  /** A thread `childTid` was created by thread `parentTid` of `pid`: it inherits the parent's context while that lasts. */
  threadCreated(pid: number, parentTid: number, childTid: number, tsNs: number): void {
    const parent = this._threads.get(key(pid, parentTid));
    if (parent === undefined || parent.active === undefined || parent.poisoned) return;
    const child = this._thread(pid, childTid, tsNs);
    child.inheritedFrom = parent;
    child.inheritedCtx = parent.active;
    this.counters.threadsInherited++;
  }

  /** The process is gone: forget its threads and its policy. */
  forgetPid(pid: number): void {
    this._policies.delete(pid);
    this._muxOpen.delete(pid);
    const lo = pid * TID_SPACE;
    for (const k of this._threads.keys()) if (k >= lo && k < lo + TID_SPACE) this._threads.delete(k);
  }

  /**
   * End thread contexts idle since before `nowNs - maxContextAge`, and forget idle thread states
   * (no request open, no marker, nothing inherited: they say nothing a missing one does not) not
   * touched for `idleThreadNs` (call from a sweep). A thread-per-request server (Python's
   * ThreadingHTTPServer) makes a thread per connection and the kernel reports only process exits,
   * so these would pile up to the cap (issue 14); forgetting them at each response instead cost a
   * new state per request on busy threads (nginx: agent RSS under load 150 -> 172 MB in make bench).
   */
  expire(nowNs: number): void {
    const limit = nowNs - this._maxAgeNs;
    const idle = nowNs - this._idleThreadNs;
    for (const [k, t] of this._threads) {
      if (t.lastNs < limit) {
        this._threads.delete(k);
        if (t.active !== undefined) this.counters.contextsExpired++;
      } else if (t.lastNs < idle && t.open.length === 0 && t.marker === undefined && t.inheritedFrom === undefined) this._threads.delete(k);
    }
  }

  private _count(reason: UnlinkedReason): void {
    this.unlinked.set(reason, (this.unlinked.get(reason) ?? 0) + 1);
  }

  private _conn(conn: CorrelatedConn): ConnState {
    let cs = this._state.get(conn);
    if (cs === undefined) {
      cs = { thread: undefined, threadKey: 0, unjoined: [], pendingParent: undefined, joinKey: undefined, current: undefined, streams: undefined, openStreams: undefined };
      this._state.set(conn, cs);
      // both ends: a client's local end is its server's remote end
      cs.joinKey = conn.role === 'client' ? `${conn.localKey}>${conn.remoteKey}` : `${conn.remoteKey}>${conn.localKey}`;
      (conn.role === 'client' ? this._clients : this._servers).set(cs.joinKey, conn);
    }
    return cs;
  }

  private _thread(pid: number, tid: number, tsNs: number): ThreadState {
    const k = key(pid, tid);
    let t = this._threads.get(k);
    if (t === undefined) {
      if (this._threads.size >= this._maxThreads) {
        const oldest = this._threads.keys().next().value;
        if (oldest !== undefined) this._threads.delete(oldest);
        this.counters.threadsEvicted++;
      }
      t = { lastNs: tsNs, active: undefined, open: [], poisoned: false, marker: undefined, markerConn: undefined, inheritedFrom: undefined, inheritedCtx: undefined };
      this._threads.set(k, t);
    }
    t.lastNs = tsNs;
    return t;
  }

  /** event policy: a socket event of the thread on another connection than the marker's clears the marker */
  private _touch(conn: CorrelatedConn, tid: number): void {
    const t = this._threads.get(key(conn.pid, tid));
    if (t !== undefined && t.marker !== undefined && t.markerConn !== conn) {
      t.marker = undefined;
      t.markerConn = undefined;
    }
  }

  /** true when paired with the client end of the connection */
  private _serverStart(conn: CorrelatedConn, cs: ConnState, ctx: SpanCtx, tid: number, tsNs: number, head: Buffer, wire: WireCtx | undefined): boolean {
    // precedence (docs/devdocs/propagation.md): a received TCP option (the kernel already gave its
    // trace to this request's children on the wire), then an incoming traceparent, then the client
    // end of this connection if on this host
    const client = this._clients.get(cs.joinKey!);
    const ccs = client === undefined ? undefined : this._state.get(client);
    const parent = ccs?.unjoined.shift();
    if (wire?.remote === true && wire.parentId !== undefined) {
      if (parent !== undefined && parent.spanId === wire.parentId) this._join(ctx, parent, client!); // the option came from that client
      else {
        ctx.continueRemote(wire.traceId, wire.parentId, 1);
        this.counters.optionParents++;
      }
    } else {
      const tp = conn.wire === 'http1' ? peekTraceparent(head) : undefined;
      if (tp !== undefined) {
        ctx.continueRemote(tp.traceId, tp.parentId, tp.flags);
        this.counters.remoteParents++;
      } else if (parent !== undefined) this._join(ctx, parent, client!);
    }
    const policy = this.policy(conn.pid);
    const t = this._thread(conn.pid, tid, tsNs);
    this._touch(conn, tid);
    cs.thread = t;
    cs.threadKey = key(conn.pid, tid);
    cs.current = ctx;
    switch (policy.kind) {
      case 'thread':
        if (!t.open.includes(conn)) t.open.push(conn);
        if (t.open.length > 1) t.poisoned = true;
        t.active = ctx;
        break;
      case 'event':
        if (!t.open.includes(conn)) t.open.push(conn);
        t.marker = ctx;
        t.markerConn = conn;
        break;
      case 'custom':
        policy.provider.serverStart?.(conn.pid, tid, tsNs, ctx, conn);
        break;
      case 'unlinked':
        break;
    }
    return parent !== undefined;
  }

  private _serverEnd(conn: CorrelatedConn, cs: ConnState, tsNs: number): void {
    const t = cs.thread;
    if (t === undefined) return;
    cs.thread = undefined;
    const policy = this.policy(conn.pid);
    if (policy.kind === 'custom' && cs.current !== undefined) policy.provider.serverEnd?.(conn.pid, cs.threadKey % TID_SPACE, tsNs, cs.current, conn);
    cs.current = undefined;
    const i = t.open.indexOf(conn);
    if (i >= 0) t.open.splice(i, 1);
    if (t.open.length === 0) {
      t.active = undefined;
      t.poisoned = false;
    }
    if (t.markerConn === conn) {
      t.marker = undefined;
      t.markerConn = undefined;
    }
  }

  /** true when paired with the server end of the connection */
  private _clientStart(conn: CorrelatedConn, cs: ConnState, ctx: SpanCtx, tid: number, tsNs: number, wire: WireCtx | undefined): boolean {
    this._clientParent(conn, cs, ctx, tid, tsNs, wire);
    // the server end of this connection may have started first (its read seen before our write)
    const server = this._servers.get(cs.joinKey!);
    const scs = server === undefined ? undefined : this._state.get(server);
    const s = scs?.unjoined.shift();
    if (s === undefined) return false;
    // else it continued an incoming traceparent or another sender's option: paired, not linked
    if (s.isRoot || (s.remoteParentId === ctx.spanId && s.parent === undefined)) this._join(s, ctx, conn);
    return true;
  }

  /** a client request's (or stream's) parent, by the process's policy, unless the ids it sent say otherwise */
  private _clientParent(conn: CorrelatedConn, cs: ConnState, ctx: SpanCtx, tid: number, tsNs: number, wire: WireCtx | undefined): void {
    const parent = this._parentOf(conn, cs, tid, tsNs);
    if (parent !== undefined && wire !== undefined && parent.traceId !== wire.traceId) {
      // the wire wins: the request already left carrying the kernel's trace id
      this._count('wire_mismatch');
    } else if (parent !== undefined) {
      ctx.parent = parent;
      this.counters.linkedClients++;
    } else if (wire?.inherited === true) {
      // user space found no parent but the kernel gave the request its thread's server request (same trace on the wire)
      ctx.remoteParentId = wire.parentId;
      this.counters.wireParents++;
    } else {
      const policy = this.policy(conn.pid);
      if (policy.kind === 'custom' && policy.provider.defers === true) ctx.pending = true;
    }
  }

  private _join(server: SpanCtx, client: SpanCtx, clientConn: CorrelatedConn): void {
    server.parent = client;
    server.peerService = this._serviceOf?.(clientConn.pid);
    this.counters.joinedServers++;
  }

  private _parentOf(conn: CorrelatedConn, cs: ConnState, tid: number, tsNs: number): SpanCtx | undefined {
    const policy = this.policy(conn.pid);
    switch (policy.kind) {
      case 'unlinked':
        this._count(policy.reason);
        return undefined;
      case 'custom': {
        const r = policy.provider.parentOf(conn.pid, tid, tsNs, conn);
        if (typeof r === 'string') {
          this._count(r);
          return undefined;
        }
        return r;
      }
      case 'event': {
        if (cs.pendingParent !== undefined) {
          const p = cs.pendingParent;
          cs.pendingParent = undefined;
          return p;
        }
        const t = this._threads.get(key(conn.pid, tid));
        if (t === undefined) return undefined;
        t.lastNs = tsNs;
        if (t.marker !== undefined) {
          const p = t.marker;
          t.marker = undefined;
          t.markerConn = undefined;
          return p;
        }
        if (t.open.length > 0) this._count('ambiguous');
        return undefined;
      }
      case 'thread': {
        const t = this._threads.get(key(conn.pid, tid));
        if (t === undefined) {
          if (this._muxOpen.has(conn.pid)) this._count('multiplexed_server');
          return undefined;
        }
        t.lastNs = tsNs;
        if (t.poisoned) {
          this._count('overlap');
          return undefined;
        }
        if (t.active !== undefined) return t.active;
        const from = t.inheritedFrom;
        if (from !== undefined) {
          if (from.active === t.inheritedCtx && !from.poisoned) return t.inheritedCtx;
          t.inheritedFrom = undefined;
          t.inheritedCtx = undefined;
        }
        if (this._muxOpen.has(conn.pid)) this._count('multiplexed_server');
        return undefined;
      }
    }
  }
}

function key(pid: number, tid: number): number {
  return pid * TID_SPACE + tid;
}

/**
 * The correlator's self-metrics: `obi_unlinked_client_spans_total{reason}` and
 * `obi_correlated_spans_total{link}` (`thread_parent`: a client span given its server span as
 * parent; `connection_join`: a server span given the client span at the other end of its
 * connection on this host; `remote_parent`: a server span continuing an incoming traceparent).
 */
export class CorrelationMetrics {
  private readonly _unlinked: CounterVec;
  private readonly _linked: CounterVec;
  private readonly _seen = new Map<string, number>();

  constructor(store: MetricStore, prefix = 'obi') {
    this._unlinked = new CounterVec({
      name: `${prefix}.unlinked.client.spans`,
      help: 'Client spans not linked to a server span of their process because no sound link exists, by reason (go_runtime: every client span of a Go process; event_loop; overlap; ambiguous; wire_mismatch)',
      labelNames: ['reason'],
      index: new SeriesIndex(1),
    }).registerIn(store);
    this._linked = new CounterVec({
      name: `${prefix}.correlated.spans`,
      help: 'Spans given a parent at their start, by link (thread_parent, connection_join, remote_parent: an incoming traceparent, tcp_option: a received TCP option, wire_parent: the thread parent the kernel chose)',
      labelNames: ['link'],
      index: new SeriesIndex(1),
    }).registerIn(store);
  }

  /** add what `c` counted since the last call (once per batch) */
  update(c: Correlator): void {
    for (const [reason, n] of c.unlinked) this._add(this._unlinked, reason, n);
    this._add(this._linked, 'thread_parent', c.counters.linkedClients);
    this._add(this._linked, 'connection_join', c.counters.joinedServers);
    this._add(this._linked, 'remote_parent', c.counters.remoteParents);
    this._add(this._linked, 'tcp_option', c.counters.optionParents);
    this._add(this._linked, 'wire_parent', c.counters.wireParents);
  }

  private _add(vec: CounterVec, label: string, total: number): void {
    const k = `${vec === this._linked ? 'l' : 'u'}:${label}`;
    const before = this._seen.get(k) ?? 0;
    if (total > before) vec.inc(vec.index.id([label]), total - before);
    this._seen.set(k, total);
  }
}
