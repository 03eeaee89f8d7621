// Over 400 lines: one join (reports, spans waiting for them, contexts, spans held downstream) whose parts share the hold bounds and the outcome counts.
/**
 * Parent links for Node.js processes (docs/devdocs/correlation-node.md): joins the reports of the
 * hook running inside an attached process (which server request each request started and each
 * client write was made for) with the spans the kernel capture produced, and makes every client
 * span whose context is known the child of its server span.
 *
 * The join is per connection (pid, local port, remote port) and by time on one clock (the hook's
 * process.hrtime and bpf_ktime_get_ns are both CLOCK_MONOTONIC):
 * - a server span takes the first server report on its connection made while it ran
 *   (startNs ≤ t ≤ endNs): the time the request's headers were parsed. The hook reports a request
 *   only once it makes a client call (most requests make none: a report per request cost the
 *   application more than the capture), so a server span never waits: it passes at once, and its
 *   ids stay on its connection (the last `maxServersPerConn`, for `contextTtlNs`) for a report
 *   that comes later;
 * - a client span takes every client report on its connection made before its first byte went out
 *   (t ≤ startNs) and not taken by an earlier span: the hook reports just before the write. If those
 *   reports name one context, the span is its child; if they name several (writes of different
 *   requests coalesced into one syscall, or a request the capture missed), it is left unlinked and
 *   counted `ambiguous`: never a guess.
 * Client spans finish before their server span: a linked client span is held until its server span
 * arrives (bounded in number and time; released unlinked and counted past either bound). Client
 * spans of attached processes also wait up to `reportWaitNs` for reports still in flight.
 * The client's request ctx (SpanCtx, `pending` from its start: the correlator's `defers` provider)
 * is settled with the decision, so that spans of other processes joined under it (the server at
 * the other end of the connection, and their children) take the same trace: while a ctx on their
 * way to the root is pending they are held here too (same bounds; past them the pending ctx is
 * settled unlinked, counted `downstream_unsettled`, and the client is not linked afterwards).
 * Pure: the agent passes the clock.
 */
import type { SpanCtx } from '../common/trace.ts';
import type { Span } from './span.ts';
import { CounterVec } from './counter.ts';
import { SeriesIndex } from './series.ts';
import { AgedMap } from './aged-map.ts';
import type { FamilyTarget } from './family.ts';
import { PassedServers } from './passed-servers.ts';

/** One report line from the hook (src/pipeline/node-ctx/hook-source.ts). */
export interface NodeCtxReport {
  readonly kind: 's' | 'c';
  /** context id within the process; 0 = outside any server request */
  readonly id: number;
  readonly localPort: number;
  readonly remotePort: number;
  /** CLOCK_MONOTONIC ns (process.hrtime), the clock of bpf_ktime_get_ns */
  readonly t: number;
}

/** Parses one report; undefined for anything malformed (the target process is not trusted). */
export function parseNodeCtxReport(line: string): NodeCtxReport | undefined {
  const f = line.split(',');
  if (f.length !== 5 || (f[0] !== 's' && f[0] !== 'c')) return undefined;
  const id = Number(f[1]);
  const lp = Number(f[2]);
  const rp = Number(f[3]);
  const t = Number(f[4]);
  if (!Number.isSafeInteger(id) || id < 0 || !Number.isInteger(lp) || lp <= 0 || lp > 65535 || !Number.isInteger(rp) || rp <= 0 || rp > 65535 || !(t > 0)) return undefined;
  return { kind: f[0], id, localPort: lp, remotePort: rp, t };
}

/** What became of a span of an attached process (`obi_nodejs_context_links_total{outcome}`). */
export type NodeLinkOutcome =
  /** a client span made the child of its request's server span */
  | 'linked'
  /** a server span matched to its request context when it arrived (its request had made a client call) */
  | 'server_matched'
  /** a server span passed before any report named it: its request made no client call (yet; a later report still finds its ids) */
  | 'server_passed'
  /** a client call made outside any server request (a root span, correctly) */
  | 'no_context'
  /** the reports before a client span name several contexts: left unlinked */
  | 'ambiguous'
  /** no report for the span arrived in time (a client the hook does not see, or lost reports) */
  | 'no_report'
  /** its context's server span never arrived in time (or the hold cap was reached) */
  | 'server_missing'
  /** a span of another process joined under a client call still pending past the bounds (the call is left unlinked) */
  | 'downstream_unsettled'
  /** a span on an HTTP/2 connection (HTTP/2, gRPC): the hook reports no context per stream, so it passes at once, unlinked */
  | 'multiplexed';

