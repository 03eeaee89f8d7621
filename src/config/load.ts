/**
 * Loads the effective configuration: built-in defaults < YAML file < environment variables,
 * validated once by the generated schema validator plus the OBI rules that a schema cannot
 * express, then deep-frozen (house rule 9).
 *
 * Steps: Beyla env compatibility → config path (OTEL_EBPF_CONFIG_PATH wins over --config) →
 * `${VAR}` substitution → YAML parse → env overlay (with type conversion) → normalisation
 * (null = unset, YAML 1.1 booleans, case-insensitive log_level, comma strings for lists) →
 * schema validation (fills defaults) → field rules (ports, PIDs, regexes, URLs, headers,
 * sampler ratio) → cross-field rules (something to instrument, an exporter, exclusive span
 * metric formats, internal metrics) → derived views (selectors, features) → freeze.
 *
 * Every problem found is reported at once in a single AgentError('OBI_ERR_CONFIG_INVALID'),
 * one line per problem naming the YAML path, the env vars that set it, and the bad value with
 * where it came from (file line or env var).
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import { AgentError } from '../errors.ts';
import type { Selector } from '../common/selector.ts';
import type { MetricsConfig, ObiConfig, SamplerConfig } from './generated/types.ts';
import { validate } from './generated/validator.js';
import schemaJson from './schema.json' with { type: 'json' };
import {
  allKeys,
  childNode,
  envBindings,
  formatPath,
  knownKeys,
  nodeAtPath,
  parseInstancePath,
  resolveNode,
  typesOf,
  type PathSegment,
  type SchemaNode,
} from './schema-meta.ts';
import { expandEnvReferences, parseGoBool, parseYaml11Bool, splitList, withBeylaCompat, type Env } from './env.ts';
import { parsePidList, parsePortRanges } from './ranges.ts';
import { tryParseDuration } from './duration.ts';
import { isEndpointUrl, parseHeaders, resolveOtlp } from './otlp.ts';
import { buildSelectors, METADATA_KEYS } from './selectors.ts';

const SCHEMA = schemaJson as unknown as SchemaNode;

export type MetricFeature = Exclude<NonNullable<MetricsConfig['features']>[number], 'all' | '*'>;

/** The validated, frozen configuration: the YAML-shaped keys plus normalised views (camelCase). */
export interface EffectiveConfig extends ObiConfig {
  /** include selectors (see selectors.ts for how they are built) */
  readonly selectors: readonly Selector[];
  /** exclude selectors: exclude_instrument + default_exclude_instrument (+ *_services when used) */
  readonly excludeSelectors: readonly Selector[];
  /**
   * metric features in effect: metrics.features, or the deprecated per-exporter `features` of an
   * enabled exporter (OTLP first), plus `network` when network.enable; `all`/`*` expanded
   */
  readonly metricFeatures: readonly MetricFeature[];
  /** internal metrics exporter in effect (a non-zero internal_metrics.prometheus.port alone selects prometheus) */
  readonly internalMetricsExporter: 'disabled' | 'prometheus' | 'otel';
  /** the file that was loaded, if any */
  readonly configPath: string | undefined;
  /** non-fatal findings (ignored entries, unset ${VAR} references, unknown OTEL_EBPF_* env vars) */
  readonly loadWarnings: readonly string[];
}

/** Keys of EffectiveConfig that are not YAML keys (print-config leaves them out). */
export const DERIVED_KEYS: readonly string[] = ['selectors', 'excludeSelectors', 'metricFeatures', 'internalMetricsExporter', 'configPath', 'loadWarnings'];

export interface LoadOptions {
  /** from `--config`; OTEL_EBPF_CONFIG_PATH (or BEYLA_CONFIG_PATH) wins when set */
  readonly configPath?: string;
  readonly env: Env;
}

