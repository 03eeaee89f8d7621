/**
 * Selector matching (OBI's CriteriaMatcher, obi-compat §1.4 and §6 step 4).
 *
 * - Inside a selector every set field must match (AND); the first matching include selector wins.
 * - A selector that sets none of open_ports, exe_path, exe_path_regexp, cmd_args, languages,
 *   target_pids or a metadata key selects nothing (OBI ignores selectors without criteria).
 * - Metadata keys (`k8s_namespace`, `k8s_pod_name`, `k8s_deployment_name`, ..., `container_name`:
 *   globs; `k8s_pod_labels`, `k8s_pod_annotations`: name → glob on the value) match against
 *   `ProcessInfo.metadata` (discovery/metadata.ts); a process without that metadata does not match.
 * - `open_ports`: any listening port of the process in any range. `exe_path`: glob on the full
 *   executable path. `cmd_args`: glob on argv joined by single spaces. `languages`: glob on the
 *   detected language. `target_pids`: the pid is listed. `exe_path_regexp`: unanchored
 *   regular-expression search on the executable path (deprecated form).
 * - `containers_only`: the process lives outside the agent's network namespace.
 * - A process matching any `exclude` or `defaultExclude` selector is never selected, nor is the
 *   agent itself (`selfPid`), nor a process without an executable (kernel thread, zombie).
 *
 * System paths (`excluded_linux_system_paths`, default /lib/systemd/ /usr/lib/systemd/
 * /usr/libexec/ /sbin/ /usr/sbin/): OBI documents these as "cannot be selected using the path or
 * language selection criteria" (they are skipped by its language detection) while port and pid
 * selection still reach them. We keep that, with one refinement: an exe_path (or
 * exe_path_regexp) whose literal beginning itself names the system directory, such as
 * `/usr/sbin/nginx`, selects the process, since the user evidently means it. So for a process
 * under a system path a selector counts only if it has open_ports, target_pids or metadata keys, or names the
 * directory in its exe_path; `exe_path: "*"`, `*nginx`, cmd_args or languages alone do not
 * reach it. Debian's /usr/sbin/nginx is thus instrumentable by `open_port: 80`.
 */
import { AgentError } from '../errors.ts';
import { compileGlob, globLiteralPrefix, type GlobMatcher } from '../common/glob.ts';
import type { MetadataCriteria, PortRange, Selector } from '../common/selector.ts';
import type { ProcessInfo, ProcessMetadata } from './types.ts';

export const DEFAULT_EXCLUDED_SYSTEM_PATHS: readonly string[] = Object.freeze([
  '/lib/systemd/',
  '/usr/lib/systemd/',
  '/usr/libexec/',
  '/sbin/',
  '/usr/sbin/',
]);

/** OBI's `default_exclude_instrument` (the executable part; k8s namespaces need metadata we do not have). */
export const DEFAULT_EXCLUDE_INSTRUMENT: readonly Selector[] = Object.freeze([
  Object.freeze({ exePath: '{*/obi,obi,*otelcol,*otelcol-contrib,*otelcol-contrib[!/]*}' }),
]);

export interface MatcherOptions {
  readonly include: readonly Selector[];
  readonly exclude?: readonly Selector[];
  /** default: DEFAULT_EXCLUDE_INSTRUMENT; pass [] to allow those */
  readonly defaultExclude?: readonly Selector[];
  /** the agent's own pid, never selected */
  readonly selfPid?: number;
  /** default: DEFAULT_EXCLUDED_SYSTEM_PATHS */
  readonly excludedSystemPaths?: readonly string[];
  /** the agent's network namespace inode, for containers_only; undefined = every process counts as containerised */
  readonly selfNetNs?: number;
}

interface Compiled {
  readonly selector: Selector;
  readonly ports?: readonly PortRange[];
  readonly exe?: GlobMatcher;
  readonly exeRe?: RegExp;
  readonly cmd?: GlobMatcher;
  readonly lang?: GlobMatcher;
  readonly pids?: ReadonlySet<number>;
  readonly containersOnly: boolean;
  /** metadata globs: each takes the process's metadata and says whether it matches */
  readonly meta?: readonly ((m: ProcessMetadata) => boolean)[];
  readonly hasCriteria: boolean;
  /** literal beginning of exe_path / exe_path_regexp, to tell whether it names a system directory */
  readonly exeLiteral: string;
}

