// Over 400 lines: one connection table with its role inference, TLS pairing hooks, correlation hook and flush paths, kept together.
/**
 * Per-connection byte streams: routes data events of one (pid, socket) to the
 * protocol session that owns it, decides the role of connections that predate
 * the agent, and flushes sessions on close, process exit and idle expiry.
 * Bounded: a cap on tracked connections (oldest evicted, counted).
 */
import { OBI_AF_UNIX, ObiCtxFlags, ObiDataFlags, ObiDirection, ObiRole, type ObiConnEvent, type ObiDataEvent, type ObiStreamEvent } from '../abi/events.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { RequestCorrelator, SpanCtx } from '../common/trace.ts';
import type { FrameTiming, MessageType } from '../protocols/common/contract.ts';
import type { ProtocolConn } from '../protocols/common/descriptor.ts';
import type { ProtocolRecord } from '../protocols/common/records.ts';
import { addSessionCounters as addCounters, ProtocolSession, type SessionCounters } from '../protocols/common/session.ts';
import { bindProtocols, type BoundProtocol } from '../protocols/registry.ts';
import { contextOf, correlateSegment, correlateStreams, correlateWireStream, correlationState, enableStreams, type CorrelationState, type RecordIds } from './correlation.ts';
import { formatAddress } from './decode.ts';
import { HeldPlaintext, Lingering } from './tls-pairing.ts';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySession = ProtocolSession<FrameTiming, FrameTiming, ProtocolRecord, any>;
/** data segments inspected before a connection of no known protocol is ignored */
const DETECT_SEGMENTS = 8;

/**
 * Both ends of a connection. A unix stream socket (family OBI_AF_UNIX, reported only when it
 * carries FastCGI: bpf/probes/sock_io.h) holds the kernel addresses of its own and its peer's
 * socket as addresses (so both ends give the same correlation key) and its path in `unixPath`.
 */
interface ConnTuple {
  localAddr: Uint8Array;
  remoteAddr: Uint8Array;
  localPort: number;
  remotePort: number;
  family: number;
  unixPath?: string;
}

function tupleOf(ev: ObiConnEvent | ObiDataEvent, unixPath?: string): ConnTuple {
  const t: ConnTuple = {
    localAddr: Uint8Array.from(ev.tupleLocalAddr),
    remoteAddr: Uint8Array.from(ev.tupleRemoteAddr),
    localPort: ev.tupleLocalPort,
    remotePort: ev.tupleRemotePort,
    family: ev.tupleFamily,
  };
  if (ev.tupleFamily === OBI_AF_UNIX) t.unixPath = unixPath ?? '';
  return t;
}

interface Conn {
  readonly pid: number;
  readonly sockId: bigint;
  role: 'server' | 'client' | 'unknown';
  state: 'detecting' | 'parsing' | 'ignored';
  detectTries: number;
  session?: AnySession;
  bound?: BoundProtocol;
  /** the connection as records are handed on: set at its first record whose process is known */
  pc?: ProtocolConn;
  tid: number;
  /** the process's fd of the socket (the kernel's `conns` key, with pid) */
  fd: number;
  lastNs: number;
  tuple: ConnTuple;
  tls: boolean;
  /** the TLS session (SSL*) whose plaintext this connection carries */
  sslId?: bigint;
  corr?: CorrelationState; // ingest/correlation.ts
  /** the kernel's ids carried by the last socket-level (ciphertext) record: the ids of a TLS plaintext
   * record that reached user space without its socket (paired late) */
  rawIds?: RecordIds;
}

export interface ConnectionCounters {
  connectionsOpened: number;
  connectionsEvicted: number;
  connectionsExpired: number;
  ignoredConnections: number;
  /** segments received for connections already marked ignored */
  ignoredSegments: number;
  /** encrypted socket segments of connections whose plaintext comes from a TLS library (ignored) */
  tlsRawSegments: number;
  /** TLS plaintext segments held until their session's socket was known, then replayed */
  tlsPairedLate: number;
  /** TLS plaintext segments whose socket never became known (limits, session or process gone) */
  tlsUnpairedDropped: number;
  /** TLS plaintext read after its session's shutdown or socket close, fed to the session's connection */
  tlsLate: number;
  /** records dropped because their process had no service identity (no longer selected) */
  unidentifiedRecords: number;
  /** unrecognized connections the kernel was told to stop capturing (`onIgnored` said so) */
  mutedConnections: number;
}

