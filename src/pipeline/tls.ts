/**
 * TLS library instrumentation: attaches the uprobes of bpf/probes/ssl.h to the
 * TLS libraries (and executables with a linked-in copy) of selected processes, and
 * those of bpf/probes/go_tls.h to Go executables (their crypto/tls).
 *
 * One attachment per file, identified by (device, inode): a uprobe fires in every
 * process that maps the file, and the BPF programs drop untraced processes at
 * once, so the first selected user attaches and later ones only count. The
 * untraced processes still pay the trap on each call (counted:
 * `obi_ebpf_tls_calls_total{process="other"}`); docs/devdocs/kernel.md has what that
 * costs and why per-process links are not used. A file is
 * detached when its last selected user exits or unmaps it (exec, dlclose).
 * Libraries loaded after start-up (dlopen, or a process selected at exec whose
 * libraries the dynamic loader maps a moment later) are found by re-reading
 * /proc/PID/maps of the selected processes only: a few times shortly after
 * selection, then every `recheckMs`.
 * A file is opened by the agent (discovery/tls.ts `openTlsFile`: /proc/PID/root/<path>,
 * device and inode checked; no CAP_SYS_ADMIN needed) and attached through that
 * descriptor (/proc/self/fd/N): a process that exits meanwhile only means another
 * user of the file attaches it, never that the file is given up.
 * A library stays attached `lingerMs` after its last user exits, so a stream of
 * short-lived processes (a script running curl in a loop) does not attach and
 * detach it per process, and each one is captured from its first TLS call.
 * A TLS library whose symbols cannot be found (stripped), or that cannot be read
 * or attached, is reported once per process as an instrumentation error.
 */
import { closeSync } from 'node:fs';
import { findTlsMappings, openTlsFile, resolveTlsProbesFd, type OpenedTlsFile, type TlsLibraryKind, type TlsMapping, type TlsResolution } from '../discovery/tls.ts';
import { CounterVec } from '../telemetry/counter.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import type { InstrumentationErrorType } from '../telemetry/internal.ts';
import { SeriesIndex } from '../telemetry/series.ts';
import type { Logger } from './log.ts';

/** The part of BpfObject this module uses. */
export interface UprobeAttacher {
  attachUprobe(prog: string, opts: { retprobe: boolean; pid: number; path: string; offset: number }): number;
  /** the link is gone at once; the kernel's teardown (RCU grace periods) runs off the event loop */
  detachAsync(link: number): Promise<void>;
}

export interface TlsInstrumenterOptions {
  readonly bpf: UprobeAttacher;
  readonly log: Logger;
  /** an instrumentation error of a process (`obi_instrumentation_errors_total`) */
  readonly onError?: (processName: string, errorType: InstrumentationErrorType) => void;
  readonly procRoot?: string;
  /** re-check of every instrumented process's mappings; 0 disables */
  readonly recheckMs?: number;
  /** re-checks of a newly instrumented process (its libraries are mapped after exec) */
  readonly followUpMs?: readonly number[];
  /** Go executables get no crypto/tls uprobes (discovery.skip_go_specific_tracers) */
  readonly skipGo?: boolean;
  /** how long a library stays attached after its last user went (default DEFAULT_TLS_LINGER_MS) */
  readonly lingerMs?: number;
  /** for tests */
  readonly findMappings?: (pid: number) => TlsMapping[];
  readonly resolve?: (m: TlsMapping) => TlsResolution | undefined;
  readonly open?: (m: TlsMapping) => OpenedTlsFile;
}

export interface TlsLibraryStatus {
  readonly key: string;
  readonly path: string;
  readonly kind: TlsLibraryKind;
  /** uprobe links held */
  readonly links: number;
  /** selected processes that map it */
  readonly users: readonly number[];
}

interface Lib {
  readonly key: string;
  readonly path: string;
  readonly kind: TlsLibraryKind;
  readonly links: number[];
  readonly users: Set<number>;
  /** pending detach after the last user went */
  linger?: NodeJS.Timeout;
}

interface Proc {
  readonly name: string;
  readonly keys: Set<string>;
  /** files already reported as errors for this process */
  readonly reported: Set<string>;
  timers: NodeJS.Timeout[];
}

/** Why a file is not attached (kept so it is not resolved again). */
interface Unusable {
  readonly reason: 'no_tls' | InstrumentationErrorType;
  readonly detail: string;
}

export const DEFAULT_TLS_RECHECK_MS = 1000;
/** files remembered as not instrumentable (executables without TLS code, stripped libraries) */
const MAX_UNUSABLE = 4096;
export const DEFAULT_TLS_FOLLOW_UP_MS: readonly number[] = [10, 50, 200, 500];
export const DEFAULT_TLS_LINGER_MS = 2000;

