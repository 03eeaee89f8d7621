/**
 * Attaches the Node.js context correlation to running Node processes, and detaches it without a
 * trace (docs/devdocs/correlation-node.md):
 *
 * 1. the process's SIGUSR1 disposition is read by the kernel (bpf/probes/sigprobe.h): only Node's
 *    own inspector handler (in the node executable or libnode, without SA_RESTART) makes SIGUSR1
 *    open the inspector. A process whose SIGUSR1 is the default (it would die), ignored, or handled
 *    by the application (libuv's handler, SA_RESTART) is never signalled: it keeps its server and
 *    client spans, unlinked, and `obi_nodejs_context_attach_total{result}` says why;
 * 2. SIGUSR1; the inspector's new listening socket is found among the process's own sockets
 *    (/proc/PID/net/tcp ∩ /proc/PID/fd) and checked (`process.pid` over the session);
 * 3. an inspector binding and the hook (hook-source.ts) are installed; reports flow to the linker
 *    (telemetry/node-links.ts);
 * 4. on stop: the hook removes itself, the binding goes, and `inspector.close()` closes the port. The
 *    hook's watchdog does the same by itself when the agent stops pinging (an agent killed hard).
 * Processes are attached one at a time (the inspector's default port is one per host).
 */
import { readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { ObiMap } from '../../abi/events.ts';
import { BPF_NOEXIST } from '../../native/binding.ts';
import { CounterVec } from '../../telemetry/counter.ts';
import type { FamilyTarget } from '../../telemetry/family.ts';
import type { NodeContextLinker } from '../../telemetry/node-links.ts';
import { SeriesIndex } from '../../telemetry/series.ts';
import type { Logger } from '../log.ts';
import { CdpSession } from './cdp.ts';
import { hookExpression, NODE_CTX_BINDING, pingExpression, stopExpression } from './hook-source.ts';
import { exePath, listeningSockets, mappingOf } from './procfs.ts';

/** The maps the attacher uses (a BpfObject). */
export interface SigProbeMaps {
  mapUpdate(map: string, key: Buffer, value: Buffer, flags?: number): void;
  mapLookup(map: string, key: Buffer): Buffer | null;
  mapDelete(map: string, key: Buffer): boolean;
  /** the probe's programs are attached only while probes wait (every epoll_wait of the host pays them) */
  attach(prog: string): number;
  /** the link is gone at once; the kernel's teardown (~70 ms of RCU grace periods per tracepoint) runs off the event loop */
  detachAsync(link: number): Promise<void>;
}

/** bpf/probes/sigprobe.h */
export const SIGPROBE_PROGRAMS = ['obi_sigprobe_epoll_wait', 'obi_sigprobe_epoll_pwait'] as const;

/** `obi_nodejs_context_attach_total{result}` values. */
export type NodeAttachResult =
  | 'attached'
  /** the application handles SIGUSR1 itself (libuv handler): not signalled */
  | 'app_sigusr1_handler'
  /** SIGUSR1 is default or ignored (Node without the inspector, or --disable-sigusr1): not signalled */
  | 'no_inspector'
  /** the handler is not where Node keeps it: not signalled */
  | 'unknown_handler'
  /** the process did not enter its event loop while the kernel waited to read its disposition */
  | 'probe_timeout'
  /** in another network namespace: its inspector port would be out of reach */
  | 'other_netns'
  /** no inspector port appeared after SIGUSR1 (already open, or the port was taken) */
  | 'inspector_not_listening'
  /** the inspector session or the hook failed */
  | 'inspector_failed';

const RESULTS: readonly NodeAttachResult[] = ['attached', 'app_sigusr1_handler', 'no_inspector', 'unknown_handler', 'probe_timeout', 'other_netns', 'inspector_not_listening', 'inspector_failed'];

const SA_RESTART = 0x10000000n;
const SIG_PROBE_SIZE = 24;

export interface NodeCtxAttacherOptions {
  readonly bpf: SigProbeMaps;
  readonly log: Logger;
  readonly linker: NodeContextLinker;
  /** the hook removes itself after this long without a ping (default 30 s) */
  readonly watchdogMs?: number;
  /** how long to wait for the kernel to read the disposition, and for the inspector port (default 3 s each) */
  readonly waitMs?: number;
}

interface Attached {
  readonly pid: number;
  readonly session: CdpSession;
  readonly port: number;
}

export class NodeCtxAttacher {
  private readonly _o: NodeCtxAttacherOptions;
  private readonly _queue: number[] = [];
  private readonly _seen = new Set<number>();
  private readonly _attached = new Map<number, Attached>();
  /** `pid:port` of every inspector port we opened: the agent's own exchanges there are not the app's */
  private readonly _inspectorPorts = new Set<string>();
  private _running?: Promise<void>;
  /** the SIGUSR1 probe's links, attached while the queue drains */
  private _probeLinks?: number[];
  /** their teardown (on a libuv worker): the kernel refuses a program twice on one tracepoint (EEXIST) */
  private _unprobing: Promise<unknown> = Promise.resolve();
  private _closing = false;
  private readonly _ping: NodeJS.Timeout;
  readonly results: Record<NodeAttachResult, number> = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<NodeAttachResult, number>;

  constructor(o: NodeCtxAttacherOptions) {
    this._o = o;
    const watchdog = o.watchdogMs ?? 30_000;
    this._ping = setInterval(() => {
      for (const a of this._attached.values()) a.session.evaluate(pingExpression()).catch(() => undefined);
    }, Math.max(500, watchdog / 6));
    this._ping.unref();
  }

  /** Queues `pid` (a selected Node.js process); each process is tried once. */
  attach(pid: number): void {
    if (this._closing || this._seen.has(pid)) return;
    this._seen.add(pid);
    this._queue.push(pid);
    this._running ??= this._drain().finally(() => (this._running = undefined));
  }

  /** `pid` exited: forget it (its session closes by itself). */
  forget(pid: number): void {
    this._seen.delete(pid);
    for (const k of this._inspectorPorts) if (k.startsWith(`${pid}:`)) this._inspectorPorts.delete(k);
    const a = this._attached.get(pid);
    if (a) {
      this._attached.delete(pid);
      a.session.close();
    }
    this._o.linker.untrack(pid);
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this._running) await this._running;
  }

  /** Whether `localPort` of `pid` is an inspector port the agent opened (its exchanges there are the agent's). */
  isInspectorPort(pid: number, localPort: number): boolean {
    return this._inspectorPorts.size > 0 && this._inspectorPorts.has(`${pid}:${localPort}`);
  }

  /** Processes attached now: pid → inspector port. */
  get attached(): ReadonlyMap<number, number> {
    return new Map([...this._attached].map(([pid, a]) => [pid, a.port]));
  }

  /** Detaches from every process: hook removed, binding removed, inspector closed. */
  async close(): Promise<void> {
    this._closing = true;
    clearInterval(this._ping);
    this._queue.length = 0;
    await this.idle();
    await this._unprobing;
    await Promise.all([...this._attached.values()].map((a) => this._detach(a)));
    this._attached.clear();
  }

  /** `obi_nodejs_context_attach_total{result}`, read from `results` at collection. */
  registerMetrics(store: FamilyTarget, prefix = 'obi'): void {
    registerNodeAttachMetrics(store, () => this.results, prefix);
  }

  private async _drain(): Promise<void> {
    try {
      for (let pid = this._queue.shift(); pid !== undefined; pid = this._queue.shift()) {
        let result: NodeAttachResult;
        try {
          result = await this._attachOne(pid);
        } catch (err) {
          this._o.log.warn('Node.js context: attach failed', { pid, error: (err as Error).message });
          result = 'inspector_failed';
        }
        this.results[result]++;
        this._o.log.info('Node.js context correlation', { pid, result });
      }
    } finally {
      this._disarmProbe();
    }
  }

  /** The SIGUSR1 probe's programs attached (once per drain of the queue: every epoll_wait of the host pays them). */
  private async _armProbe(): Promise<void> {
    if (this._probeLinks !== undefined) return;
    await this._unprobing;
    const links: number[] = [];
    try {
      for (const prog of SIGPROBE_PROGRAMS) links.push(this._o.bpf.attach(prog));
    } catch (err) {
      this._probeLinks = links;
      this._disarmProbe();
      throw err;
    }
    this._probeLinks = links;
  }

  private _disarmProbe(): void {
    const links = this._probeLinks;
    if (links === undefined) return;
    this._probeLinks = undefined;
    this._unprobing = Promise.all(links.map((l) => this._o.bpf.detachAsync(l).catch(() => undefined)));
  }

  private async _attachOne(pid: number): Promise<NodeAttachResult> {
    if (!sameNetns(pid)) return 'other_netns';
    const disp = await this._probeSigusr1(pid);
    if (disp === undefined) return 'probe_timeout';
    if (disp.handler === 0n || disp.handler === 1n) return 'no_inspector';
    if ((disp.flags & SA_RESTART) !== 0n) return 'app_sigusr1_handler';
    const [m, exe] = await Promise.all([mappingOf(pid, disp.handler), exePath(pid)]);
    if (m === undefined || !m.exec || !(m.path === exe || /\/libnode\.so[.\d]*$/.test(m.path))) return 'unknown_handler';
    if (this._closing) return 'inspector_failed';

    const before = new Set((await listeningSockets(pid)).map((s) => s.inode));
    process.kill(pid, 'SIGUSR1');
    const port = await this._waitListener(pid, before);
    if (port === undefined) return 'inspector_not_listening';
    this._inspectorPorts.add(`${pid}:${port}`);
    let session: CdpSession | undefined;
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(this._waitMs) })).json()) as { webSocketDebuggerUrl?: string }[];
      const url = list[0]?.webSocketDebuggerUrl;
      if (typeof url !== 'string' || !url.startsWith(`ws://127.0.0.1:${port}/`)) throw new Error('no inspector target');
      session = await CdpSession.open(url, this._waitMs);
      const s = session;
      if ((await s.evaluate('process.pid')) !== pid) throw new Error('inspector of another process');
      this._o.linker.track(pid);
      s.onEvent = (method, params) => {
        if (method === 'Runtime.bindingCalled' && params.name === NODE_CTX_BINDING && typeof params.payload === 'string') this._o.linker.report(pid, params.payload);
      };
      s.onClose = () => {
        if (this._attached.get(pid)?.session === s) this._attached.delete(pid);
        this._o.linker.untrack(pid);
      };
      await s.send('Runtime.addBinding', { name: NODE_CTX_BINDING });
      const r = await s.evaluate(hookExpression(this._o.watchdogMs ?? 30_000));
      if (r !== 'installed') throw new Error(`hook not installed: ${String(r)}`);
      const a = { pid, session: s, port };
      this._attached.set(pid, a);
      if (this._closing) await this._detach(a);
      return 'attached';
    } catch (err) {
      this._o.log.warn('Node.js context: inspector session failed; closing the inspector', { pid, error: (err as Error).message });
      this._o.linker.untrack(pid);
      if (session && !session.closed) await this._detach({ pid, session, port });
      return 'inspector_failed';
    }
  }

  private get _waitMs(): number {
    return this._o.waitMs ?? 3000;
  }

  /** Asks the kernel for `pid`'s SIGUSR1 disposition (read when it next enters epoll_wait). */
  private async _probeSigusr1(pid: number): Promise<{ handler: bigint; flags: bigint } | undefined> {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid);
    const bpf = this._o.bpf;
    bpf.mapDelete(ObiMap.sigprobe, key);
    bpf.mapUpdate(ObiMap.sigprobe, key, Buffer.alloc(SIG_PROBE_SIZE), BPF_NOEXIST);
    try {
      await this._armProbe();
      const start = Date.now();
      let nudged = 0;
      while (Date.now() - start < this._waitMs) {
        const v = bpf.mapLookup(ObiMap.sigprobe, key);
        if (v !== null && v.readUInt32LE(16) === 1) return { handler: v.readBigUInt64LE(0), flags: v.readBigUInt64LE(8) };
        // an idle event loop sleeps in epoll_wait until something happens: a connection to one of its
        // listening ports (opened and closed at once) wakes it, no signal needed
        if (Date.now() - start >= 100 * (nudged + 1) ** 2) {
          nudged++;
          void wake(pid).catch(() => undefined);
        }
        await sleep(20);
      }
      return undefined;
    } finally {
      bpf.mapDelete(ObiMap.sigprobe, key);
    }
  }

  private async _waitListener(pid: number, before: Set<string>): Promise<number | undefined> {
    const end = Date.now() + this._waitMs;
    while (Date.now() < end) {
      const fresh = (await listeningSockets(pid)).filter((s) => !before.has(s.inode) && !s.v6 && s.addrHex === '0100007F');
      if (fresh.length === 1) return fresh[0]!.port;
      await sleep(25);
    }
    return undefined;
  }

  private async _detach(a: Attached): Promise<void> {
    const s = a.session;
    try {
      await s.evaluate(stopExpression());
      await s.send('Runtime.removeBinding', { name: NODE_CTX_BINDING });
      // closes the inspector port and this session with it: the reply never comes
      await s.evaluate("require('inspector').close()", 3000).catch(() => undefined);
    } catch (err) {
      this._o.log.warn('Node.js context: detach failed', { pid: a.pid, error: (err as Error).message });
    } finally {
      s.close();
      this._o.linker.untrack(a.pid);
    }
  }
}