export interface NodeLinkerOptions {
  /** how long a span waits for reports still in flight (default 500 ms) */
  readonly reportWaitNs?: number;
  /** how long a linked client span waits for its server span (default 60 s) */
  readonly holdNs?: number;
  /** client spans held at most, over all processes (default 10000) */
  readonly maxHeld?: number;
  /** reports kept per connection at most (default 1024); older ones are dropped */
  readonly maxReportsPerConn?: number;
  /** contexts remembered after their server span, for late client calls (default 30 s) */
  readonly contextTtlNs?: number;
  /** contexts remembered after their server span at most (default 10000); the oldest go first */
  readonly maxContexts?: number;
  /** server spans without a report kept per connection for a later report (default 64) */
  readonly maxServersPerConn?: number;
  /** told when a process starts (`true`) and stops (`false`) being joined here */
  readonly onTracked?: (pid: number, tracked: boolean) => void;
}

/** what a client span takes from its server span */
type ServerIds = Pick<Span, 'traceId' | 'spanId' | 'traceFlags' | 'ctx'>;

interface Ctx {
  /** the server span's ids (not the span: contexts outlive their export) */
  server?: ServerIds;
  waiting: Span[];
}

interface Waiting {
  readonly span: Span;
  readonly arrivedNs: number;
}

/** a client span of an attached process waiting for its report */
interface ReportWait extends Waiting {
  /** its connection's report queue (`pid|c|lport|rport`) */
  readonly key: string;
  done: boolean;
}

const reportKey = (s: Span): string => `${s.conn!.pid}|${s.kind === 'server' ? 's' : 'c'}|${s.conn!.localPort}|${s.conn!.remotePort}`;

const serverKey = (pid: number, lport: number, rport: number): string => `${pid}|s|${lport}|${rport}`;

const OUTCOMES: readonly NodeLinkOutcome[] = ['linked', 'server_matched', 'server_passed', 'no_context', 'ambiguous', 'no_report', 'server_missing', 'downstream_unsettled', 'multiplexed'];

/**
 * A span of a stream multiplexed on an HTTP/2 connection. The hook reports `http` servers and
 * writes through `net.Socket#write`; `http2` sessions write below it and have no per-stream report,
 * so such a span would only wait `reportWaitNs` for nothing (and under load hold thousands of spans).
 */
function multiplexed(s: Span): boolean {
  return s.category === 'rpc' || s.attributes['network.protocol.version'] === '2';
}

export class NodeContextLinker {
  private readonly _reportWaitNs: number;
  private readonly _holdNs: number;
  private readonly _maxHeld: number;
  private readonly _maxReports: number;
  private readonly _ctxTtlNs: number;
  private readonly _maxCtxs: number;
  private readonly _maxServers: number;
  private readonly _onTracked: ((pid: number, tracked: boolean) => void) | undefined;
  private readonly _pids = new Set<number>();
  /** `pid|s|lport|rport` / `pid|c|lport|rport` → reports in arrival (= time) order */
  private readonly _reports = new Map<string, NodeCtxReport[]>();
  /** `pid:id` → context whose server span has not arrived, aged from its creation */
  private readonly _open = new AgedMap<Ctx>();
  /** `pid:id` → context whose server span arrived, aged from that arrival */
  private readonly _done = new AgedMap<Ctx>();
  /**
   * `pid|s|lport|rport` → server spans passed without a report, oldest first; the entry is aged
   * from its creation and renewed at expiry while its connection still passes spans (an entry set
   * again at every span would leave a slot per span in the aged map's queue)
   */
  private readonly _passed = new AgedMap<PassedServers>();
  /** contexts with a server span forgotten before their ttl (over `maxContexts`) */
  contextsEvicted = 0;
  /**
   * Client spans of attached processes waiting for their reports, by report queue; a queue's spans are
   * tried again only when a report arrived on it (reports lag spans under load: trying every
   * waiting span at every batch was most of the agent's time), and at their deadline.
   */
  private readonly _waiting = new Map<string, ReportWait[]>();
  /** the same spans in arrival order (deadlines), from `_waitHead` */
  private _waitOrder: ReportWait[] = [];
  private _waitHead = 0;
  private _waitCount = 0;
  /** report queues that got a report (or lost their process) since the last batch */
  private readonly _dirty = new Set<string>();
  /** spans of other processes whose way to the root passes a pending client ctx, in arrival order */
  private _unsettled: Waiting[] = [];
  private _held = 0;
  readonly counts: Record<NodeLinkOutcome, number> = { linked: 0, server_matched: 0, server_passed: 0, no_context: 0, ambiguous: 0, no_report: 0, server_missing: 0, downstream_unsettled: 0, multiplexed: 0 };
  /** reports dropped: malformed, or past the per-connection cap */
  reportsDropped = 0;

