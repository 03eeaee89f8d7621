/**
 * Process lifecycle without restarts (obi-compat §6): a /proc scan at start and
 * every poll interval, plus the kernel's exec / listen / fork / exit events, so a
 * selected process that starts after the agent is picked up as soon as it
 * execs (exe, pid, cmd selectors) or listens (port selectors). Children of a
 * selected process are traced too (the kernel adds them to the PID filter at
 * fork; here they get their identity). Exits clear the kernel filter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { languageFromExeName } from './language.ts';
import { Matcher } from './match.ts';
import { listPids, parseCmdline, parseStat, readProcess, scanAll } from './procfs.ts';
import { serviceIdentity } from './service.ts';
import type { ProcessInfo } from './types.ts';
import type { Selector } from '../common/selector.ts';
import type { ServiceIdentity } from '../common/service.ts';

/** The in-kernel PID filter, as the lifecycle sees it. */
export interface PidFilter {
  allow(pid: number): void;
  block(pid: number): void;
}

/** What the kernel's exec event says besides the pid (bpf/probes/proc.h). */
export interface ExecHint {
  /** an exec admission rule matched: the kernel traces the process already (exec-admission.ts) */
  readonly admitted: boolean;
  /** the path given to execve (used when the process is gone before /proc is read) */
  readonly path: string;
  readonly ppid: number;
  /**
   * the first bytes of argv (NUL-separated, at most OBI_MAX_ARGS = 128: the last argument may be
   * cut) as the kernel read them at exec: the cmdline when the process is gone before /proc is read
   */
  readonly args?: Buffer;
}

/** processes revoked after a provisional admission, remembered so their forks are revoked too */
const MAX_REVOKED = 1024;
/**
 * Exited processes whose identity is kept for their records still on the way (the connection
 * tracker flushes a process's connections at its exit event; a record resolved after that, such
 * as a late read of a process that exited right after its last write, still gets its service):
 * at most this many, for at most EXITED_TTL_MS.
 */
const MAX_EXITED = 1024;
const EXITED_TTL_MS = 30_000;

export interface TrackedProcess {
  readonly pid: number;
  readonly info: ProcessInfo;
  readonly selector: Selector;
  readonly service: ServiceIdentity;
  /** how it was found */
  readonly via: 'scan' | 'exec' | 'listen' | 'fork' | 'parent';
}

export interface LifecycleOptions {
  readonly include: readonly Selector[];
  readonly exclude?: readonly Selector[];
  readonly defaultExclude?: readonly Selector[];
  readonly selfPid: number;
  readonly filter: PidFilter;
  readonly hostName?: string;
  /** processes younger than this are left to a later poll (event-driven selection bypasses it) */
  readonly minProcessAgeMs?: number;
  readonly procRoot?: string;
  /** attaches container / Kubernetes metadata before matching and identity (discovery/metadata.ts; cached per process) */
  readonly decorate?: (info: ProcessInfo) => ProcessInfo;
  onSelected?(p: TrackedProcess): void;
  onRemoved?(p: TrackedProcess): void;
  /** an exited process's identity is no longer kept for late records (MAX_EXITED, EXITED_TTL_MS) */
  onForgotten?(p: TrackedProcess): void;
  /** a tracked process got a new identity from metadata learned after its selection (defaults: removed + selected) */
  onReidentified?(before: TrackedProcess, after: TrackedProcess): void;
  /** a tracked process replaced its image (exec): still traced, with what is known of the new one */
  onExecTracked?(p: TrackedProcess): void;
}