export interface ConnectionTrackerOptions {
  /** where each completed record (an exchange, an operation) goes, with its connection */
  sink(record: ProtocolRecord, conn: ProtocolConn, ctx?: SpanCtx): void;
  /** decides span ids at request start and links them (src/telemetry/correlate.ts); none: ids at completion */
  correlator?: RequestCorrelator;
  /** the service identity of a process (asked once per connection); undefined drops the records, counted */
  identify(pid: number): ServiceIdentity | undefined;
  /** `n` records of `pid` dropped for want of an identity (also counted in `unidentifiedRecords`) */
  onUnidentified?(pid: number, n: number): void;
  /**
   * No protocol recognised the connection's first segments: what comes next of it is ignored. True
   * when the kernel was told to stop capturing its socket I/O (counted in `mutedConnections`).
   */
  onIgnored?(pid: number, fd: number, sockId: bigint): boolean;
  /** protocols tried, in order; default the registry's with their default settings */
  protocols?: readonly BoundProtocol[];
  maxConnections?: number;
  /** a connection with no event for this long is flushed and forgotten */
  idleTimeoutNs?: number;
}

export class ConnectionTracker {
  readonly counters: ConnectionCounters = {
    connectionsOpened: 0,
    connectionsEvicted: 0,
    connectionsExpired: 0,
    ignoredConnections: 0,
    ignoredSegments: 0,
    tlsRawSegments: 0,
    tlsPairedLate: 0,
    tlsUnpairedDropped: 0,
    tlsLate: 0,
    unidentifiedRecords: 0,
    mutedConnections: 0,
  };
  /** closed TLS connections with requests unanswered, waiting for plaintext decrypted after the close */
  private readonly _lingering = new Lingering<Conn>((c, ts) => {
    if (c.session) this._closeSession(c, ts);
  });
  /** plaintext held until a record of its session names its socket */
  private readonly _held = new HeldPlaintext();
  /** parser counters of closed sessions, per wire protocol */
  private readonly _closedParserTotals = new Map<string, SessionCounters>();
  private readonly _byPid = new Map<number, Map<bigint, Conn>>();
  /** every tracked connection, in creation order: the eviction order when the cap is reached */
  private readonly _all = new Set<Conn>();
  private readonly _sink: ConnectionTrackerOptions['sink'];
  private readonly _identify: ConnectionTrackerOptions['identify'];
  private readonly _onUnidentified: ConnectionTrackerOptions['onUnidentified'];
  private readonly _onIgnored: ConnectionTrackerOptions['onIgnored'];
  private readonly _protocols: readonly BoundProtocol[];
  private readonly _max: number;
  private readonly _idleNs: number;
  private readonly _corr: RequestCorrelator | undefined;

  constructor(opts: ConnectionTrackerOptions) {
    this._corr = opts.correlator;
    this._sink = opts.sink;
    this._identify = opts.identify;
    this._onUnidentified = opts.onUnidentified;
    this._onIgnored = opts.onIgnored;
    this._protocols = opts.protocols ?? bindProtocols();
    this._max = opts.maxConnections ?? 65536;
    this._idleNs = opts.idleTimeoutNs ?? 5 * 60e9;
  }

  /** the processes holding connections here (tests: exited processes leave none) */
  get pids(): number[] {
    return [...this._byPid.keys()];
  }

  get size(): number {
    return this._all.size;
  }

  private _get(pid: number, sockId: bigint, create: boolean, tuple?: Conn['tuple'], ts = 0): Conn | undefined {
    let m = this._byPid.get(pid);
    let c = m?.get(sockId);
    if (c || !create) return c;
    if (this._all.size >= this._max) {
      this._evictOldest();
      m = this._byPid.get(pid); // the eviction may have emptied and dropped this pid's map
    }
    if (!m) {
      m = new Map();
      this._byPid.set(pid, m);
    }
    c = {
      pid,
      sockId,
      role: 'unknown',
      state: 'detecting',
      detectTries: 0,
      tid: 0,
      fd: -1,
      lastNs: ts,
      tuple: tuple!,
      tls: false,
    };
    m.set(sockId, c);
    this._all.add(c);
    this.counters.connectionsOpened++;
    return c;
  }

  /** O(1): the connection created first goes (counted) */
  private _evictOldest(): void {
    const oldest = this._all.values().next().value;
    if (oldest) {
      this._finish(oldest, oldest.lastNs);
      this.counters.connectionsEvicted++;
    }
  }