const ALL_FEATURES: readonly MetricFeature[] = [
  'application', 'application_span', 'application_span_sizes', 'application_service_graph', 'application_host',
  'application_runtime', 'network', 'network_inter_zone', 'network_flow_packets', 'stats', 'stats_tcp_rtt',
  'stats_tcp_failed_connections', 'stats_tcp_retransmits', 'stats_tcp_io', 'ebpf',
];
const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);
/** top-level keys of other configuration formats, answered with a specific message */
const FOREIGN_KEYS: Readonly<Record<string, string>> = {
  version: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
  file_format: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
  extensions: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
};

type Json = Record<string, unknown>;

interface Problem {
  readonly path: readonly PathSegment[] | undefined;
  readonly message: string;
  readonly value?: unknown;
  readonly hasValue: boolean;
}

class Context {
  readonly problems: Problem[] = [];
  readonly warnings: string[] = [];
  /** formatted YAML path → env var that set it */
  readonly envSources = new Map<string, string>();
  doc: Document | undefined;
  lines: LineCounter | undefined;

  report(path: readonly PathSegment[] | undefined, message: string, ...value: [] | [unknown]): void {
    this.problems.push({ path, message, value: value[0], hasValue: value.length > 0 });
  }

  format(p: Problem): string {
    if (p.path === undefined) return `  - ${p.message}`;
    const node = nodeAtPath(SCHEMA, p.path);
    const envs = [...(node?.['x-env'] ?? []), ...(node?.['x-env-fallback'] ?? [])];
    let line = `  - ${formatPath(p.path)}${envs.length > 0 ? ` (env ${envs.join(', ')})` : ''}: ${p.message}`;
    const origin = this.origin(p.path);
    if (p.hasValue) {
      line += `; got ${show(p.value)}`;
      if (origin !== undefined) line += origin.env !== undefined ? ` from ${origin.env}` : ` at line ${origin.line}`;
    } else if (origin !== undefined) {
      line += origin.env !== undefined ? ` (from ${origin.env})` : ` (line ${origin.line})`;
    }
    return line;
  }

  /** The env var that set the value at `path` (or an ancestor), else its line in the file. */
  origin(path: readonly PathSegment[]): { env?: string; line?: number } | undefined {
    for (let n = path.length; n > 0; n--) {
      const env = this.envSources.get(formatPath(path.slice(0, n)));
      if (env !== undefined) return { env };
    }
    if (this.doc === undefined || this.lines === undefined) return undefined;
    const offset = keyOffset(this.doc, path);
    return offset === undefined ? undefined : { line: this.lines.linePos(offset).line };
  }
}

function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Offset of the key (or sequence item) at `path` in the file; undefined when not written there. */
function keyOffset(doc: Document, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let found: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      const k = pair?.key as { range?: [number, number, number] } | null | undefined;
      if (pair === undefined || k?.range === undefined) return undefined;
      found = k.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (item?.range === undefined) return undefined;
      found = item.range[0];
      node = item;
    } else {
      return undefined;
    }
  }
  return found;
}

// ------------------------------------------------------------------ suggestions

/** optimal string alignment distance: Levenshtein plus adjacent transpositions (`prot` → `port` is 1) */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

let keyIndex: Map<string, string[]> | undefined;

function unknownKeyMessage(parentPath: readonly PathSegment[], parent: SchemaNode, key: string): string {
  if (parentPath.length === 0 && FOREIGN_KEYS[key] !== undefined) return `unknown key: ${FOREIGN_KEYS[key]}`;
  const sibling = closest(key, knownKeys(SCHEMA, parent));
  if (sibling !== undefined) return `unknown key; did you mean "${sibling}"?`;
  keyIndex ??= (() => {
    const m = new Map<string, string[]>();
    for (const k of allKeys(SCHEMA)) {
      const last = k.path[k.path.length - 1]!;
      m.set(last, [...(m.get(last) ?? []), formatPath(k.path)]);
    }
    return m;
  })();
  const elsewhere = keyIndex.get(key);
  if (elsewhere !== undefined && elsewhere.length <= 3) return `unknown key here; did you mean ${elsewhere.map((p) => `"${p}"`).join(' or ')}?`;
  return 'unknown key';
}