export class ProcessLifecycle {
  readonly tracked = new Map<number, TrackedProcess>();
  private readonly _matcher: Matcher;
  private readonly _opts: LifecycleOptions;
  private readonly _host: string;
  /** false when every selector needs a listening port: exec events then need no /proc read */
  private readonly _execMatters: boolean;
  private readonly _revoked = new Set<number>();
  /** tracked processes the last scan did not find */
  private readonly _missing = new Set<number>();
  /** selections undone because the process had exited before the kernel filter was written */
  lateSelections = 0;
  /**
   * tracked processes whose filter entry user space wrote (the others the kernel admitted at exec
   * or fork): the kernel may have removed such a process at its exit just before the write, so
   * its exit event is followed by a removal from here
   */
  private readonly _allowed = new Set<number>();
  /** exited processes, oldest first, with the time of their exit (MAX_EXITED) */
  private readonly _exited = new Map<number, { p: TrackedProcess; at: number }>();

  constructor(opts: LifecycleOptions) {
    this._opts = opts;
    this._host = opts.hostName ?? hostname();
    this._matcher = new Matcher({
      include: opts.include,
      exclude: opts.exclude,
      defaultExclude: opts.defaultExclude,
      selfPid: opts.selfPid,
    });
    this._execMatters = opts.include.some((s) => !s.openPorts || s.openPorts.length === 0);
  }

  private _decorate(info: ProcessInfo): ProcessInfo {
    return this._opts.decorate ? this._opts.decorate(info) : info;
  }

  /** `inKernel`: the kernel traces it already (admitted at exec): the filter is not written again */
  private _select(raw: ProcessInfo, selector: Selector, via: TrackedProcess['via'], inKernel = false): TrackedProcess | undefined {
    if (raw.pid === this._opts.selfPid || this.tracked.has(raw.pid)) return this.tracked.get(raw.pid);
    this._exited.delete(raw.pid); // the pid is another process's now
    const info = this._decorate(raw);
    if (!inKernel) {
      this._opts.filter.allow(info.pid);
      // The kernel reports the exit only of what it traces: a process that exited before the
      // line above never will, and its filter entry would outlive it (and trace the next process
      // given its pid). Checked after the write, so an exit after it is the kernel's to report.
      if (!processLives(info.pid, this._opts.procRoot ?? '/proc')) {
        this._opts.filter.block(info.pid);
        this.lateSelections++;
        return undefined;
      }
    }
    const service = serviceIdentity(info, selector, this._host, this._opts.procRoot);
    const p: TrackedProcess = { pid: info.pid, info, selector, service, via };
    this.tracked.set(info.pid, p);
    if (!inKernel) this._allowed.add(info.pid);
    this._opts.onSelected?.(p);
    return p;
  }

  /** `unfilter`: remove it from the kernel filter too (always when user space wrote it there) */
  private _remove(pid: number, unfilter = true): void {
    const p = this.tracked.get(pid);
    if (!p) return;
    this.tracked.delete(pid);
    const allowed = this._allowed.delete(pid);
    if (unfilter || allowed) this._opts.filter.block(pid);
    this._opts.onRemoved?.(p);
  }

  /** /proc scan: select matches (and children of tracked processes), forget vanished ones */
  scan(initial = false): void {
    const procs = scanAll({ procRoot: this._opts.procRoot });
    const alive = new Set<number>();
    const now = Date.now();
    for (const [pid, e] of this._exited) {
      if (now - e.at < EXITED_TTL_MS) break;
      this._exited.delete(pid);
      this._opts.onForgotten?.(e.p);
    }
    const minAge = initial ? 0 : (this._opts.minProcessAgeMs ?? 0);
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    for (const info of procs) {
      alive.add(info.pid);
      if (this.tracked.has(info.pid) || now - info.startTimeMs < minAge) continue;
      const decorated = this._decorate(info);
      const sel = this._matcher.match(decorated);
      if (sel) this._select(decorated, sel, 'scan');
    }
    // children (nginx/gunicorn workers) of selected processes, transitively
    for (const info of procs) {
      if (this.tracked.has(info.pid) || info.pid === this._opts.selfPid) continue;
      let anc = byPid.get(info.ppid);
      for (let depth = 0; anc && depth < 8; depth++) {
        const t = this.tracked.get(anc.pid);
        if (t) {
          this._select(info, t.selector, 'parent');
          break;
        }
        anc = byPid.get(anc.ppid);
      }
    }
    // the kernel reports exits of what it traces (onExit, in order after the process's last
    // events): a process missing from /proc is forgotten here only if it is still missing at the
    // next poll (an exit event lost), never while its last events may still be queued
    for (const pid of [...this.tracked.keys()]) {
      if (alive.has(pid)) {
        this._missing.delete(pid);
      } else if (this._missing.has(pid)) {
        this._missing.delete(pid);
        this._remove(pid);
      } else this._missing.add(pid);
    }
    for (const pid of this._missing) if (!this.tracked.has(pid)) this._missing.delete(pid);
  }

