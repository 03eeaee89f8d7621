/**
 * `attributes.select`: which attributes each metric reports, and which opt-in attributes spans
 * carry (obi-compat §1.7, §2.3), with OBI's rules:
 *
 * - keys are metric names in OTel (`http.server.request.duration`) or Prometheus
 *   (`http_server_request_duration_seconds`) form, or globs over them (`http_*`, `*`). A key is
 *   normalised to a *section*: `_` → `.`, then one of `.ratio .bucket .sum .count .total` and one
 *   of `.bytes .seconds` stripped from the end. `traces` is the section of span attributes.
 * - every key whose glob matches a metric's section applies, from the broadest to the narrowest
 *   (keys in code-unit order: `*` < `http.*` < `http.server.request.duration`). The first one's
 *   `include` starts the set (an empty or non-matching `include` starts from the defaults); each
 *   later `include` adds to it; each `exclude` removes from it.
 * - attribute globs are compared in Prometheus form (`.` → `_` in both the pattern and the name),
 *   so `url.path`, `url_path` and `url_*` all select `url.path`.
 * - with no matching key a metric reports its default-visible attributes.
 *
 * Application metrics also offer the container / Kubernetes metadata attributes given to the
 * constructor (meta-attrs.ts), with their own defaults, under the same rules.
 *
 * Globs follow the project's glob syntax (gobwas-style, see common/glob.ts); Go's `[^…]`
 * negation is accepted as well. An invalid glob throws `AgentError(OBI_ERR_CONFIG_INVALID)` naming
 * the `attributes.select` key.
 */
import { compileGlob } from '../common/glob.ts';
import type { GlobMatcher } from '../common/glob.ts';
import { AgentError } from '../errors.ts';
import { ATTR_INSTANCE, ATTR_JOB, HTTP_METRICS, HTTP_METRIC_ATTRIBUTES, promLabelName } from './metrics.ts';
import type { HttpMetricName, MetricAttributeDef } from './metrics.ts';
import type { Span } from './span.ts';

