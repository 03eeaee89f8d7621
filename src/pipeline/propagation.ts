/**
 * Context propagation (`ebpf.context_propagation`, docs/devdocs/propagation.md): which modes run,
 * the sockops program attached to the cgroups of the selected processes, the kernel's per-process
 * id rule (`prop_pids`), the header-injection self-test, the start-up report and the
 * `obi_context_propagation_*` self-metrics.
 *
 * `tcp` (the default): the kernel decides each request's ids at its start and writes the client's
 * into a TCP option (kind 25) that the agent on the receiving host reads (bpf/probes/propagation.h).
 * `headers`: the kernel inserts a `traceparent` header into outgoing HTTP/1 requests of selected
 * processes (bpf/probes/inject.h), once the start-up self-test passed (propagation-selftest.ts);
 * where it fails, the TCP option runs instead, reported with OBI_ERR_PROPAGATION_SELFTEST.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ObiPropCtl, ObiPropMode } from '../abi/events.ts';
import type { TrackedProcess } from '../discovery/lifecycle.ts';
import { CounterVec } from '../telemetry/counter.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import { GaugeVec } from '../telemetry/gauge.ts';
import { SeriesIndex } from '../telemetry/series.ts';
import { policyFor } from './correlation.ts';
import type { HeaderInjectionCounts } from './kernel.ts';
import type { Logger } from './log.ts';
import { runHeaderSelfTest, type SelfTestOutcome } from './propagation-selftest.ts';

/** what `ebpf.context_propagation` asks for */
export interface PropagationPlan {
  /** the configured value, as given */
  readonly requested: string;
  /** the TCP option (`tcp`, `all`) */
  readonly tcp: boolean;
  /** header injection (`headers`, `http`, `all`) */
  readonly headers: boolean;
}

export function planPropagation(value: string | undefined): PropagationPlan {
  const requested = (value ?? '').trim() || 'tcp';
  const parts = new Set(requested.split(',').map((s) => s.trim()));
  const all = parts.has('all');
  return { requested, tcp: all || parts.has('tcp'), headers: all || parts.has('headers') || parts.has('http') };
}

/** the label of `obi_context_propagation_mode`: what runs */
export function modeLabel(tcp: boolean, headers: boolean): string {
  if (tcp && headers) return 'headers,tcp';
  if (headers) return 'headers';
  return tcp ? 'tcp' : 'disabled';
}

/**
 * How the kernel decides the ids of a process's client requests (enum obi_prop_mode), from the
 * correlation policy user space applies to it (pipeline/correlation.ts), so that both agree:
 * thread → THREAD, event (nginx) → EVENT, unlinked (Go, event loops) → ROOT. Node.js → OFF: its
 * client spans are re-parented after the fact by the inspector linker (node-ctx/), which the kernel
 * cannot know at the write, so no id of it goes on the wire.
 */
export function propModeFor(p: Pick<TrackedProcess, 'info'>, headers = false): number {
  // with header injection, a Node.js request made while the process serves none is a root the kernel can decide
  if (p.info.language === 'nodejs') return headers ? ObiPropMode.OBI_PROP_IDLE : ObiPropMode.OBI_PROP_OFF;
  const policy = policyFor(p);
  if (policy.kind === 'thread') return ObiPropMode.OBI_PROP_THREAD;
  if (policy.kind === 'event') return ObiPropMode.OBI_PROP_EVENT;
  return ObiPropMode.OBI_PROP_ROOT;
}

const MODE_NAMES: Record<number, string> = {
  [ObiPropMode.OBI_PROP_OFF]: 'off',
  [ObiPropMode.OBI_PROP_ROOT]: 'root',
  [ObiPropMode.OBI_PROP_THREAD]: 'thread',
  [ObiPropMode.OBI_PROP_EVENT]: 'event',
  [ObiPropMode.OBI_PROP_IDLE]: 'idle',
};

/** the cgroup v2 directory of `pid` (`0::/path` in /proc/PID/cgroup under the cgroup2 mount) */
export function cgroupDirOf(pid: number, cgroupRoot: string, procRoot = '/proc'): string | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('0::')) continue;
    const rel = line.slice(3).replace(/ \(deleted\)$/, '');
    return rel === '/' ? cgroupRoot : `${cgroupRoot}${rel}`;
  }
  return undefined;
}