export class TlsInstrumenter {
  private readonly _opts: TlsInstrumenterOptions;
  private readonly _libs = new Map<string, Lib>();
  private readonly _unusable = new Map<string, Unusable>();
  private readonly _procs = new Map<number, Proc>();
  private readonly _find: (pid: number) => TlsMapping[];
  private readonly _resolve: ((m: TlsMapping) => TlsResolution | undefined) | undefined;
  private readonly _open: (m: TlsMapping) => OpenedTlsFile;
  private _timer: NodeJS.Timeout | undefined;
  private _closed = false;

  constructor(opts: TlsInstrumenterOptions) {
    this._opts = opts;
    this._find = opts.findMappings ?? ((pid) => findTlsMappings(pid, opts.procRoot));
    this._resolve = opts.resolve;
    this._open = opts.open ?? (opts.resolve ? () => ({ fd: -1, via: 'root' }) : openTlsFile);
    const every = opts.recheckMs ?? DEFAULT_TLS_RECHECK_MS;
    if (every > 0) {
      this._timer = setInterval(() => this.recheck(), every);
      this._timer.unref();
    }
  }

  /** A process was selected (or exec'd a new image): instrument what it maps now and shortly after. */
  instrument(pid: number, processName: string): void {
    if (this._closed) return;
    let p = this._procs.get(pid);
    if (!p) {
      p = { name: processName, keys: new Set(), reported: new Set(), timers: [] };
      this._procs.set(pid, p);
    }
    this._safeScan(pid, p);
    for (const t of p.timers) clearTimeout(t);
    p.timers = (this._opts.followUpMs ?? DEFAULT_TLS_FOLLOW_UP_MS).map((ms) => {
      const t = setTimeout(() => {
        const q = this._procs.get(pid);
        if (q) this._safeScan(pid, q);
      }, ms);
      t.unref();
      return t;
    });
  }

  /** The process exited or is no longer selected. */
  release(pid: number): void {
    const p = this._procs.get(pid);
    if (!p) return;
    this._procs.delete(pid);
    for (const t of p.timers) clearTimeout(t);
    for (const key of p.keys) this._unuse(key, pid);
  }

  /** Re-reads the mappings of every instrumented process (dlopen, dlclose). */
  recheck(): void {
    for (const [pid, p] of this._procs) this._safeScan(pid, p);
  }

  libraries(): TlsLibraryStatus[] {
    return [...this._libs.values()].map((l) => ({ key: l.key, path: l.path, kind: l.kind, links: l.links.length, users: [...l.users] }));
  }

  /** Files that were looked at and not attached, with the reason. */
  unusable(): { key: string; reason: string; detail: string }[] {
    return [...this._unusable].map(([key, u]) => ({ key, reason: u.reason, detail: u.detail }));
  }

  /** Detaches everything and stops the re-checks. */
  close(): void {
    this._closed = true;
    if (this._timer) clearInterval(this._timer);
    for (const pid of [...this._procs.keys()]) this.release(pid);
    for (const lib of [...this._libs.values()]) this._detachLib(lib);
  }

  /** per-process entries held (tests: back to the baseline after churn) */
  get processCount(): number {
    return this._procs.size;
  }

  private _safeScan(pid: number, p: Proc): void {
    try {
      this._scan(pid, p);
    } catch (err) {
      this._opts.log.error('TLS re-check failed', { pid, error: (err as Error).message });
    }
  }

  private _scan(pid: number, p: Proc): void {
    const mappings = this._find(pid);
    const now = new Set<string>();
    for (const m of mappings) {
      now.add(m.key);
      if (p.keys.has(m.key)) continue;
      const lib = this._libs.get(m.key) ?? this._attach(m);
      if (lib) {
        if (lib.linger) clearTimeout(lib.linger);
        lib.linger = undefined;
        lib.users.add(pid);
        p.keys.add(m.key);
        continue;
      }
      let u = this._unusable.get(m.key);
      // unreadable although the process is still there
      if (!u && this._find(pid).length > 0) u = { reason: 'inspection_failed', detail: `cannot read ${m.openPath}` };
      if (u && u.reason !== 'no_tls' && !p.reported.has(m.key)) {
        p.reported.add(m.key);
        this._opts.onError?.(p.name, u.reason);
        this._opts.log.warn('TLS library not instrumented', { pid, process: p.name, path: m.path, reason: u.reason, detail: u.detail });
      }
    }
    // unmapped since (dlclose) or replaced by exec; a process that is gone reads as no mappings and
    // keeps its files until release()
    if (mappings.length === 0) return;
    for (const key of [...p.keys]) {
      if (!now.has(key)) {
        p.keys.delete(key);
        this._unuse(key, pid);
      }
    }
  }

  private _markUnusable(key: string, u: Unusable): void {
    if (this._unusable.size >= MAX_UNUSABLE) {
      const oldest = this._unusable.keys().next().value;
      if (oldest !== undefined) this._unusable.delete(oldest);
    }
    this._unusable.set(key, u);
  }