/** Connects to one listening port of `pid` and closes at once: its event loop wakes up. */
async function wake(pid: number): Promise<void> {
  const l = (await listeningSockets(pid))[0];
  if (l === undefined) return;
  let host = '::1';
  if (!l.v6) {
    const n = parseInt(l.addrHex, 16); // little-endian as the kernel prints it
    host = n === 0 ? '127.0.0.1' : [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  }
  const c = connect({ host, port: l.port });
  c.on('connect', () => c.destroy());
  c.on('error', () => c.destroy());
  c.setTimeout(1000, () => c.destroy());
}

/** `obi_nodejs_context_attach_total{result}` in `store`, read from `results()` at collection. */
export function registerNodeAttachMetrics(store: FamilyTarget, results: () => Readonly<Record<NodeAttachResult, number>>, prefix = 'obi'): void {
  const c: CounterVec = new CounterVec({
    name: `${prefix}.nodejs.context.attach`,
    help: 'Node.js processes the context correlation tried to attach to, by result (only attached processes get parent links; the others are never signalled)',
    labelNames: ['result'],
    index: new SeriesIndex(1),
    collect: () => {
      const r = results();
      for (const k of RESULTS) c.setTotal(c.index.id([k]), r[k]);
    },
  }).registerIn(store);
}

function sameNetns(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Whether `exe` looks like a Node.js executable by name (node, nodejs, node24, ...). */
export function isNodeExecutable(exe: string): boolean {
  return /^node(js)?[\d.]*$/.test(basename(exe));
}