// ------------------------------------------------------------------ data helpers

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Sets a value, creating intermediate mappings; false when an intermediate is not a mapping. */
function setAt(data: Json, path: readonly string[], value: unknown): boolean {
  let cur: Json = data;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (next === undefined) cur[seg] = {};
    else if (!isPlainObject(next)) return false;
    cur = cur[seg] as Json;
  }
  cur[path[path.length - 1]!] = value;
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ------------------------------------------------------------------ env overlay

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

function convertEnv(raw: string, node: SchemaNode, name: string): Converted {
  if (node['x-env-syntax']?.[name] === 'milliseconds') {
    return /^\d+$/.test(raw.trim()) ? { ok: true, value: `${raw.trim()}ms` } : { ok: false, message: 'must be a whole number of milliseconds' };
  }
  const types = typesOf(node);
  if (types.length !== 1) return { ok: true, value: raw };
  switch (types[0]) {
    case 'string':
      return { ok: true, value: raw };
    case 'integer':
      return /^\s*[+-]?\d+\s*$/.test(raw) ? { ok: true, value: Number(raw) } : { ok: false, message: 'must be an integer' };
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: 'must be a number' };
    }
    case 'boolean': {
      const b = parseGoBool(raw.trim());
      return b === undefined ? { ok: false, message: 'must be true or false' } : { ok: true, value: b };
    }
    case 'array': {
      const item = node.items === undefined ? undefined : resolveNode(SCHEMA, node.items);
      const parts = splitList(raw);
      if (item !== undefined && typesOf(item).some((t) => t === 'number' || t === 'integer')) {
        const nums = parts.map(Number);
        return nums.every(Number.isFinite) ? { ok: true, value: nums } : { ok: false, message: 'must be a comma-separated list of numbers' };
      }
      return { ok: true, value: parts };
    }
    default:
      return { ok: false, message: 'cannot be set from the environment' };
  }
}

function overlayEnv(data: Json, env: Env, ctx: Context): void {
  const bindings = envBindings(SCHEMA);
  for (const b of bindings) {
    const name = b.env.find((e) => env[e] !== undefined && env[e] !== '');
    if (name === undefined) continue;
    applyEnv(data, b.path, b.node, name, env[name]!, ctx);
  }
  for (const b of bindings) {
    if (b.fallback.length === 0 || getAt(data, b.path) !== undefined) continue;
    const name = b.fallback.find((e) => env[e] !== undefined && env[e] !== '');
    if (name !== undefined) applyEnv(data, b.path, b.node, name, env[name]!, ctx);
  }
}

function applyEnv(data: Json, path: readonly string[], node: SchemaNode, name: string, raw: string, ctx: Context): void {
  ctx.envSources.set(formatPath(path), name);
  const c = convertEnv(raw, node, name);
  if (!c.ok) {
    ctx.report(path, c.message, raw);
    return;
  }
  setAt(data, path, c.value);
}

function warnUnknownEnv(env: Env, ctx: Context): void {
  const known = new Set<string>(['OTEL_EBPF_CONFIG_PATH']);
  for (const b of envBindings(SCHEMA)) for (const e of [...b.env, ...b.fallback]) known.add(e);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('OTEL_EBPF_') || known.has(name)) continue;
    const hint = closest(name, known);
    ctx.warnings.push(`unknown environment variable ${name} is ignored${hint !== undefined ? `; did you mean ${hint}?` : ''}`);
  }
}

// ------------------------------------------------------------------ normalisation

