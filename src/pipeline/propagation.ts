/**
 * Context propagation (`ebpf.context_propagation`, docs/devdocs/propagation.md): which modes run,
 * the sockops program attached to the cgroups of the selected processes, the kernel's per-process
 * id rule (`prop_pids`), the start-up report and the `obi_context_propagation_*` self-metrics.
 *
 * `tcp` (the default): the kernel decides each request's ids at its start and writes the client's
 * into a TCP option (kind 25) that the agent on the receiving host reads (bpf/probes/propagation.h).
 * `headers` (HTTP header injection) is not implemented yet: asked for, it is reported with
 * OBI_ERR_PROPAGATION_UNAVAILABLE at start-up and `tcp` runs where it was asked for too.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ObiPropMode } from '../abi/events.ts';
import type { TrackedProcess } from '../discovery/lifecycle.ts';
import { CounterVec } from '../telemetry/counter.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import { GaugeVec } from '../telemetry/gauge.ts';
import { SeriesIndex } from '../telemetry/series.ts';
import { policyFor } from './correlation.ts';
import type { Logger } from './log.ts';

/** what `ebpf.context_propagation` asks for, and what runs */
export interface PropagationPlan {
  /** the configured value, as given */
  readonly requested: string;
  readonly tcp: boolean;
  /** header injection was asked for (`headers`, `http`, `all`): not available yet */
  readonly headersAsked: boolean;
  /** the mode label of `obi_context_propagation_mode` */
  readonly active: 'tcp' | 'disabled';
}

export function planPropagation(value: string | undefined): PropagationPlan {
  const requested = (value ?? '').trim() || 'tcp';
  const parts = new Set(requested.split(',').map((s) => s.trim()));
  const all = parts.has('all');
  const headersAsked = all || parts.has('headers') || parts.has('http');
  // `headers` alone asks for propagation: until injection exists, `tcp` carries it ("never silently": reported)
  const tcp = all || parts.has('tcp') || headersAsked;
  return { requested, tcp, headersAsked, active: tcp ? 'tcp' : 'disabled' };
}

/**
 * How the kernel decides the ids of a process's client requests (enum obi_prop_mode), from the
 * correlation policy user space applies to it (pipeline/correlation.ts), so that both agree:
 * thread → THREAD, event (nginx) → EVENT, unlinked (Go, event loops) → ROOT. Node.js → OFF: its
 * client spans are re-parented after the fact by the inspector linker (node-ctx/), which the kernel
 * cannot know at the write, so no id of it goes on the wire.
 */
export function propModeFor(p: Pick<TrackedProcess, 'info'>): number {
  if (p.info.language === 'nodejs') return ObiPropMode.OBI_PROP_OFF;
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
  readonly propagation: { written: number; read: number; used: number };
  readonly bpf: { attachCgroup(prog: string, dir: string): number; detach(link: number): void };
}

export interface PropagationOptions {
  readonly plan: PropagationPlan;
  readonly kernel: PropagationKernel;
  readonly log: Logger;
  /** cgroup v2 mount (default: from /proc/mounts) */
  readonly cgroupRoot?: string;
  readonly procRoot?: string;
  /** why `tcp` cannot run although asked for (e.g. CAP_NET_ADMIN missing: the sockops program was not loaded) */
  readonly unavailable?: string;
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

  constructor(o: PropagationOptions) {
    this._o = o;
    this.plan = o.plan;
    this._root = o.cgroupRoot ?? cgroup2Mount(o.procRoot);
    if (o.plan.tcp && o.unavailable !== undefined) this._unavailable = o.unavailable;
    else if (o.plan.tcp && this._root === undefined) this._unavailable = 'no cgroup v2 hierarchy is mounted';
  }

  /** the cgroup directories the sockops program runs on */
  get cgroups(): string[] {
    return [...this._links.keys()].sort();
  }

  /** the start-up report: what runs, where and why; header injection asked for is never silent */
  report(): void {
    const p = this.plan;
    const log = this._o.log;
    if (p.headersAsked) {
      log.warn('context propagation: header injection is not available yet; the TCP option carries the context instead', {
        code: 'OBI_ERR_PROPAGATION_UNAVAILABLE',
        requested: p.requested,
        running: this._unavailable === undefined && p.tcp ? 'tcp' : 'disabled',
      });
    }
    if (!p.tcp) {
      log.info('context propagation', { mode: 'disabled', requested: p.requested, why: 'ebpf.context_propagation is disabled: no sockops program is attached, no id goes on the wire' });
      return;
    }
    if (this._unavailable !== undefined) {
      log.warn('context propagation: tcp is not available', { code: 'OBI_ERR_PROPAGATION_UNAVAILABLE', requested: p.requested, why: this._unavailable });
      return;
    }
    log.info('context propagation', {
      mode: 'tcp',
      requested: p.requested,
      why:
        'TCP option kind 25 (trace id + span id) on client segments of selected processes, read on their server sockets; no application byte changes. ' +
        'Scope: the cgroup v2 directories of the selected processes (attached as they are selected), all their ports',
      cgroups: this.cgroups.join(',') || '(none yet)',
    });
  }

  /** a process was selected: its id rule, and the sockops program on its cgroup */
  selected(p: Pick<TrackedProcess, 'pid' | 'info'>): void {
    if (!this.plan.tcp || this._unavailable !== undefined) return;
    const mode = propModeFor(p);
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
    if (!this.plan.tcp || this._unavailable !== undefined) return;
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

/**
 * `obi_context_propagation_mode{mode}` (1 for the mode that runs) and the kernel counters:
 * `obi_context_propagation_tcp_options_written_total`, `..._options_read_total`,
 * `..._parents_total` (server requests given their parent by a received option).
 */
export function registerPropagationMetrics(store: FamilyTarget, active: string, source: () => { written: number; read: number; used: number }, prefix = 'obi'): void {
  const none = new SeriesIndex(0);
  const modes = new SeriesIndex(1);
  const mode: GaugeVec = new GaugeVec({
    name: `${prefix}.context_propagation.mode`,
    help: 'Context propagation mode that runs (ebpf.context_propagation): 1 for the active mode (tcp or disabled)',
    labelNames: ['mode'],
    index: modes,
  }).registerIn(store);
  mode.set(modes.id([active]), 1);
  let last: { written: number; read: number; used: number } | undefined;
  let lastAt = 0;
  const read = (): { written: number; read: number; used: number } => {
    const now = performance.now();
    if (last === undefined || now - lastAt > 50) {
      last = source();
      lastAt = now;
    }
    return last;
  };
  const family = (name: string, help: string, pick: (c: { written: number; read: number; used: number }) => number): void => {
    const c: CounterVec = new CounterVec({
      name: `${prefix}.context_propagation.tcp.${name}`,
      help,
      labelNames: [],
      index: none,
      collect: () => c.setTotal(0, pick(read())),
    }).registerIn(store);
  };
  family('options_written', 'TCP segments sent with the trace-context option (kind 25) by client sockets of selected processes', (c) => c.written);
  family('options_read', 'TCP segments received with the trace-context option on sockets in the attached cgroups', (c) => c.read);
  family('parents', 'Server requests whose parent span (and trace) came from a received TCP option', (c) => c.used);
}