  constructor(o: NodeLinkerOptions = {}) {
    this._reportWaitNs = o.reportWaitNs ?? 500e6;
    this._holdNs = o.holdNs ?? 60e9;
    this._maxHeld = o.maxHeld ?? 10_000;
    this._maxReports = o.maxReportsPerConn ?? 1024;
    this._ctxTtlNs = o.contextTtlNs ?? 30e9;
    this._maxCtxs = o.maxContexts ?? 10_000;
    this._maxServers = o.maxServersPerConn ?? 64;
    this._onTracked = o.onTracked;
  }

  /** Spans of `pid` are joined from now on. */
  track(pid: number): void {
    this._pids.add(pid);
    this._onTracked?.(pid, true);
  }

  /** `pid` is detached: its state goes; its waiting spans are released at the next `link`. */
  untrack(pid: number): void {
    if (this._pids.delete(pid)) this._onTracked?.(pid, false);
    const prefix = `${pid}|`;
    for (const k of this._reports.keys()) if (k.startsWith(prefix)) this._reports.delete(k);
    for (const k of [...this._passed.keys()]) if (k.startsWith(prefix)) this._passed.delete(k);
    for (const k of this._waiting.keys()) if (k.startsWith(prefix)) this._dirty.add(k); // released at the next batch
  }

  tracks(pid: number): boolean {
    return this._pids.has(pid);
  }

  /** One payload of `pid`'s hook: report lines joined by '\n'. */
  report(pid: number, payload: string): void {
    let from = 0;
    for (let nl = payload.indexOf('\n'); nl >= 0; nl = payload.indexOf('\n', from)) {
      this._report(pid, payload.slice(from, nl));
      from = nl + 1;
    }
    this._report(pid, from === 0 ? payload : payload.slice(from));
  }

  private _report(pid: number, line: string): void {
    const r = parseNodeCtxReport(line);
    if (r === undefined || !this._pids.has(pid)) {
      this.reportsDropped++;
      return;
    }
    const key = `${pid}|${r.kind}|${r.localPort}|${r.remotePort}`;
    let q = this._reports.get(key);
    if (q === undefined) this._reports.set(key, (q = []));
    q.push(r);
    if (r.kind === 's' ? this._passed.get(key) !== undefined : this._waiting.has(key)) this._dirty.add(key);
    if (q.length > this._maxReports) {
      q.shift();
      this.reportsDropped++;
    }
  }