  /**
   * A process selected from an event may already have forked (nginx forks its
   * workers right after listen(), before user space has allowed the master in
   * the kernel filter): adopt its existing descendants now, not at the next poll.
   */
  private _adoptChildren(root: TrackedProcess): void {
    const procRoot = this._opts.procRoot ?? '/proc';
    const parents = new Set([root.pid]);
    const stats: { pid: number; ppid: number }[] = [];
    for (const pid of listPids(procRoot)) {
      if (this.tracked.has(pid) || pid === this._opts.selfPid) continue;
      try {
        const st = parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
        if (st) stats.push({ pid, ppid: st.ppid });
      } catch {
        /* gone */
      }
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const s of stats) {
        if (parents.has(s.ppid) && !parents.has(s.pid)) {
          const info = readProcess(s.pid, this._opts.procRoot);
          if (info) this._select(info, root.selector, 'parent');
          parents.add(s.pid);
          changed = true;
        }
      }
    }
  }

  onExec(pid: number, hint?: ExecHint): void {
    const t = this.tracked.get(pid);
    if (t) {
      // a traced process (or child) replaced its image: keep tracing, refresh what we know
      const info = readProcess(pid, this._opts.procRoot);
      if (info) {
        const next = { ...t, info };
        this.tracked.set(pid, next);
        this._opts.onExecTracked?.(next);
      }
      return;
    }
    this._revoked.delete(pid);
    this._exited.delete(pid); // a new process under this pid
    const admitted = hint?.admitted === true;
    if (!this._execMatters) {
      if (admitted) this._revoke(pid);
      return;
    }
    // a short-lived process may be gone already: what the exec event said still selects it,
    // so the spans the kernel captured since its admission keep their service
    // (a zombie reads with no executable)
    let raw = readProcess(pid, this._opts.procRoot);
    if (admitted && (!raw || raw.exePath === '')) raw = infoFromExec(pid, hint!) ?? raw;
    const info = raw && this._decorate(raw);
    const sel = info && this._matcher.match(info);
    const p = info && sel && this._select(info, sel, 'exec', admitted);
    if (p) this._adoptChildren(p);
    else if (admitted) this._revoke(pid);
  }

  /** a provisional kernel admission that the full selectors do not confirm */
  private _revoke(pid: number): void {
    this._opts.filter.block(pid);
    if (this._revoked.size >= MAX_REVOKED) this._revoked.delete(this._revoked.values().next().value!);
    this._revoked.add(pid);
  }

  onListen(pid: number, port: number): void {
    if (this.tracked.has(pid) || pid === this._opts.selfPid) return;
    const info = readProcess(pid, this._opts.procRoot);
    if (!info) return;
    const withPort = this._decorate(info.listenPorts.includes(port) ? info : { ...info, listenPorts: [...info.listenPorts, port] });
    const sel = this._matcher.match(withPort);
    const p = sel && this._select(withPort, sel, 'listen');
    if (p) this._adoptChildren(p);
  }

  /** the kernel already traces the child; give it an identity */
  onFork(pid: number, ppid: number): void {
    const parent = this.tracked.get(ppid);
    if (!parent && this._revoked.has(ppid)) {
      // forked between its admission at exec and the revocation
      this._revoke(pid);
      return;
    }
    if (!parent || this.tracked.has(pid)) return;
    const info = readProcess(pid, this._opts.procRoot) ?? { ...parent.info, pid, ppid };
    // never written from here: the child may have exited already (a PostgreSQL backend of a
    // one-query client), the kernel has then removed it, and writing it back would leak it
    this._select(info, parent.selector, 'fork', true);
  }

  /**
   * Metadata about container `containerId` arrived after some of its processes were selected
   * (a Docker start event or a pod update later than the process's listen): their identity is
   * resolved again and, where it changed, replaced (the kernel filter is untouched).
   */
  reidentifyContainer(containerId: string): void {
    for (const t of [...this.tracked.values()]) {
      if (t.info.metadata?.containerId !== containerId) continue;
      const { metadata: _old, ...bare } = t.info;
      const info = this._decorate(bare);
      const service = serviceIdentity(info, t.selector, this._host, this._opts.procRoot);
      if (service.name === t.service.name && service.namespace === t.service.namespace && service.instanceId === t.service.instanceId && JSON.stringify(service.attributes) === JSON.stringify(t.service.attributes)) continue;
      const next: TrackedProcess = { ...t, info, service };
      this.tracked.set(t.pid, next);
      if (this._opts.onReidentified) this._opts.onReidentified(t, next);
      else {
        this._opts.onRemoved?.(t);
        this._opts.onSelected?.(next);
      }
    }
  }

  /**
   * The kernel reported the exit and has already removed the process from its filter (proc.h).
   * User space writes the filter again only for a process it allowed itself (`_allowed`): that
   * write may have come after the kernel's removal (the process was exiting, not yet a zombie,
   * when user space checked it). Processes the kernel admitted are left to the kernel: the pid
   * may already be a new process the kernel admitted at exec.
   */
  onExit(pid: number): void {
    this._revoked.delete(pid);
    const p = this.tracked.get(pid);
    this._remove(pid, false);
    if (p === undefined) return;
    this._exited.delete(pid);
    this._exited.set(pid, { p, at: Date.now() });
    if (this._exited.size > MAX_EXITED) {
      const [oldest, e] = this._exited.entries().next().value!;
      this._exited.delete(oldest);
      this._opts.onForgotten?.(e.p);
    }
  }

  /** the service of `pid`: a tracked process, or one that exited a moment ago (MAX_EXITED) */
  identify(pid: number): ServiceIdentity | undefined {
    return (this.tracked.get(pid) ?? this._exited.get(pid)?.p)?.service;
  }

  /** whether `pid` was admitted at exec and then revoked (its records are not of a selected process) */
  wasRevoked(pid: number): boolean {
    return this._revoked.has(pid);
  }

  /** per-process state held (tests check it returns to its baseline after churn) */
  get allowedCount(): number {
    return this._allowed.size;
  }

  get revokedCount(): number {
    return this._revoked.size;
  }

  /** exited processes whose identity is still kept (bounded by MAX_EXITED and EXITED_TTL_MS) */
  get exitedCount(): number {
    return this._exited.size;
  }
}

function infoFromExec(pid: number, hint: ExecHint): ProcessInfo | undefined {
  if (!hint.path.startsWith('/')) return undefined;
  return {
    pid,
    ppid: hint.ppid,
    exePath: hint.path,
    cmdline: hint.args !== undefined && hint.args.length > 0 ? parseCmdline(hint.args) : [hint.path],
    listenPorts: [],
    startTimeMs: Date.now(),
    language: languageFromExeName(hint.path) ?? 'generic',
  };
}

/**
 * Whether `pid` is a live process: not gone, not a zombie (a zombie leader with threads still
 * running is alive: the kernel reports the exit of a thread group when its last thread exits).
 */
function processLives(pid: number, procRoot: string): boolean {
  let state: string | undefined;
  try {
    state = parseStat(readFileSync(`${procRoot}/${pid}/stat`, 'latin1'))?.state;
  } catch {
    return false;
  }
  if (state !== 'Z' && state !== 'X') return state !== undefined;
  try {
    return readdirSync(`${procRoot}/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}