  /** accept/connect: the role is known from the syscall */
  onConn(ev: ObiConnEvent): void {
    const tuple = tupleOf(ev, ev.unixPath);
    const prev = this._get(ev.hdrPid, ev.sockId, false);
    if (prev) this._finish(prev, ev.hdrTsNs); // a socket address reused: the old connection is over
    const c = this._get(ev.hdrPid, ev.sockId, true, tuple, ev.hdrTsNs)!;
    c.role = ev.role === ObiRole.OBI_ROLE_SERVER ? 'server' : ev.role === ObiRole.OBI_ROLE_CLIENT ? 'client' : 'unknown';
    c.tid = ev.tid;
    c.fd = ev.fd;
    if (this._corr !== undefined && c.role === 'client') this._corr.connected(correlationState(c).conn, ev.tid, ev.hdrTsNs);
  }

  /** `headers`: the ids the kernel gave an HTTP/2 client stream of a connection (its HEADERS not parsed yet) */
  onStream(ev: ObiStreamEvent): void {
    const c = this._get(ev.hdrPid, ev.sockId, false);
    if (c === undefined || this._corr === undefined) return;
    correlateWireStream(c, ev.streamId, ev);
  }

  onData(ev: ObiDataEvent, payload: Buffer): void {
    if (this._lingering.size > 0) this._lingering.expire(ev.hdrTsNs);
    const tls = (ev.flags & ObiDataFlags.OBI_DATA_TLS) !== 0;
    if (tls && ev.sockId === 0n) {
      if (ev.direction === ObiDirection.OBI_DIR_INGRESS && this._late(ev, payload)) return;
      this._held.hold(ev.hdrPid, ev.sslId, { ingress: ev.direction === ObiDirection.OBI_DIR_INGRESS, payload, len: ev.len, tsNs: ev.hdrTsNs });
      this.counters.tlsUnpairedDropped = this._held.dropped;
      return;
    }
    let c = this._get(ev.hdrPid, ev.sockId, false);
    if (!c) {
      c = this._get(ev.hdrPid, ev.sockId, true, tupleOf(ev), ev.hdrTsNs)!;
      if (ev.role === ObiRole.OBI_ROLE_SERVER) c.role = 'server';
      else if (ev.role === ObiRole.OBI_ROLE_CLIENT) c.role = 'client';
    }
    c.lastNs = ev.hdrTsNs;
    c.tid = ev.tid;
    c.fd = ev.fd;
    if (tls !== c.tls) {
      // a TLS connection: its socket bytes are ciphertext, the plaintext comes from the library uprobes
      if (!tls) {
        this.counters.tlsRawSegments++;
        keepRawIds(c, ev);
        return;
      }
      this._becomeTls(c);
    }
    if (tls) c.sslId = ev.sslId;
    if (tls && this._held.sessions > 0) this._replay(c, ev.hdrPid, ev.sslId);
    this._feed(c, ev.direction === ObiDirection.OBI_DIR_INGRESS, payload, ev.len, ev.flags, ev.hdrTsNs, ev);
  }

  /** `ids`: the record, when it may carry the kernel's ids of its exchange (propagation `tcp`) */
  private _feed(c: Conn, ingress: boolean, payload: Buffer, len: number, flags: number, tsNs: number, ids?: RecordIds): void {
    if ((flags & ObiDataFlags.OBI_DATA_TLS) !== 0) {
      // TLS plaintext whose socket the kernel did not know yet carries no ids: the ciphertext before it did
      if (ids === undefined || (ids.ctxFlags & ObiCtxFlags.OBI_CTX_SET) === 0) ids = c.rawIds;
    } else if (c.state !== 'parsing' && ids !== undefined) keepRawIds(c, ids);
    if (c.state === 'ignored') {
      this.counters.ignoredSegments++;
      return;
    }
    if (c.state === 'detecting') {
      if (!this._detect(c, ingress, payload, len, flags)) return;
      if (this._corr !== undefined) enableStreams(c, c.session!.state);
    }
    const type: MessageType = (c.role === 'server') === ingress ? 'request' : 'response';
    if (this._corr !== undefined) correlateSegment(this._corr, c, type === 'request', payload, tsNs, ids);
    const records = c.session!.feed(type, payload, Math.max(len, payload.length), tsNs);
    if (this._corr !== undefined) correlateStreams(this._corr, c, c.session!.state);
    this._emit(c, records, tsNs);
  }

  /** what was seen of the connection so far was the TLS handshake and ciphertext: start over on plaintext */
  private _becomeTls(c: Conn): void {
    if (c.session !== undefined) addCounters(this._closedParserTotals, c.bound!.descriptor.wire, c.session.counters());
    c.tls = true;
    c.state = 'detecting';
    c.detectTries = 0;
    c.session = undefined;
    c.bound = undefined;
    c.pc = undefined;
  }