  /**
   * Takes the spans of one batch; returns the spans ready for export (spans of other processes
   * unchanged and at once; spans of attached processes once joined, or released unlinked).
   */
  link(spans: readonly Span[], nowNs: number): Span[] {
    const out: Span[] = [];
    const fresh: ReportWait[] = [];
    for (const s of spans) {
      if (s.conn !== undefined && this._pids.has(s.conn.pid) && (s.kind === 'server' || s.kind === 'client')) {
        if (multiplexed(s)) this._emit('multiplexed', s, out);
        else fresh.push({ span: s, arrivedNs: nowNs, key: reportKey(s), done: false });
      } else if (s.ctx !== undefined && !s.ctx.settled) this._unsettled.push({ span: s, arrivedNs: nowNs });
      else out.push(s);
    }
    this._expire(nowNs, out);
    // reports for servers passed earlier, then servers: a client span in the same batch then finds its server span
    for (const k of this._dirty) if (k.includes('|s|')) this._matchPassed(k, nowNs, out);
    for (const w of fresh) if (w.span.kind === 'server') this._passServer(w.span, nowNs, out);
    for (const w of fresh) if (w.span.kind === 'client') this._try(w, nowNs, out);
    for (const k of this._dirty) if (!k.includes('|s|')) this._retry(k, nowNs, out);
    this._dirty.clear();
    this._expireWaits(nowNs, out);
    this._releaseSettled(nowNs, out);
    return out;
  }

  /** joins `w` now, or keeps it waiting for its report; behind spans of its connection already waiting (their reports come first) */
  private _try(w: ReportWait, nowNs: number, out: Span[]): void {
    let list = this._waiting.get(w.key);
    if (list !== undefined) this._dirty.add(w.key); // tried in order with them, in this batch
    else if (this._joinClient(w, nowNs, out)) return;
    else this._waiting.set(w.key, (list = []));
    list.push(w);
    this._waitOrder.push(w);
    this._waitCount++;
  }

  /** a report arrived on `key`: its waiting spans, in order, try again */
  private _retry(key: string, nowNs: number, out: Span[]): void {
    const list = this._waiting.get(key);
    if (list === undefined) return;
    const keep: ReportWait[] = [];
    for (const w of list) {
      if (w.done) continue;
      if (this._joinClient(w, nowNs, out)) this._settled(w);
      else keep.push(w);
    }
    if (keep.length > 0) this._waiting.set(key, keep);
    else this._waiting.delete(key);
  }

  private _settled(w: ReportWait): void {
    w.done = true;
    this._waitCount--;
  }

  /** spans past their wait: a last try, then released unlinked (`no_report`) */
  private _expireWaits(nowNs: number, out: Span[]): void {
    const order = this._waitOrder;
    while (this._waitHead < order.length) {
      const w = order[this._waitHead]!;
      if (!w.done) {
        if (nowNs - w.arrivedNs < this._reportWaitNs) break;
        this._joinClient(w, nowNs, out, true); // a last try; no report: released unlinked
        this._settled(w);
        const list = this._waiting.get(w.key);
        if (list !== undefined) {
          const i = list.indexOf(w);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this._waiting.delete(w.key);
        }
      }
      this._waitHead++;
    }
    if (this._waitHead > 1024 && this._waitHead * 2 > order.length) {
      this._waitOrder = order.slice(this._waitHead);
      this._waitHead = 0;
    }
  }

  /** Spans held here (waiting for reports, their server span, or a pending client upstream). */
  get held(): number {
    return this._held + this._waitCount + this._unsettled.length;
  }

  /** Releases everything held, unlinked where not joined (agent shutdown). */
  flush(): Span[] {
    const out: Span[] = [];
    for (let i = this._waitHead; i < this._waitOrder.length; i++) {
      const w = this._waitOrder[i]!;
      if (w.done) continue;
      w.span.ctx?.settle();
      out.push(w.span);
    }
    this._waitOrder = [];
    this._waitHead = 0;
    this._waitCount = 0;
    this._waiting.clear();
    this._dirty.clear();
    for (const c of this._open.values()) this._releaseUnlinked(c, out);
    this._open.clear();
    this._done.clear();
    this._releaseSettled(Infinity, out);
    return out;
  }