  /** Resolves and attaches a file seen for the first time; undefined if it is not (or cannot be) instrumented. */
  private _attach(m: TlsMapping): Lib | undefined {
    if (this._unusable.has(m.key)) return undefined;
    const t0 = performance.now();
    const file = this._open(m);
    if ('error' in file) {
      // gone: the process exited; the file is tried again through its next user
      if (file.error === 'inaccessible') this._markUnusable(m.key, { reason: 'inspection_failed', detail: file.detail });
      return undefined;
    }
    const links: number[] = [];
    let res: TlsResolution | undefined;
    try {
      try {
        res = this._resolve ? this._resolve(m) : resolveTlsProbesFd(file.fd, m.candidate, { go: !this._opts.skipGo });
      } catch (err) {
        res = undefined;
        this._opts.log.debug('TLS symbol lookup failed', { path: m.path, error: (err as Error).message });
      }
      if (!res) return undefined; // unreadable now: not remembered, tried again
      if (!res.kind) {
        this._markUnusable(m.key, { reason: 'no_tls', detail: 'no TLS library symbols' });
        return undefined;
      }
      if (res.missing.length > 0) {
        this._markUnusable(m.key, { reason: 'symbol_not_found', detail: `${res.kind}: missing ${res.missing.join(', ')} (stripped?)` });
        return undefined;
      }
      // the agent's own descriptor: the kernel resolves it to the inode, whoever mapped it
      const path = file.fd >= 0 ? `/proc/self/fd/${file.fd}` : m.openPath;
      try {
        for (const pr of res.probes) {
          links.push(this._opts.bpf.attachUprobe(pr.program, { retprobe: pr.retprobe, pid: -1, path, offset: pr.offset }));
        }
      } catch (err) {
        for (const l of links) this._detach(l);
        this._markUnusable(m.key, { reason: 'attaching_uprobe', detail: (err as Error).message });
        return undefined;
      }
    } finally {
      if (file.fd >= 0) closeSync(file.fd);
    }
    const lib: Lib = { key: m.key, path: m.path, kind: res.kind, links, users: new Set() };
    this._libs.set(m.key, lib);
    this._opts.log.info('TLS library instrumented', {
      path: m.path,
      kind: res.kind,
      embedded: m.candidate === 'executable' || undefined,
      via: file.via,
      symbols: [...new Set(res.probes.map((p) => p.symbol))].join(','),
      uprobes: links.length,
      ms: (performance.now() - t0).toFixed(1),
    });
    return lib;
  }

  private _unuse(key: string, pid: number): void {
    const lib = this._libs.get(key);
    if (!lib) return;
    lib.users.delete(pid);
    if (lib.users.size > 0 || lib.linger) return;
    const linger = this._closed ? 0 : (this._opts.lingerMs ?? DEFAULT_TLS_LINGER_MS);
    if (linger <= 0) {
      this._detachLib(lib);
      return;
    }
    lib.linger = setTimeout(() => {
      lib.linger = undefined;
      if (lib.users.size === 0) this._detachLib(lib);
    }, linger);
    lib.linger.unref();
  }

  private _detachLib(lib: Lib): void {
    if (lib.linger) clearTimeout(lib.linger);
    lib.linger = undefined;
    if (this._libs.get(lib.key) !== lib) return;
    for (const l of lib.links) this._detach(l);
    this._libs.delete(lib.key);
    this._opts.log.info('TLS library released', { path: lib.path, kind: lib.kind });
  }

  private _detach(link: number): void {
    try {
      this._opts.bpf.detachAsync(link).catch(() => undefined);
    } catch {
      /* the object is closed already */
    }
  }
}

/** TLS library reads and writes the uprobes intercepted (bpf/abi/events.h OBI_STAT_TLS_CALLS*) */
export interface TlsCallCounts {
  /** of selected processes */
  readonly selected: number;
  /** of other processes that run a library file attached for a selected one */
  readonly other: number;
}

/**
 * `obi_ebpf_tls_calls_total{process}`: the TLS reads and writes the uprobes intercepted, each one
 * a trap into the kernel in the calling process. `other` counts the calls of processes that are not
 * selected but run the same library file: the probes are attached per file, so that forked and newly
 * started users are captured from their first call, and those processes pay the trap without being
 * traced.
 */
export function registerTlsCallMetrics(store: FamilyTarget, source: () => TlsCallCounts, prefix = 'obi'): void {
  const index = new SeriesIndex(1);
  const selected = index.id(['selected']);
  const other = index.id(['other']);
  const c: CounterVec = new CounterVec({
    name: `${prefix}.ebpf.tls.calls`,
    unit: '{call}',
    promName: `${prefix}_ebpf_tls_calls_total`,
    help: 'TLS library reads and writes intercepted by the uprobes, by process: selected, or other (not selected, running a library file the probes are attached to for a selected process; each such call pays the uprobe trap)',
    labelNames: ['process'],
    index,
    collect: () => {
      const n = source();
      c.setTotal(selected, n.selected);
      c.setTotal(other, n.other);
    },
  }).registerIn(store);
}