/** null = unset; YAML 1.1 booleans; scalars into string keys; comma strings into lists; case. */
function normalise(value: unknown, node: SchemaNode | undefined): unknown {
  if (value === null) return undefined;
  if (node === undefined) return value;
  const r = resolveNode(SCHEMA, node);
  const types = typesOf(r);
  const coerce = r['x-obi-ts-coerce'];
  if (typeof value === 'string') {
    if (coerce === 'uppercase' && r.enum?.includes(value.toUpperCase()) === true) return value.toUpperCase();
    if (coerce === 'comma-list') return splitList(value);
    if (types.length === 1 && types[0] === 'boolean') return parseYaml11Bool(value) ?? value;
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (coerce === 'duration' && value === 0) return '0s';
    if (coerce === 'string' || (types.length === 1 && types[0] === 'string' && coerce !== 'duration')) return String(value);
    return value;
  }
  if (Array.isArray(value)) {
    if (r.items === undefined) return value;
    return value.map((v) => (v === null ? null : normalise(v, r.items)));
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const child = childNode(SCHEMA, r, key);
      const v = normalise(value[key], child);
      if (v === undefined) delete value[key];
      else value[key] = v;
    }
  }
  return value;
}

// ------------------------------------------------------------------ schema errors

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping', null: 'null',
};

function joinOr(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function schemaErrorMessage(err: ErrorObject, node: SchemaNode | undefined): string {
  const custom = node?.['x-message'];
  if (custom !== undefined && err.keyword !== 'additionalProperties') return custom;
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      const t = p.type;
      const list = Array.isArray(t) ? (t as string[]) : String(t).split(',');
      return `must be ${joinOr(list.map((x) => TYPE_WORDS[x] ?? x))}`;
    }
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'minimum': return `must be >= ${String(p.limit)}`;
    case 'maximum': return `must be <= ${String(p.limit)}`;
    case 'exclusiveMinimum': return `must be > ${String(p.limit)}`;
    case 'exclusiveMaximum': return `must be < ${String(p.limit)}`;
    case 'minLength': return p.limit === 1 && node?.maxLength === 1 ? 'must be exactly one character' : `must have at least ${String(p.limit)} characters`;
    case 'maxLength': return p.limit === 1 ? 'must be exactly one character' : `must have at most ${String(p.limit)} characters`;
    case 'uniqueItems': return `must not repeat an entry (items ${String(p.j)} and ${String(p.i)} are equal)`;
    case 'pattern': return `must match ${String(p.pattern)}`;
    default: return err.message ?? err.keyword;
  }
}