function compileRegexp(src: string): RegExp {
  let flags = '';
  let body = src;
  // Go's leading inline flag group, which JavaScript only knows as a flag
  const m = /^\(\?([imsU]+)\)/.exec(body);
  if (m && !m[1].includes('U')) {
    flags = [...new Set(m[1])].join('');
    body = body.slice(m[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch (cause) {
    throw new AgentError('OBI_ERR_CONFIG_INVALID', `invalid exe_path_regexp ${JSON.stringify(src)}`, { cause });
  }
}

function regexpLiteralPrefix(src: string): string {
  let out = '';
  let i = src.startsWith('^') ? 1 : 0;
  for (; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\' && i + 1 < src.length && /[./\\-]/.test(src[i + 1])) {
      out += src[++i];
      continue;
    }
    if ('.*+?()[]{}|^$\\'.includes(ch)) break;
    out += ch;
  }
  return out;
}

type NameKey = Exclude<keyof MetadataCriteria, 'k8s_pod_labels' | 'k8s_pod_annotations'>;
/** the metadata value each name glob applies to (undefined: the process lacks it, no match) */
const METADATA_VALUE: Record<NameKey, (m: ProcessMetadata) => string | undefined> = {
  k8s_namespace: (m) => m.k8s?.namespace,
  k8s_pod_name: (m) => m.k8s?.podName,
  k8s_deployment_name: (m) => m.k8s?.owners.Deployment,
  k8s_replicaset_name: (m) => m.k8s?.owners.ReplicaSet,
  k8s_daemonset_name: (m) => m.k8s?.owners.DaemonSet,
  k8s_statefulset_name: (m) => m.k8s?.owners.StatefulSet,
  k8s_job_name: (m) => m.k8s?.owners.Job,
  k8s_cronjob_name: (m) => m.k8s?.owners.CronJob,
  k8s_owner_name: (m) => m.k8s?.ownerName,
  k8s_container_name: (m) => m.k8s?.containerName,
  container_name: (m) => m.containerName ?? m.k8s?.containerName,
};

function compileMetadata(c: MetadataCriteria | undefined): ((m: ProcessMetadata) => boolean)[] | undefined {
  if (c === undefined) return undefined;
  const out: ((m: ProcessMetadata) => boolean)[] = [];
  for (const key of Object.keys(METADATA_VALUE) as NameKey[]) {
    const glob = c[key];
    if (glob === undefined) continue;
    const g = compileGlob(glob);
    const value = METADATA_VALUE[key];
    out.push((m) => {
      const v = value(m);
      return v !== undefined && g(v);
    });
  }
  for (const [key, pick] of [
    ['k8s_pod_labels', (m: ProcessMetadata) => m.k8s?.labels],
    ['k8s_pod_annotations', (m: ProcessMetadata) => m.k8s?.annotations],
  ] as const) {
    for (const [name, glob] of Object.entries(c[key] ?? {})) {
      const g = compileGlob(glob);
      out.push((m) => {
        const v = pick(m)?.[name];
        return v !== undefined && g(v);
      });
    }
  }
  return out.length > 0 ? out : undefined;
}

function compileSelector(s: Selector): Compiled {
  const ports = s.openPorts && s.openPorts.length > 0 ? s.openPorts : undefined;
  const pids = s.targetPids && s.targetPids.length > 0 ? new Set(s.targetPids) : undefined;
  const exe = s.exePath !== undefined ? compileGlob(s.exePath) : undefined;
  const exeRe = s.exePathRegexp !== undefined ? compileRegexp(s.exePathRegexp) : undefined;
  const cmd = s.cmdArgs !== undefined ? compileGlob(s.cmdArgs) : undefined;
  const lang = s.languages !== undefined ? compileGlob(s.languages) : undefined;
  const meta = compileMetadata(s.metadata);
  return {
    selector: s,
    ports,
    exe,
    exeRe,
    cmd,
    lang,
    pids,
    containersOnly: s.containersOnly === true,
    meta,
    hasCriteria: !!(ports || pids || exe || exeRe || cmd || lang || meta),
    exeLiteral: s.exePath !== undefined ? globLiteralPrefix(s.exePath) : s.exePathRegexp !== undefined ? regexpLiteralPrefix(s.exePathRegexp) : '',
  };
}

function inRanges(ports: readonly number[], ranges: readonly PortRange[]): boolean {
  for (const p of ports) {
    for (const r of ranges) if (p >= r.start && p <= r.end) return true;
  }
  return false;
}

export class Matcher {
  private readonly _include: readonly Compiled[];
  private readonly _exclude: readonly Compiled[];
  private readonly _selfPid: number | undefined;
  private readonly _systemPaths: readonly string[];
  private readonly _selfNetNs: number | undefined;

  /** Compiles every glob and regexp once; throws AgentError(OBI_ERR_CONFIG_INVALID) on a bad one. */
  constructor(opts: MatcherOptions) {
    this._include = opts.include.map(compileSelector);
    this._exclude = [...(opts.exclude ?? []), ...(opts.defaultExclude ?? DEFAULT_EXCLUDE_INSTRUMENT)].map(compileSelector);
    this._selfPid = opts.selfPid;
    this._systemPaths = opts.excludedSystemPaths ?? DEFAULT_EXCLUDED_SYSTEM_PATHS;
    this._selfNetNs = opts.selfNetNs;
  }

  /** The first include selector that selects `proc`, or undefined. */
  match(proc: ProcessInfo): Selector | undefined {
    if (proc.pid === this._selfPid || proc.exePath === '') return undefined;
    const sysPath = this._systemPathOf(proc.exePath);
    for (const c of this._include) {
      if (!this._matches(c, proc)) continue;
      if (sysPath !== undefined && !c.ports && !c.pids && !c.meta && !c.exeLiteral.startsWith(sysPath)) continue;
      return this.isExcluded(proc) ? undefined : c.selector;
    }
    return undefined;
  }

  /** Whether an exclude or default-exclude selector matches `proc`. */
  isExcluded(proc: ProcessInfo): boolean {
    for (const c of this._exclude) if (this._matches(c, proc)) return true;
    return false;
  }

  private _systemPathOf(exePath: string): string | undefined {
    for (const p of this._systemPaths) if (exePath.startsWith(p)) return p;
    return undefined;
  }

  private _matches(c: Compiled, p: ProcessInfo): boolean {
    if (!c.hasCriteria) return false;
    if (c.pids && !c.pids.has(p.pid)) return false;
    if (c.exe && !c.exe(p.exePath)) return false;
    if (c.exeRe && !c.exeRe.test(p.exePath)) return false;
    if (c.ports && !inRanges(p.listenPorts, c.ports)) return false;
    if (c.lang && !c.lang(p.language)) return false;
    if (c.cmd && !c.cmd(p.cmdline.join(' '))) return false;
    if (c.containersOnly && this._selfNetNs !== undefined && p.netNs === this._selfNetNs) return false;
    if (c.meta) {
      const m = p.metadata;
      if (m === undefined) return false;
      for (const f of c.meta) if (!f(m)) return false;
    }
    return true;
  }
}
