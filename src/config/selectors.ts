/**
 * Normalised discovery selectors (`Selector`, src/common/selector.ts) from the validated config.
 *
 * Include selectors, in order:
 *   1. `discovery.instrument[]` (glob) — or, only when it is empty, the deprecated
 *      `discovery.services[]` (regular expressions; `exe_path`/`exe_path_regexp` → exePathRegexp);
 *   2. one selector ANDing the shortcut keys that are set: `open_port`, `auto_target_exe`
 *      (OTEL_EBPF_AUTO_TARGET_EXE / OTEL_GO_AUTO_TARGET_EXE), `auto_target_language`, `target_pids`,
 *      `executable_path`; named by `service_name` / `service_namespace`.
 * Exclude selectors: `exclude_instrument[]` + `default_exclude_instrument[]` (+ the `*_services`
 * regex forms when `services` is in use).
 *
 * Entries using Kubernetes/container metadata (`k8s_*`, `container_name`) carry it as
 * `Selector.metadata`: they match processes whose metadata (Docker API, Kubernetes informers)
 * says so, and nothing where that metadata is off. Entries without any criterion are dropped
 * (OBI ignores those too).
 */
import type { MetadataCriteria, Selector } from '../common/selector.ts';
import type { ObiConfig, GlobSelectorConfig, RegexSelectorConfig } from './generated/types.ts';
import { parsePidList, parsePortRanges } from './ranges.ts';

export const METADATA_KEYS = [
  'k8s_namespace', 'k8s_pod_name', 'k8s_deployment_name', 'k8s_replicaset_name', 'k8s_daemonset_name',
  'k8s_statefulset_name', 'k8s_job_name', 'k8s_cronjob_name', 'k8s_owner_name', 'k8s_container_name',
  'container_name', 'k8s_pod_labels', 'k8s_pod_annotations',
] as const;

type Entry = GlobSelectorConfig | RegexSelectorConfig;

export interface SelectorViews {
  readonly selectors: readonly Selector[];
  readonly excludeSelectors: readonly Selector[];
  /** true when OBI would enable application observability (some selector key is set) */
  readonly appO11yRequested: boolean;
  readonly warnings: readonly string[];
}

type Built = { readonly selector: Selector } | { readonly dropped: string };

function build(entry: Entry, regex: boolean): Built {
  const s: { -readonly [K in keyof Selector]: Selector[K] } = {};
  const meta = METADATA_KEYS.filter((k) => entry[k] !== undefined);
  if (meta.length > 0 && regex) return { dropped: `uses ${meta.join(', ')} in the regular-expression form (discovery.services); obi-ts matches metadata with the glob form of discovery.instrument` };
  if (meta.length > 0) s.metadata = Object.freeze(Object.fromEntries(meta.map((k) => [k, entry[k]]))) as MetadataCriteria;
  if (entry.name !== undefined) s.name = entry.name;
  if (entry.namespace !== undefined) s.namespace = entry.namespace;
  if (entry.open_ports !== undefined) {
    const ports = parsePortRanges(entry.open_ports);
    if (ports.length > 0) s.openPorts = Object.freeze(ports);
  }
  if (entry.target_pids !== undefined) {
    const pids = parsePidList(entry.target_pids);
    if (pids.length > 0) s.targetPids = Object.freeze(pids);
  }
  if (regex) {
    const r = entry as RegexSelectorConfig;
    const re = r.exe_path ?? r.exe_path_regexp;
    if (re !== undefined) s.exePathRegexp = re;
  } else {
    const g = entry as GlobSelectorConfig;
    if (g.exe_path !== undefined) s.exePath = g.exe_path;
    if (g.cmd_args !== undefined) s.cmdArgs = g.cmd_args;
    if (g.languages !== undefined) s.languages = g.languages;
  }
  if (entry.containers_only !== undefined) s.containersOnly = entry.containers_only;
  if (entry.exports !== undefined) s.exports = Object.freeze([...entry.exports]);
  if (s.openPorts === undefined && s.targetPids === undefined && s.exePath === undefined && s.exePathRegexp === undefined &&
    s.cmdArgs === undefined && s.languages === undefined && s.metadata === undefined) {
    return { dropped: 'has no criterion (open_ports, exe_path, cmd_args, languages, target_pids, k8s_*, container_name)' };
  }
  return { selector: Object.freeze(s) };
}

function buildList(entries: readonly Entry[], regex: boolean, where: string, warn: boolean, warnings: string[]): Selector[] {
  const out: Selector[] = [];
  entries.forEach((entry, i) => {
    const b = build(entry, regex);
    if ('selector' in b) out.push(b.selector);
    else if (warn) warnings.push(`${where}[${i}] is ignored: it ${b.dropped}`);
  });
  return out;
}

/** Builds the selector views. Call on a validated config (port/PID syntax already checked). */
export function buildSelectors(config: ObiConfig): SelectorViews {
  const warnings: string[] = [];
  const d = config.discovery;
  const useServices = d.instrument.length === 0 && d.services.length > 0;
  const selectors = useServices
    ? buildList(d.services, true, 'discovery.services', true, warnings)
    : buildList(d.instrument, false, 'discovery.instrument', true, warnings);

  const shortcut: { -readonly [K in keyof Selector]: Selector[K] } = {};
  if (config.open_port !== undefined) {
    const ports = parsePortRanges(config.open_port);
    if (ports.length > 0) shortcut.openPorts = Object.freeze(ports);
  }
  if (config.auto_target_exe !== undefined && config.auto_target_exe !== '') shortcut.exePath = config.auto_target_exe;
  if (config.auto_target_language !== undefined && config.auto_target_language !== '') shortcut.languages = config.auto_target_language;
  if (config.target_pids !== undefined) {
    const pids = parsePidList(config.target_pids);
    if (pids.length > 0) shortcut.targetPids = Object.freeze(pids);
  }
  if (config.executable_path !== undefined && config.executable_path !== '') shortcut.exePathRegexp = config.executable_path;
  if (Object.keys(shortcut).length > 0) {
    if (config.service_name !== undefined && config.service_name !== '') shortcut.name = config.service_name;
    if (config.service_namespace !== undefined && config.service_namespace !== '') shortcut.namespace = config.service_namespace;
    selectors.push(Object.freeze(shortcut));
  }

  const excludeSelectors = [
    ...buildList(d.exclude_instrument, false, 'discovery.exclude_instrument', true, warnings),
    ...buildList(d.default_exclude_instrument, false, 'discovery.default_exclude_instrument', false, warnings),
  ];
  if (useServices) {
    excludeSelectors.push(
      ...buildList(d.exclude_services, true, 'discovery.exclude_services', true, warnings),
      ...buildList(d.default_exclude_services, true, 'discovery.default_exclude_services', false, warnings),
    );
  }
  const appO11yRequested = d.instrument.length > 0 || d.services.length > 0 || Object.keys(shortcut).length > 0;
  if (appO11yRequested && selectors.length === 0) {
    warnings.push('no discovery selector can match any process: application telemetry stays empty');
  }
  return { selectors: Object.freeze(selectors), excludeSelectors: Object.freeze(excludeSelectors), appO11yRequested, warnings };
}