  /** `obi_nodejs_context_links_total{outcome}` and `obi_nodejs_context_evicted_total`, read at collection. */
  registerMetrics(store: FamilyTarget, prefix = 'obi'): void {
    const c: CounterVec = new CounterVec({
      name: `${prefix}.nodejs.context.links`,
      help: 'Spans of Node.js processes attached for context correlation, by what became of them: linked (client span made the child of its request), server_matched (its request had made a client call), server_passed (none yet: passed at once, its ids kept for a later call), no_context (a call outside any request), ambiguous, no_report, server_missing (left unlinked), downstream_unsettled (a span of another process joined under a call still pending past the bounds), multiplexed (a span on an HTTP/2 connection: no per-stream report, passed at once unlinked)',
      labelNames: ['outcome'],
      index: new SeriesIndex(1),
      collect: () => {
        for (const o of OUTCOMES) c.setTotal(c.index.id([o]), this.counts[o]);
      },
    }).registerIn(store);
    const evicted: CounterVec = new CounterVec({
      name: `${prefix}.nodejs.context.evicted`,
      help: `Request contexts of attached Node.js processes forgotten before their ttl because more than ${this._maxCtxs} were remembered (oldest first); a client call one of them makes later is left unlinked`,
      labelNames: [],
      index: new SeriesIndex(0),
      collect: () => evicted.setTotal(0, this.contextsEvicted),
    }).registerIn(store);
  }

  /**
   * A server span passes at once: matched to its request's report if that came already, else kept
   * (its ids) on its connection for a report still to come.
   */
  private _passServer(s: Span, nowNs: number, out: Span[]): void {
    const conn = s.conn!;
    const key = serverKey(conn.pid, conn.localPort, conn.remotePort);
    const q = this._reports.get(key);
    // reports before this span: of a span passed earlier, or of a request the capture missed
    const passed = this._passed.get(key);
    while (q !== undefined && q.length > 0 && q[0]!.t < s.startNs) {
      const r = q.shift()!;
      const ids = passed?.take(r.t);
      if (ids !== undefined) this._matched(conn.pid, r.id, ids, nowNs, out);
    }
    if (q !== undefined && q.length > 0 && q[0]!.t <= s.endNs) {
      this._emit('server_matched', s, out);
      this._matched(conn.pid, q.shift()!.id, { traceId: s.traceId, spanId: s.spanId, traceFlags: s.traceFlags, ctx: s.ctx }, nowNs, out);
      return;
    }
    let list = passed;
    if (list === undefined) this._passed.set(key, (list = new PassedServers(this._maxServers)), nowNs);
    list.push(nowNs, s.startNs, s.endNs, s.traceId, s.spanId, s.traceFlags);
    this._emit('server_passed', s, out);
  }

  /** reports came on `key` (a connection with passed server spans): each takes the span that ran at its time */
  private _matchPassed(key: string, nowNs: number, out: Span[]): void {
    const q = this._reports.get(key);
    const list = this._passed.get(key);
    if (q === undefined || list === undefined) return;
    const pid = Number(key.slice(0, key.indexOf('|')));
    const keep: NodeCtxReport[] = [];
    for (const r of q) {
      const ids = list.take(r.t);
      if (ids !== undefined) this._matched(pid, r.id, ids, nowNs, out);
      else if (!list.startsAfter(r.t)) keep.push(r); // its span has not come yet
      // else its request was missed by the capture (a later one on the connection came): dropped
    }
    if (keep.length > 0) this._reports.set(key, keep);
    else this._reports.delete(key);
    if (list.size === 0) this._passed.delete(key);
  }

  /** context `id` of `pid` has its server span: its waiting client spans are linked */
  private _matched(pid: number, id: number, ids: ServerIds, nowNs: number, out: Span[]): void {
    const key = `${pid}:${id}`;
    const ctx = this._ctx(key, nowNs);
    ctx.server = ids;
    this._open.delete(key);
    this._done.set(key, ctx, nowNs);
    if (this._done.size > this._maxCtxs) {
      this._done.shift();
      this.contextsEvicted++;
    }
    for (const c of ctx.waiting) this._emit('linked', childOf(c, ids), out);
    this._held -= ctx.waiting.length;
    ctx.waiting = [];
  }