/** One `attributes.select.<metric>` entry. */
export interface InclusionLists {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

/** `attributes.select`: metric name or glob → inclusion lists. */
export type AttributeSelection = Readonly<Record<string, InclusionLists>>;

/** Section of span attributes in `attributes.select`. */
export const TRACES_SECTION = 'traces';

/**
 * Span attributes `attributes.select.traces` decides on (OBI's trace section): the payload-like
 * ones are opt-in; `url.query` and `dns.question.name` are on unless excluded.
 */
export const TRACE_ATTRIBUTES: readonly MetricAttributeDef[] = [
  { name: 'url.query', byDefault: true },
  { name: 'dns.question.name', byDefault: true },
  { name: 'db.query.text', byDefault: false },
  { name: 'graphql.document', byDefault: false },
  { name: 'gen_ai.input.messages', byDefault: false },
  { name: 'gen_ai.output.messages', byDefault: false },
  { name: 'gen_ai.system_instructions', byDefault: false },
  { name: 'gen_ai.tool.definitions', byDefault: false },
];

const COUNT_SUFFIXES = ['.ratio', '.bucket', '.sum', '.count', '.total'];
const UNIT_SUFFIXES = ['.bytes', '.seconds'];

/** OBI's normalisation of an `attributes.select` key or metric name to its section. */
export function metricSection(name: string): string {
  let s = name.replaceAll('_', '.');
  for (const suffix of COUNT_SUFFIXES) {
    if (s.endsWith(suffix)) {
      s = s.slice(0, -suffix.length);
      break;
    }
  }
  for (const suffix of UNIT_SUFFIXES) {
    if (s.endsWith(suffix)) {
      s = s.slice(0, -suffix.length);
      break;
    }
  }
  return s;
}

/** Go `path.Match` writes class negation `[^…]`; the project's globs write `[!…]`. */
function goGlob(pattern: string): string {
  return pattern.replaceAll('[^', '[!');
}

function compile(pattern: string, where: string): GlobMatcher {
  try {
    return compileGlob(goGlob(pattern));
  } catch (err) {
    throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where}: ${(err as Error).message}`, { cause: err });
  }
}

interface CompiledLists {
  readonly key: string;
  readonly section: string;
  readonly metric: GlobMatcher;
  readonly include: readonly GlobMatcher[];
  readonly exclude: readonly GlobMatcher[];
}

export class AttributeSelector {
  /** sorted by section, broadest first */
  private readonly _lists: readonly CompiledLists[];
  /** attributes every application metric can report besides its own (container / Kubernetes metadata: meta-attrs.ts) */
  private readonly _app: readonly MetricAttributeDef[];

  constructor(selection: AttributeSelection = {}, appAttributes: readonly MetricAttributeDef[] = []) {
    this._app = appAttributes;
    const lists: CompiledLists[] = [];
    for (const [key, il] of Object.entries(selection)) {
      const section = metricSection(key);
      const where = `attributes.select.${key}`;
      lists.push({
        key,
        section,
        metric: compile(section, where),
        include: (il.include ?? []).map((p, i) => compile(promLabelName(p), `${where}.include[${i}]`)),
        exclude: (il.exclude ?? []).map((p, i) => compile(promLabelName(p), `${where}.exclude[${i}]`)),
      });
    }
    lists.sort((a, b) => (a.section < b.section ? -1 : a.section > b.section ? 1 : 0));
    this._lists = lists;
  }

  /** `attributes.select` keys that apply to a metric (any name form), broadest first. */
  matchingKeys(metric: string): string[] {
    const section = metricSection(metric);
    return this._lists.filter((l) => l.metric(section)).map((l) => l.key);
  }

  /**
   * Attributes (dot form, sorted) a metric reports, out of `defs` (every attribute it can
   * report, each marked default-visible or opt-in).
   */
  select(metric: string, metricDefs: readonly MetricAttributeDef[]): string[] {
    const section = metricSection(metric);
    const defs = section === TRACES_SECTION || this._app.length === 0 ? metricDefs : [...metricDefs, ...this._app];
    const lists = this._lists.filter((l) => l.metric(section));
    const defaults = (): Set<string> => new Set(defs.filter((d) => d.byDefault).map((d) => d.name));
    if (lists.length === 0) return [...defaults()].sort();
    let chosen = new Set<string>();
    lists.forEach((l, i) => {
      for (const d of defs) {
        const prom = promLabelName(d.name);
        if (l.include.some((m) => m(prom))) chosen.add(d.name);
      }
      if (i === 0 && chosen.size === 0) chosen = defaults();
      for (const name of [...chosen]) {
        const prom = promLabelName(name);
        if (l.exclude.some((m) => m(prom))) chosen.delete(name);
      }
    });
    return [...chosen].sort();
  }
}

/**
 * Attributes of each HTTP RED metric under `selector`. The Prometheus exporter also knows `job`
 * and `instance`; OTLP carries those as resource attributes, so they are not offered there.
 */
export function selectHttpMetricAttributes(
  selector: AttributeSelector,
  exporter: 'prometheus' | 'otlp' = 'prometheus',
): Record<HttpMetricName, string[]> {
  const out = {} as Record<HttpMetricName, string[]>;
  for (const def of HTTP_METRICS) {
    let defs = HTTP_METRIC_ATTRIBUTES[def.side];
    if (exporter === 'otlp') defs = defs.filter((d) => d.name !== ATTR_JOB && d.name !== ATTR_INSTANCE);
    out[def.otel] = selector.select(def.otel, defs);
  }
  return out;
}

/**
 * Removes from spans the `attributes.select.traces` attributes that are not selected (opt-in
 * payloads by default). Cheap when nothing is to be removed: one `in` check per disabled name.
 */
export class TraceAttributeFilter {
  /** attribute names spans must not carry */
  readonly disabled: readonly string[];

  constructor(selector: AttributeSelector, defs: readonly MetricAttributeDef[] = TRACE_ATTRIBUTES) {
    const enabled = new Set(selector.select(TRACES_SECTION, defs));
    this.disabled = defs.map((d) => d.name).filter((n) => !enabled.has(n));
  }

  apply(span: Span): void {
    const d = this.disabled;
    const attrs = span.attributes;
    for (let i = 0; i < d.length; i++) if (d[i] in attrs) delete attrs[d[i]];
  }

  applyAll(spans: readonly Span[]): void {
    if (this.disabled.length === 0) return;
    for (let i = 0; i < spans.length; i++) this.apply(spans[i]);
  }
}