  /** a record of a session names its socket: feed what the session said before that first */
  private _replay(c: Conn, pid: number, sslId: bigint): void {
    const segs = this._held.take(pid, sslId);
    if (segs === undefined) return;
    for (const s of segs) {
      this.counters.tlsPairedLate++;
      this._feed(c, s.ingress, s.payload, s.len, ObiDataFlags.OBI_DATA_TLS, s.tsNs);
    }
  }

  private _detect(c: Conn, ingress: boolean, payload: Buffer, len: number, flags: number): boolean {
    if ((flags & ObiDataFlags.OBI_DATA_SENDFILE) === 0 && payload.length > 0) {
      const datagram = (flags & ObiDataFlags.OBI_DATA_UDP) !== 0;
      const length = Math.max(len, payload.length);
      for (const b of this._protocols) {
        if ((b.descriptor.datagram === true) !== datagram) continue;
        const isReq = b.descriptor.detect(payload, 'request', length);
        const isResp = !isReq && b.descriptor.detect(payload, 'response', length);
        if (!isReq && !isResp) continue;
        // a request read by us means we serve it; a request written means we are the client
        const role = c.role === 'unknown' ? (isReq === ingress ? 'server' : 'client') : c.role;
        const expected = (role === 'server') === ingress ? 'request' : 'response';
        if ((isReq && expected === 'request') || (isResp && expected === 'response')) {
          c.role = role;
          c.state = 'parsing';
          c.bound = b;
          c.session = new ProtocolSession(b.parser);
          return true;
        }
      }
    }
    if (++c.detectTries >= DETECT_SEGMENTS) {
      c.state = 'ignored';
      this.counters.ignoredConnections++;
      // the kernel need not copy what would be ignored here (bpf/abi/events.h, obi_conn_info.muted)
      if (c.fd >= 0 && this._onIgnored?.(c.pid, c.fd, c.sockId) === true) this.counters.mutedConnections++;
    }
    return false;
  }

  /** the connection as its records are handed on; identity resolved once, at its first record */
  private _protocolConn(c: Conn): ProtocolConn | undefined {
    if (c.pc !== undefined) return c.pc;
    const service = this._identify(c.pid);
    if (service === undefined) return undefined;
    const unixPath = c.tuple.unixPath;
    const info: ConnInfo = {
      pid: c.pid,
      tid: c.tid,
      role: c.role === 'client' ? 'client' : 'server',
      // a unix socket: both ends are named by its path (no port)
      localAddr: unixPath ?? formatAddress(c.tuple.localAddr),
      localPort: c.tuple.localPort,
      remoteAddr: unixPath ?? formatAddress(c.tuple.remoteAddr),
      remotePort: c.tuple.remotePort,
      tls: c.tls,
    };
    if (unixPath !== undefined) (info as { unixPath?: string }).unixPath = unixPath;
    c.pc = { info, service, descriptor: c.bound!.descriptor };
    return c.pc;
  }

  private _emit(c: Conn, records: readonly ProtocolRecord[], tsNs: number): void {
    if (records.length === 0) return;
    const pc = this._protocolConn(c);
    if (pc === undefined) {
      this.counters.unidentifiedRecords += records.length;
      this._onUnidentified?.(c.pid, records.length);
      return;
    }
    for (let i = 0; i < records.length; i++) this._sink(records[i], pc, contextOf(this._corr, c, records[i], c.session?.state, tsNs));
  }

  /** drop c from the indexes (its session, if any, is the caller's business) */
  private _forget(c: Conn, tsNs: number): void {
    if (c.corr !== undefined) this._corr?.closed(c.corr.conn, tsNs); // also for a lingering TLS connection
    const m = this._byPid.get(c.pid);
    m?.delete(c.sockId);
    if (m && m.size === 0) this._byPid.delete(c.pid);
    this._all.delete(c);
  }

  private _finish(c: Conn, tsNs: number): void {
    if (c.session) this._closeSession(c, tsNs);
    this._forget(c, tsNs);
  }

  /** close c's session: its last records go out, its counters into the totals */
  private _closeSession(c: Conn, tsNs: number): void {
    const session = c.session!;
    this._emit(c, session.close(tsNs), tsNs);
    addCounters(this._closedParserTotals, c.bound!.descriptor.wire, session.counters());
  }