  private _joinClient(w: Waiting, nowNs: number, out: Span[], final = false): boolean {
    const s = w.span;
    const conn = s.conn!;
    const q = this._reports.get(`${conn.pid}|c|${conn.localPort}|${conn.remotePort}`);
    let n = 0;
    while (q !== undefined && n < q.length && q[n]!.t <= s.startNs) n++;
    if (n === 0) {
      if (!final && nowNs - w.arrivedNs < this._reportWaitNs && this._pids.has(conn.pid)) return false;
      this._emit('no_report', s, out);
      return true;
    }
    const taken = q!.splice(0, n);
    const id = taken[0]!.id;
    let outcome: NodeLinkOutcome | undefined;
    if (taken.some((r) => r.id !== id)) outcome = 'ambiguous';
    else if (id === 0) outcome = 'no_context';
    else {
      const ctx = this._ctx(`${conn.pid}:${id}`, nowNs);
      if (s.ctx !== undefined && !s.ctx.pending) outcome = 'downstream_unsettled'; // settled unlinked meanwhile
      else if (ctx.server !== undefined) {
        this._emit('linked', childOf(s, ctx.server), out);
        return true;
      } else if (this._held >= this._maxHeld) outcome = 'server_missing';
      else {
        ctx.waiting.push(s);
        this._held++;
        return true;
      }
    }
    this._emit(outcome, s, out);
    return true;
  }

  private _ctx(key: string, nowNs: number): Ctx {
    let c = this._done.get(key) ?? this._open.get(key);
    if (c === undefined) this._open.set(key, (c = { waiting: [] }), nowNs);
    return c;
  }

  /** only the expired oldest contexts are visited (a walk of all per batch was most of the agent's time under load) */
  private _expire(nowNs: number, out: Span[]): void {
    for (let o = this._open.oldest(); o !== undefined && nowNs - o.atNs > this._holdNs; o = this._open.oldest()) {
      this._releaseUnlinked(o.value, out);
      this._open.shift();
    }
    for (let o = this._done.oldest(); o !== undefined && nowNs - o.atNs > this._ctxTtlNs; o = this._done.oldest()) this._done.shift();
    for (let o = this._passed.oldest(); o !== undefined && nowNs - o.atNs > this._ctxTtlNs; o = this._passed.oldest()) {
      this._passed.shift();
      if (o.value.expire(nowNs - this._ctxTtlNs) > 0) this._passed.set(o.key, o.value, nowNs);
    }
  }

  private _releaseUnlinked(c: Ctx, out: Span[]): void {
    for (const s of c.waiting) this._emit('server_missing', s, out);
    this._held -= c.waiting.length;
    c.waiting = [];
  }

  private _emit(outcome: NodeLinkOutcome, s: Span, out: Span[]): void {
    this.counts[outcome]++;
    if (outcome !== 'linked') s.ctx?.settle(); // a client left unlinked: its own trace, final now
    out.push(s);
  }

  /**
   * Spans held for a pending client upstream: released, with the trace id their ctx resolves to
   * now, once settled; past `holdNs + reportWaitNs` (or the hold cap) the pending ctx is settled
   * unlinked first.
   */
  private _releaseSettled(nowNs: number, out: Span[]): void {
    if (this._unsettled.length === 0) return;
    const keep: Waiting[] = [];
    const bound = this._holdNs + this._reportWaitNs;
    const over = Math.max(0, this._unsettled.length - this._maxHeld);
    for (let i = 0; i < this._unsettled.length; i++) {
      const w = this._unsettled[i]!;
      const ctx = w.span.ctx!;
      if (!ctx.settled && (i < over || nowNs - w.arrivedNs > bound)) {
        for (let c: SpanCtx | undefined = ctx, hops = 0; c !== undefined && hops < 64; hops++, c = c.parent) c.settle();
        this.counts.downstream_unsettled++;
      }
      if (ctx.settled) out.push({ ...w.span, traceId: ctx.traceId, parentSpanId: ctx.parentSpanId, traceFlags: ctx.traceFlags });
      else keep.push(w);
    }
    this._unsettled = keep;
  }
}

/** `child` re-parented under `parent`: its trace id, flags and parent span id (and its request ctx settled so). */
function childOf(child: Span, parent: ServerIds): Span {
  child.ctx?.settle(parent.ctx);
  return { ...child, traceId: parent.traceId, parentSpanId: parent.spanId, traceFlags: parent.traceFlags };
}
