/**
 * Span contexts decided when a request STARTS (shared vocabulary between ingest, which sees the
 * first bytes of a request, and telemetry, which builds the span when the record completes).
 * See docs/devdocs/correlation.md.
 *
 * A child (a client call made while serving a request) completes before its parent, so the ids
 * of both are decided at request start and carried to the record-to-span step. The trace id is
 * resolved through the parent when it is read: a later join (both ends of one connection seen on
 * this host) may give a server span its parent after its own children were linked to it.
 */
import type { ServiceIdentity } from './service.ts';

/** Where the ids of one span come from. */
export interface TraceIds {
  /** 32 lowercase hex digits, not all zero */
  traceId(): string;
  /** 16 lowercase hex digits, not all zero */
  spanId(): string;
}

/**
 * The ids the kernel decided at a request's start when context propagation `tcp` is on
 * (bpf/probes/propagation.h, docs/devdocs/propagation.md): what the client sent in its TCP option,
 * or what the server received (or drew). Hex, as exported.
 */
export interface WireCtx {
  readonly traceId: string;
  readonly spanId: string;
  /** the parent span id the kernel knows: the option's span (server, `remote`) or the thread's server span (client, `inherited`) */
  readonly parentId: string | undefined;
  /** server: trace id and parent came from a received TCP option */
  readonly remote: boolean;
  /** client: trace id and parent came from the server request the thread serves */
  readonly inherited: boolean;
}

/** The ids of one span, decided at the start of its request. */
export class SpanCtx {
  readonly spanId: string;
  /** the local parent (a server span for a client call, the client span for a joined server span) */
  parent: SpanCtx | undefined;
  /** a remote parent (an incoming `traceparent`): its span id, trace id and flags */
  remoteParentId: string | undefined;
  /** the service of the parent span, when it is a client span on this host (service graph edge) */
  peerService: ServiceIdentity | undefined;
  /**
   * A provider (the Node.js context linker) names this client's parent after the request
   * started: until it settles, spans under this ctx must not take their trace id (the linker holds them).
   */
  pending = false;
  private _traceId: string | undefined;
  private _flags: number;
  private readonly _ids: TraceIds;

  constructor(ids: TraceIds, parent?: SpanCtx, spanId?: string) {
    this._ids = ids;
    this.spanId = spanId ?? ids.spanId();
    this.parent = parent;
    this._flags = 1;
  }

  /**
   * A ctx standing for a span already exported, by its ids alone (a client linked to it late:
   * telemetry/passed-servers.ts); spans joined under it take its trace id and flags.
   */
  static passed(traceId: string, spanId: string, flags: number): SpanCtx {
    const c = new SpanCtx({ traceId: () => traceId, spanId: () => spanId }, undefined, spanId);
    c._traceId = traceId;
    c._flags = flags;
    return c;
  }

  /** the trace id: the root's (drawn once, lazily) */
  get traceId(): string {
    // iterative: joined chains on one host may be a few hops long
    let c: SpanCtx = this;
    for (let hops = 0; c.parent !== undefined && hops < 64; hops++) c = c.parent;
    return (c._traceId ??= c._ids.traceId());
  }

  get parentSpanId(): string | undefined {
    return this.parent !== undefined ? this.parent.spanId : this.remoteParentId;
  }

  get traceFlags(): number {
    let c: SpanCtx = this;
    for (let hops = 0; c.parent !== undefined && hops < 64; hops++) c = c.parent;
    return c._flags;
  }

  /** continue a remote trace (an incoming `traceparent`); drops a local parent */
  continueRemote(traceId: string, parentId: string, flags: number): void {
    this.parent = undefined;
    this._traceId = traceId;
    this.remoteParentId = parentId;
    this._flags = flags;
  }

  /** the trace id this span has while it has no local parent (the kernel's, from the wire) */
  setOwnTrace(traceId: string): void {
    this._traceId = traceId;
  }

  /** true when no ctx on the way to the root waits for a provider: the trace id read now is final */
  get settled(): boolean {
    let c: SpanCtx | undefined = this;
    for (let hops = 0; c !== undefined && hops < 64; hops++, c = c.parent) if (c.pending) return false;
    return true;
  }

  /** the provider's decision for a pending ctx: its parent, or none; false (and nothing changed) when not pending */
  settle(parent?: SpanCtx): boolean {
    if (!this.pending) return false;
    this.pending = false;
    if (parent !== undefined && parent !== this) this.parent = parent;
    return true;
  }

  /** a root with no remote parent yet (nothing decided about it but its span id) */
  get isRoot(): boolean {
    return this.parent === undefined && this.remoteParentId === undefined;
  }
}

/** What ingest tells the correlator about a connection (stable for the connection's life). */
export interface CorrelatedConn {
  readonly pid: number;
  readonly role: 'server' | 'client';
  /** `ip:port` of the local end, as the kernel gave it (IPv4-mapped IPv6 bytes in hex) */
  readonly localKey: string;
  readonly remoteKey: string;
  /** the descriptor's wire protocol (`http1`, `redis`, ...) once detected */
  wire: string | undefined;
}

/**
 * The hook ingest calls (src/ingest/connections.ts); implemented by src/telemetry/correlate.ts.
 * All timestamps are the events' monotonic ns; nothing here may do I/O or start timers.
 */
export interface RequestCorrelator {
  /**
   * The first bytes of a new request on `conn` (request direction, first segment after a
   * response or at the start of the connection), on thread `tid`; `head` is the captured prefix.
   * `wire`: the ids the kernel decided for this request (propagation `tcp`), which the span must carry.
   * Returns the span's ids, or undefined when the protocol is not correlated (multiplexed).
   */
  requestStart(conn: CorrelatedConn, tid: number, tsNs: number, head: Buffer, wire?: WireCtx): SpanCtx | undefined;
  /** The first bytes of the response to the request(s) in flight on `conn`, on thread `tid`. */
  responseStart(conn: CorrelatedConn, tid: number, tsNs: number): void;
  /** Any other segment on `conn` (the rest of a request or response), on thread `tid`. */
  segment(conn: CorrelatedConn, tid: number): void;
  /** `connect()` of a new client connection on thread `tid`. */
  connected(conn: CorrelatedConn, tid: number, tsNs: number): void;
  /** The connection is gone (close, eviction, process exit, idle). */
  closed(conn: CorrelatedConn, tsNs: number): void;
  /**
   * Multiplexed protocols (HTTP/2): stream `streamId` of `conn` starts (its request headers were
   * read or written on thread `tid`), with the request's `traceparent` if any. Returns the span's
   * ids, or undefined when the protocol is not correlated.
   */
  streamStart?(conn: CorrelatedConn, streamId: number, tid: number, tsNs: number, traceparent: string | undefined, wire?: WireCtx): SpanCtx | undefined;
  /** The first response headers of stream `streamId` of `conn`, on thread `tid`. */
  streamResponse?(conn: CorrelatedConn, streamId: number, tid: number, tsNs: number): void;
  /** The record of stream `streamId` of `conn` was handed on (its span is built). */
  streamEnd?(conn: CorrelatedConn, streamId: number, tsNs: number): void;
}
