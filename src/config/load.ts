/**
 * Loads the effective configuration: built-in defaults < YAML file < environment variables,
 * validated once by the generated schema validator plus the OBI rules that a schema cannot
 * express, then deep-frozen (house rule 9).
 *
 * Steps (problems.ts words the findings; overlay.ts applies the environment; rules.ts holds the
 * field and cross-field rules): Beyla env compatibility → config path (OTEL_EBPF_CONFIG_PATH wins over --config) →
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
import { LineCounter, parseDocument } from 'yaml';
import { AgentError } from '../errors.ts';
import type { Selector } from '../common/selector.ts';
import type { ObiConfig } from './generated/types.ts';
import { validate } from './generated/validator.js';
import { childNode, resolveNode, typesOf, type SchemaNode } from './schema-meta.ts';
import { expandEnvReferences, parseYaml11Bool, splitList, withBeylaCompat, type Env } from './env.ts';
import { tryParseDuration } from './duration.ts';
import { buildSelectors } from './selectors.ts';
import { overlayEnv, warnUnknownEnv } from './overlay.ts';
import { Context, deepFreeze, isPlainObject, reportSchemaErrors, SCHEMA, type Json } from './problems.ts';
import { checkUnsupported } from './unsupported.ts';
import { crossRules, fieldRules, type InternalMetricsExporter, type MetricFeature } from './rules.ts';

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
  readonly internalMetricsExporter: InternalMetricsExporter;
  /** the file that was loaded, if any */
  readonly configPath: string | undefined;
  /** non-fatal findings (ignored entries, unset ${VAR} references, unknown OTEL_EBPF_* env vars) */
  readonly loadWarnings: readonly string[];
  /** whether the file or the environment set `ebpf.ring_buffer_size` (unset, the agent sizes the ring: pipeline/large-capture.ts) */
  readonly ringBufferSizeSet: boolean;
}

/** Keys of EffectiveConfig that are not YAML keys (print-config leaves them out). */
export const DERIVED_KEYS: readonly string[] = ['selectors', 'excludeSelectors', 'metricFeatures', 'internalMetricsExporter', 'configPath', 'loadWarnings', 'ringBufferSizeSet'];

export interface LoadOptions {
  /** from `--config`; OTEL_EBPF_CONFIG_PATH (or BEYLA_CONFIG_PATH) wins when set */
  readonly configPath?: string;
  readonly env: Env;
}


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
  const ringBufferSizeSet = isPlainObject(data.ebpf) && data.ebpf.ring_buffer_size !== undefined; // before the defaults fill it in
  if (!validate(data)) reportSchemaErrors(validate.errors ?? [], data, ctx);
  fieldRules(data, ctx);
  checkUnsupported(data, ctx);
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
    ringBufferSizeSet,
  });
  return deepFreeze(effective);
}