function reportSchemaErrors(errors: readonly ErrorObject[], data: Json, ctx: Context): void {
  const seen = new Set<string>();
  for (const err of errors) {
    const base = parseInstancePath(err.instancePath, data);
    // ajv's schemaPath is relative to the referenced schema for $refs it compiles separately,
    // so the node is found from the instance path instead.
    const owner = nodeAtPath(SCHEMA, base) ?? SCHEMA;
    const key = `${err.instancePath}|${err.keyword}|${String((err.params as Record<string, unknown>).additionalProperty ?? '')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (err.keyword === 'additionalProperties') {
      const prop = String((err.params as { additionalProperty: string }).additionalProperty);
      ctx.report([...base, prop], unknownKeyMessage(base, owner, prop));
      continue;
    }
    ctx.report(base, schemaErrorMessage(err, owner), getAt(data, base));
  }
}

// ------------------------------------------------------------------ field rules

function checkRegex(path: readonly PathSegment[], value: unknown, ctx: Context): void {
  if (typeof value !== 'string') return;
  try {
    new RegExp(value.startsWith('(?i)') ? value.slice(4) : value);
  } catch (e) {
    ctx.report(path, `is not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`, value);
  }
}

function checkIntEnum(path: readonly PathSegment[], value: unknown, kind: 'ports' | 'pids', ctx: Context): void {
  if (value === undefined) return;
  if (typeof value !== 'number' && typeof value !== 'string' && !Array.isArray(value)) return;
  if (Array.isArray(value) && !value.every((v) => typeof v === 'number' || typeof v === 'string')) return;
  try {
    if (kind === 'ports') parsePortRanges(value as string);
    else parsePidList(value as string);
  } catch (e) {
    if (!AgentError.is(e)) throw e;
    ctx.report(path, e.message, value);
  }
}

function checkSampler(path: readonly PathSegment[], sampler: unknown, ctx: Context): void {
  if (!isPlainObject(sampler)) return;
  const { name, arg } = sampler as Partial<SamplerConfig>;
  if (typeof name !== 'string' || !RATIO_SAMPLERS.has(name) || typeof arg !== 'string') return;
  const ratio = Number(arg);
  if (arg.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    ctx.report([...path, 'arg'], `must be a ratio between 0 and 1 for sampler ${name}`, arg);
  }
}

function checkSelectorList(path: readonly PathSegment[], list: unknown, regex: boolean, ctx: Context): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry, i) => {
    if (!isPlainObject(entry)) return;
    const at = [...path, i];
    checkIntEnum([...at, 'open_ports'], entry.open_ports, 'ports', ctx);
    checkIntEnum([...at, 'target_pids'], entry.target_pids, 'pids', ctx);
    checkSampler([...at, 'sampler'], entry.sampler, ctx);
    if (regex) {
      for (const k of ['exe_path', 'exe_path_regexp', ...METADATA_KEYS.filter((m) => m !== 'k8s_pod_labels' && m !== 'k8s_pod_annotations')]) {
        checkRegex([...at, k], entry[k], ctx);
      }
      for (const k of ['cmd_args', 'languages']) {
        if (entry[k] !== undefined) {
          ctx.report([...at, k], `regular-expression ${k} is not supported by obi-ts; use the glob form in discovery.instrument[].${k}`, entry[k]);
        }
      }
    }
  });
}

function fieldRules(data: Json, ctx: Context): void {
  checkIntEnum(['open_port'], data.open_port, 'ports', ctx);
  checkIntEnum(['target_pids'], data.target_pids, 'pids', ctx);
  checkRegex(['executable_path'], data.executable_path, ctx);
  const d = data.discovery;
  if (isPlainObject(d)) {
    for (const k of ['instrument', 'exclude_instrument', 'default_exclude_instrument']) checkSelectorList(['discovery', k], d[k], false, ctx);
    for (const k of ['services', 'exclude_services', 'default_exclude_services']) checkSelectorList(['discovery', k], d[k], true, ctx);
  }
  for (const section of ['otel_metrics_export', 'otel_traces_export']) {
    const s = data[section];
    if (!isPlainObject(s)) continue;
    for (const k of ['endpoint', 'common_endpoint']) {
      const v = s[k];
      if (typeof v === 'string' && v.trim() !== '' && !isEndpointUrl(v.trim())) {
        ctx.report([section, k], 'must be a URL with a scheme and a host, such as http://localhost:4318', v);
      }
    }
    for (const k of ['headers', 'common_headers']) {
      const v = s[k];
      if (typeof v !== 'string') continue;
      try {
        parseHeaders(v);
      } catch (e) {
        if (!AgentError.is(e)) throw e;
        ctx.report([section, k], `${e.message} (expected k=v,k2=v2)`);
      }
    }
  }
  const traces = data.otel_traces_export;
  if (isPlainObject(traces)) checkSampler(['otel_traces_export', 'sampler'], traces.sampler, ctx);
  const ebpf = data.ebpf;
  if (isPlainObject(ebpf) && typeof ebpf.ring_buffer_size === 'number' && Number.isInteger(ebpf.ring_buffer_size)) {
    const n = ebpf.ring_buffer_size;
    if (n > 0 && (n & (n - 1)) !== 0) ctx.report(['ebpf', 'ring_buffer_size'], 'must be a power of two', n);
  }
  const k8s = getAt(data, ['attributes', 'kubernetes', 'informers_sync_timeout']);
  if (typeof k8s === 'string' && tryParseDuration(k8s) === 0) {
    ctx.report(['attributes', 'kubernetes', 'informers_sync_timeout'], 'must be greater than 0s', k8s);
  }
}

// ------------------------------------------------------------------ cross-field rules

function expandFeatures(list: readonly string[] | undefined): MetricFeature[] {
  const out = new Set<MetricFeature>();
  for (const f of list ?? []) {
    if (f === 'all' || f === '*') for (const a of ALL_FEATURES) out.add(a);
    else out.add(f as MetricFeature);
  }
  return [...out];
}

function checkSpanFormats(path: readonly PathSegment[], list: readonly string[] | undefined, ctx: Context): void {
  if (list?.includes('application_span') === true && list.includes('application_span_otel')) {
    ctx.report(path, 'application_span and application_span_otel are mutually exclusive; choose one span metrics format', list);
  }
}

interface CrossResult {
  readonly metricFeatures: readonly MetricFeature[];
  readonly internalMetricsExporter: EffectiveConfig['internalMetricsExporter'];
}

function crossRules(c: ObiConfig, appRequested: boolean, ctx: Context): CrossResult {
  const otlpMetrics = resolveOtlp(c, 'metrics') !== undefined;
  const otlpTraces = resolveOtlp(c, 'traces') !== undefined;
  const prom = c.prometheus_export.port !== 0;

  let chosen = c.metrics.features;
  if (otlpMetrics && c.otel_metrics_export.features !== undefined) chosen = c.otel_metrics_export.features;
  else if (prom && c.prometheus_export.features !== undefined) chosen = c.prometheus_export.features;
  const features = expandFeatures(chosen);
  if (c.network.enable && !features.includes('network')) features.push('network');

  checkSpanFormats(['metrics', 'features'], c.metrics.features, ctx);
  checkSpanFormats(['otel_metrics_export', 'features'], c.otel_metrics_export.features, ctx);
  checkSpanFormats(['prometheus_export', 'features'], c.prometheus_export.features, ctx);
  c.discovery.instrument.forEach((e, i) => checkSpanFormats(['discovery', 'instrument', i, 'metrics', 'features'], e.metrics?.features, ctx));

  const net = features.some((f) => f === 'network' || f === 'network_inter_zone' || f === 'network_flow_packets');
  const stats = features.some((f) => f.startsWith('stats'));
  if (!appRequested && !net && !stats) {
    ctx.report(undefined, 'nothing to instrument: select processes with open_port (env OTEL_EBPF_OPEN_PORT), discovery.instrument, ' +
      'target_pids (env OTEL_EBPF_TARGET_PID), env OTEL_EBPF_AUTO_TARGET_EXE or OTEL_EBPF_AUTO_TARGET_LANGUAGE, or executable_path ' +
      '(env OTEL_EBPF_EXECUTABLE_PATH); or enable network or stats metrics in metrics.features (env OTEL_EBPF_METRICS_FEATURES)');
  }
  if (appRequested && c.trace_printer === 'disabled' && !otlpMetrics && !otlpTraces && !prom) {
    ctx.report(undefined, 'no exporter for application telemetry: set trace_printer (env OTEL_EBPF_TRACE_PRINTER), ' +
      'otel_traces_export.endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), ' +
      'otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) ' +
      'or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT)');
  }
  if (net && !otlpMetrics && !prom && !c.network.print_flows) {
    ctx.report(undefined, 'network metrics need a metrics exporter: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ' +
      'or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT), or network.print_flows (env OTEL_EBPF_NETWORK_PRINT_FLOWS)');
  }
  if (stats && !otlpMetrics && !prom && !c.stats.print_stats) {
    ctx.report(undefined, 'stats metrics need a metrics exporter: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ' +
      'or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT), or stats.print_stats (env OTEL_EBPF_STATS_PRINT_STATS)');
  }

  const im = c.internal_metrics;
  let internalMetricsExporter: CrossResult['internalMetricsExporter'] = im.exporter;
  if (im.exporter === 'otel') {
    if (im.prometheus.port !== 0) {
      ctx.report(['internal_metrics', 'exporter'], 'otel cannot be combined with internal_metrics.prometheus.port; enable one internal metrics exporter', im.exporter);
    }
    if (!otlpMetrics) {
      ctx.report(['internal_metrics', 'exporter'], 'otel needs OTLP metrics export: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)', im.exporter);
    }
  } else if (im.exporter === 'disabled' && im.prometheus.port !== 0) {
    internalMetricsExporter = 'prometheus';
  } else if (im.exporter === 'prometheus' && im.prometheus.port === 0) {
    ctx.report(['internal_metrics', 'prometheus', 'port'], 'must be set when internal_metrics.exporter is prometheus', 0);
  }
  return { metricFeatures: Object.freeze(features), internalMetricsExporter };
}

// ------------------------------------------------------------------ entry point

function fail(ctx: Context, configPath: string | undefined): never {
  const lines = [...new Set(ctx.problems.map((p) => ctx.format(p)))];
  const n = lines.length;
  const head = `invalid configuration${configPath !== undefined ? ` in ${configPath}` : ''} (${n} problem${n === 1 ? '' : 's'}):`;
  throw new AgentError('OBI_ERR_CONFIG_INVALID', `${head}\n${lines.join('\n')}`);
}

function readConfigFile(path: string, fromEnv: boolean, ctx: Context, env: Env): Json {
  const where = fromEnv ? ' (env OTEL_EBPF_CONFIG_PATH)' : '';
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new AgentError('OBI_ERR_CONFIG_FILE', `cannot read configuration file ${path}${where}: ${why}`, { cause: e });
  }
  const expanded = expandEnvReferences(raw, env);
  for (const name of expanded.unset) ctx.warnings.push(`${path} references \${${name}} but ${name} is not set; it was replaced by an empty string`);
  const lines = new LineCounter();
  const doc = parseDocument(expanded.text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const msgs = doc.errors.slice(0, 5).map((err) => {
      const pos = lines.linePos(err.pos[0]);
      const first = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return `line ${pos.line}, column ${pos.col}: ${first}`;
    });
    throw new AgentError('OBI_ERR_CONFIG_FILE', `cannot parse configuration file ${path}${where}: ${msgs.join('; ')}`);
  }
  ctx.doc = doc;
  ctx.lines = lines;
  const js: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (js === null || js === undefined) return {};
  if (!isPlainObject(js)) {
    ctx.report([], 'the file must contain a mapping of configuration keys', js);
    fail(ctx, path);
  }
  return js;
}

/**
 * Loads, validates and freezes the configuration.
 * @throws AgentError OBI_ERR_CONFIG_FILE when the file cannot be read or is not valid YAML
 * @throws AgentError OBI_ERR_CONFIG_INVALID listing every invalid or unknown key and failed rule
 */
export function loadConfig(options: LoadOptions): EffectiveConfig {
  const env = withBeylaCompat(options.env);
  const ctx = new Context();
  const envPath = env.OTEL_EBPF_CONFIG_PATH;
  const configPath = envPath !== undefined && envPath !== '' ? envPath : options.configPath;
  const data: Json = configPath === undefined ? {} : readConfigFile(configPath, configPath === envPath, ctx, env);

  overlayEnv(data, env, ctx);
  warnUnknownEnv(env, ctx);
  normalise(data, SCHEMA);
  if (!validate(data)) reportSchemaErrors(validate.errors ?? [], data, ctx);
  fieldRules(data, ctx);
  if (ctx.problems.length > 0) fail(ctx, configPath);

  const config = data as unknown as ObiConfig;
  if (config.discovery.poll_interval !== undefined && tryParseDuration(config.discovery.poll_interval) === 0) {
    (config.discovery as { poll_interval: string }).poll_interval = '5s';
  }
  const views = buildSelectors(config);
  const cross = crossRules(config, views.appO11yRequested, ctx);
  if (ctx.problems.length > 0) fail(ctx, configPath);

  const effective: EffectiveConfig = Object.assign(data as unknown as ObiConfig, {
    selectors: views.selectors,
    excludeSelectors: views.excludeSelectors,
    metricFeatures: cross.metricFeatures,
    internalMetricsExporter: cross.internalMetricsExporter,
    configPath,
    loadWarnings: [...ctx.warnings, ...views.warnings],
  });
  return deepFreeze(effective);
}