/** why `tcp` cannot run with these capabilities and mounts, or undefined when it can (checked before the object loads) */
export function propagationBlocker(netAdmin: boolean, procRoot = '/proc'): string | undefined {
  if (!netAdmin) return 'CAP_NET_ADMIN is missing: the sockops program cannot be loaded or attached';
  if (cgroup2Mount(procRoot) === undefined) return 'no cgroup v2 hierarchy is mounted';
  return undefined;
}

/** the cgroup2 mount point, if any */
export function cgroup2Mount(procRoot = '/proc'): string | undefined {
  try {
    for (const line of readFileSync(`${procRoot}/mounts`, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2') return f[1];
    }
  } catch {
    /* no /proc/mounts */
  }
  return undefined;
}

function within(dir: string, ancestor: string): boolean {
  return dir === ancestor || dir.startsWith(ancestor.endsWith('/') ? ancestor : `${ancestor}/`);
}

/** what the agent needs of the kernel here (pipeline/kernel.ts) */
export interface PropagationKernel {
  setPropMode(pid: number, mode: number | undefined): void;
  setPropControl(bits: number): void;
  tracePid(pid: number, on: boolean): void;
  readonly propagation: { written: number; read: number; used: number };
  readonly injection: HeaderInjectionCounts;
  readonly bpf: { attachCgroup(prog: string, dir: string): number; detach(link: number): void };
}

export interface PropagationOptions {
  readonly plan: PropagationPlan;
  readonly kernel: PropagationKernel;
  readonly log: Logger;
  /** cgroup v2 mount (default: from /proc/mounts) */
  readonly cgroupRoot?: string;
  readonly procRoot?: string;
  /** why propagation cannot run although asked for (e.g. CAP_NET_ADMIN missing: the sockops program was not loaded) */
  readonly unavailable?: string;
  /** the self-test (tests give their own) */
  readonly selfTest?: typeof runHeaderSelfTest;
}

export const SOCKOPS_PROGRAM = 'obi_sockops';

/** Runs the plan: per selected process, its kernel id rule and its cgroup's sockops attachment. */
export class Propagation {
  readonly plan: PropagationPlan;
  private readonly _o: PropagationOptions;
  private readonly _root: string | undefined;
  /** attached cgroup directories → link id */
  private readonly _links = new Map<string, number>();
  /** why propagation does not run although asked for (no cgroup v2, sockops refused) */
  private _unavailable: string | undefined;
  /** header injection runs (the self-test passed) */
  private _headers = false;
  /** the TCP option runs (`tcp`, or the fallback of `headers`) */
  private _tcp: boolean;
  private _selfTest: SelfTestOutcome | undefined;
  /** pids of the self-test's peer: their records are not an application's */
  readonly selfTestPids = new Set<number>();
  /** the header counters when the self-test ended (the metrics count from there) */
  selfTestCounts: HeaderInjectionCounts = { injected: 0, present: 0, boundary: 0, tls: 0, other: 0, evicted: 0, h2: 0, h2Lost: 0 };

  constructor(o: PropagationOptions) {
    this._o = o;
    this.plan = o.plan;
    this._root = o.cgroupRoot ?? cgroup2Mount(o.procRoot);
    const asked = o.plan.tcp || o.plan.headers;
    if (asked && o.unavailable !== undefined) this._unavailable = o.unavailable;
    else if (asked && this._root === undefined) this._unavailable = 'no cgroup v2 hierarchy is mounted';
    this._tcp = o.plan.tcp && this._unavailable === undefined;
    if (this._tcp) o.kernel.setPropControl(ObiPropCtl.OBI_CTL_OPTION); // header injection waits for start()'s self-test
  }

  /** what runs: the label of `obi_context_propagation_mode` */
  get active(): string {
    return modeLabel(this._tcp, this._headers);
  }

  /** whether the kernel decides ids (either mode runs) */
  private get _on(): boolean {
    return this._unavailable === undefined && (this._tcp || this._headers);
  }

  /** the cgroup directories the sockops program runs on */
  get cgroups(): string[] {
    return [...this._links.keys()].sort();
  }

  get selfTest(): SelfTestOutcome | undefined {
    return this._selfTest;
  }

  /**
   * `headers`: the self-test, before any process is selected; injection runs where it passed, the
   * TCP option where it failed (and where `tcp` was asked for too).
   */
  async start(): Promise<void> {
    if (!this.plan.headers || this._unavailable !== undefined) return;
    const run = this._o.selfTest ?? runHeaderSelfTest;
    const k = this._o.kernel;
    k.setPropControl(ObiPropCtl.OBI_CTL_INJECT | (this.plan.tcp ? ObiPropCtl.OBI_CTL_OPTION : 0));
    this._selfTest = await run({ kernel: k, cgroupRoot: this._root!, sockopsProgram: SOCKOPS_PROGRAM, onPeer: (pid) => this.selfTestPids.add(pid) });
    this.selfTestCounts = k.injection; // the self-test's own injections are not an application's
    this._headers = this._selfTest.ok;
    this._tcp = this.plan.tcp || !this._selfTest.ok;
    k.setPropControl((this._headers ? ObiPropCtl.OBI_CTL_INJECT : 0) | (this._tcp ? ObiPropCtl.OBI_CTL_OPTION : 0));
  }

  /** the start-up report: what runs, where and why; header injection that does not run is never silent */
  report(): void {
    const p = this.plan;
    const log = this._o.log;
    if (!p.tcp && !p.headers) {
      log.info('context propagation', { mode: 'disabled', requested: p.requested, why: 'ebpf.context_propagation is disabled: no sockops program is attached, no id goes on the wire' });
      return;
    }
    if (this._unavailable !== undefined) {
      log.warn(`context propagation: ${modeLabel(p.tcp, p.headers)} is not available`, { code: 'OBI_ERR_PROPAGATION_UNAVAILABLE', requested: p.requested, why: this._unavailable });
      return;
    }
    const st = this._selfTest;
    if (p.headers && st && !st.ok) {
      log.warn('context propagation: header injection failed its self-test; the TCP option carries the context instead', {
        code: 'OBI_ERR_PROPAGATION_SELFTEST',
        requested: p.requested,
        failed: st.failed.join('; '),
      });
    }
    const why: string[] = [];
    if (this._headers)
      why.push(
        'traceparent header inserted by sk_msg into outgoing plaintext HTTP/1 requests of selected processes that carry none (self-test passed: FIONREAD, keep-alive, blocking recv after a 4 MiB send)',
      );
    if (this._tcp) why.push('TCP option kind 25 (trace id + span id) on client segments of selected processes, read on their server sockets; no application byte changes');
    log.info('context propagation', {
      mode: this.active,
      requested: p.requested,
      why: `${why.join('. ')}. Scope: the cgroup v2 directories of the selected processes (attached as they are selected), their connections made after selection`,
      cgroups: this.cgroups.join(',') || '(none yet)',
    });
  }

  /** a process was selected: its id rule, and the sockops program on its cgroup */
  selected(p: Pick<TrackedProcess, 'pid' | 'info'>): void {
    if (!this._on) return;
    const mode = propModeFor(p, this._headers);
    this._o.kernel.setPropMode(p.pid, mode);
    const dir = cgroupDirOf(p.pid, this._root!, this._o.procRoot);
    if (dir === undefined) return;
    for (const d of this._links.keys()) if (within(dir, d)) return; // the program runs there already (inherited by descendants)
    let link: number;
    try {
      link = this._o.kernel.bpf.attachCgroup(SOCKOPS_PROGRAM, dir);
    } catch (err) {
      this._o.log.warn('context propagation: cannot attach to a cgroup', { code: 'OBI_ERR_PROPAGATION_UNAVAILABLE', pid: p.pid, cgroup: dir, error: (err as Error).message });
      return;
    }
    // descendants attached before would run the program twice
    for (const [d, l] of [...this._links]) {
      if (within(d, dir)) {
        this._o.kernel.bpf.detach(l);
        this._links.delete(d);
      }
    }
    this._links.set(dir, link);
    this._o.log.info('context propagation: sockops attached', { cgroup: dir, pid: p.pid, exe: basename(p.info.exePath), rule: MODE_NAMES[mode] });
  }

  removed(pid: number): void {
    if (!this._on) return;
    try {
      this._o.kernel.setPropMode(pid, undefined);
    } catch {
      /* the kernel purged it at exit */
    }
  }

  close(): void {
    for (const l of this._links.values()) {
      try {
        this._o.kernel.bpf.detach(l);
      } catch {
        /* already gone */
      }
    }
    this._links.clear();
  }
}

type PropCounts = { written: number; read: number; used: number } & HeaderInjectionCounts;

/**
 * `obi_context_propagation_mode{mode}` (1 for the mode that runs), the TCP option's counters
 * (`..._tcp_options_written_total`, `..._options_read_total`, `..._parents_total`) and header
 * injection's (`..._header_injections_total`, `..._header_skipped_total{reason}`,
 * `..._fallbacks_total{reason}`).
 */
export function registerPropagationMetrics(
  store: FamilyTarget,
  prop: { readonly active: string; readonly selfTest?: SelfTestOutcome; readonly selfTestCounts?: HeaderInjectionCounts },
  source: () => PropCounts,
  prefix = 'obi',
): void {
  const none = new SeriesIndex(0);
  const modes = new SeriesIndex(1);
  let shown: number | undefined;
  const mode: GaugeVec = new GaugeVec({
    name: `${prefix}.context_propagation.mode`,
    help: 'Context propagation mode that runs (ebpf.context_propagation): 1 for the active mode (headers, tcp, headers,tcp or disabled)',
    labelNames: ['mode'],
    index: modes,
    collect: () => {
      const id = modes.id([prop.active]);
      if (shown !== undefined && shown !== id) mode.set(shown, 0);
      mode.set(id, 1);
      shown = id;
    },
  }).registerIn(store);
  let last: PropCounts | undefined;
  let lastAt = 0;
  const read = (): PropCounts => {
    const now = performance.now();
    if (last === undefined || now - lastAt > 50) {
      const c = source();
      const b = prop.selfTestCounts;
      last = b
        ? {
            ...c,
            injected: c.injected - b.injected,
            present: c.present - b.present,
            boundary: c.boundary - b.boundary,
            tls: c.tls - b.tls,
            other: c.other - b.other,
            evicted: c.evicted - b.evicted,
            h2: c.h2 - b.h2,
            h2Lost: c.h2Lost - b.h2Lost,
          }
        : c;
      lastAt = now;
    }
    return last;
  };
  const family = (name: string, help: string, pick: (c: PropCounts) => number): void => {
    const c: CounterVec = new CounterVec({
      name: `${prefix}.context_propagation.${name}`,
      help,
      labelNames: [],
      index: none,
      collect: () => c.setTotal(0, pick(read())),
    }).registerIn(store);
  };
  family('tcp.options_written', 'TCP segments sent with the trace-context option (kind 25) by client sockets of selected processes', (c) => c.written);
  family('tcp.options_read', 'TCP segments received with the trace-context option on sockets in the attached cgroups', (c) => c.read);
  family('tcp.parents', 'Server requests whose parent span (and trace) came from a received TCP option', (c) => c.used);
  family('header.injections', 'Outgoing HTTP/1 requests given a traceparent header by the kernel', (c) => c.injected);
  family('header.h2_injections', 'Outgoing HTTP/2 and gRPC requests (HEADERS frames) given a traceparent field by the kernel', (c) => c.h2);
  const reasons = new SeriesIndex(1);
  const skipped: CounterVec = new CounterVec({
    name: `${prefix}.context_propagation.header.skipped`,
    help: 'Request starts not given a traceparent header, by reason: present (one was there), boundary (a body still being sent), tls (encrypted), other (not HTTP/1, a head over 1 KiB or split), h2_lost (HTTP/2 connections no longer followed: a frame header split across writes)',
    labelNames: ['reason'],
    index: reasons,
    collect: () => {
      const c = read();
      skipped.setTotal(reasons.id(['present']), c.present);
      skipped.setTotal(reasons.id(['boundary']), c.boundary);
      skipped.setTotal(reasons.id(['tls']), c.tls);
      skipped.setTotal(reasons.id(['other']), c.other);
      skipped.setTotal(reasons.id(['h2_lost']), c.h2Lost);
    },
  }).registerIn(store);
  const fbReasons = new SeriesIndex(1);
  const fallbacks: CounterVec = new CounterVec({
    name: `${prefix}.context_propagation.fallbacks`,
    help: 'Header injection given up for the TCP option: self_test (the start-up self-test failed: the whole agent), large_send (a socket whose send can wait for buffer space)',
    labelNames: ['reason'],
    index: fbReasons,
    collect: () => {
      fallbacks.setTotal(fbReasons.id(['self_test']), prop.selfTest !== undefined && !prop.selfTest.ok ? 1 : 0);
      fallbacks.setTotal(fbReasons.id(['large_send']), read().evicted);
    },
  }).registerIn(store);
}