  onClose(ev: ObiConnEvent): void {
    const c = this._get(ev.hdrPid, ev.sockId, false);
    if (!c) return;
    if (c.tls && c.sslId !== undefined && c.session !== undefined && c.session.pendingRequests > 0) {
      // a TLS connection closed with requests unanswered: forget its socket, keep its session a moment
      this._forget(c, ev.hdrTsNs);
      this._lingering.add(c.pid, c.sslId, c, ev.hdrTsNs);
    } else this._finish(c, ev.hdrTsNs);
  }

  /**
   * Plaintext read whose socket the kernel no longer names (after SSL_shutdown, or after close):
   * feed it to the connection of its session, open or lingering; true when there is one.
   * Only reads: a session's first writes (memory BIO) have no socket yet either, and the
   * address of a freed SSL* may be a new session's.
   */
  private _late(ev: ObiDataEvent, payload: Buffer): boolean {
    const m = this._byPid.get(ev.hdrPid);
    if (m !== undefined) {
      for (const c of m.values()) {
        if (c.sslId !== ev.sslId || !c.tls) continue;
        this.counters.tlsLate++;
        c.lastNs = ev.hdrTsNs;
        this._feed(c, true, payload, ev.len, ev.flags, ev.hdrTsNs, ev);
        return true;
      }
    }
    if (this._lingering.size === 0) return false;
    const l = this._lingering.get(ev.hdrPid, ev.sslId);
    if (!l) return false;
    this.counters.tlsLate++;
    this._feed(l, true, payload, ev.len, ev.flags, ev.hdrTsNs, ev);
    if (l.session === undefined || l.session.pendingRequests === 0) this._lingering.end(ev.hdrPid, ev.sslId, ev.hdrTsNs);
    return true;
  }

  /** the process is gone: flush and forget its connections */
  dropPid(pid: number, tsNs: number): void {
    this._lingering.endAll(pid);
    this._held.dropPid(pid);
    this.counters.tlsUnpairedDropped = this._held.dropped;
    const m = this._byPid.get(pid);
    if (!m) return;
    for (const c of [...m.values()]) this._finish(c, tsNs);
  }

  /** TLS connections closed with requests unanswered, waiting for late plaintext */
  get lingering(): number {
    return this._lingering.size;
  }

  /**
   * Flush the lingering TLS connections whose wait is over (the agent's timer: without it they
   * would wait for the next event, or the idle sweep, when the host goes quiet).
   */
  expireLingering(nowNs: number): void {
    this._lingering.expire(nowNs);
  }

  /** flush connections idle since before now - idleTimeout */
  sweep(nowNs: number): void {
    this._lingering.expire(nowNs);
    const limit = nowNs - this._idleNs;
    for (const m of [...this._byPid.values()]) {
      for (const c of [...m.values()]) {
        if (c.lastNs < limit) {
          this._finish(c, nowNs);
          this.counters.connectionsExpired++;
        }
      }
    }
  }

  /** flush everything (shutdown) */
  closeAll(nowNs: number): void {
    this._lingering.endAll(undefined);
    for (const m of [...this._byPid.values()]) for (const c of [...m.values()]) this._finish(c, nowNs);
  }

  /**
   * Parser counters per wire protocol (`wire` of its descriptor): sessions already closed plus the
   * live ones. Cost: one pass over the live connections; call it at scrape time, not per event.
   */
  parserCounters(): Map<string, SessionCounters> {
    const out = new Map<string, SessionCounters>();
    for (const [wire, k] of this._closedParserTotals) out.set(wire, { ...k });
    for (const c of this._all) if (c.session !== undefined) addCounters(out, c.bound!.descriptor.wire, c.session.counters());
    for (const c of this._lingering.conns()) if (c.session !== undefined) addCounters(out, c.bound!.descriptor.wire, c.session.counters());
    return out;
  }
}

/** remember the kernel's ids of a socket-level record (copied: the record's arrays are views into the batch) */
function keepRawIds(c: Conn, r: RecordIds): void {
  if ((r.ctxFlags & ObiCtxFlags.OBI_CTX_SET) === 0) return;
  // one 32-byte copy laid out as in the record (trace, span, parent): wireOf converts it in one go
  const ids = new Uint8Array(32);
  ids.set(r.traceId, 0);
  ids.set(r.spanId, 16);
  ids.set(r.parentId, 24);
  c.rawIds = { ctxFlags: r.ctxFlags, traceId: ids.subarray(0, 16), spanId: ids.subarray(16, 24), parentId: ids.subarray(24, 32) };
}
