/**
 * What every metric family declares (OTel name, unit, description, Prometheus name, labels and
 * their attributes) and the naming rule from OTel names to Prometheus names. The family classes
 * (`HistogramVec`, `CounterVec`, `GaugeVec`) implement {@link MetricFamily}; the
 * {@link MetricStore} of `store.ts` holds them.
 */
import type { SeriesIndex } from './series.ts';

/**
 * `gauge`: a value that is set (Prometheus gauge, OTLP Gauge); `updowncounter`: a value that
 * is added to and subtracted from (Prometheus gauge, OTLP non-monotonic Sum).
 */
export type MetricKind = 'histogram' | 'counter' | 'gauge' | 'updowncounter';

/** What every family declares, whatever its kind. */
export interface MetricFamilyOptions {
  /** OTel metric name (`http.server.request.duration`) */
  readonly name: string;
  /** UCUM unit (`s`, `By`, `{token}`); default '' (none) */
  readonly unit?: string;
  /** description (Prometheus `# HELP`) */
  readonly help: string;
  /**
   * Prometheus name, only where it is not `prometheusName(name, unit, kind)` (OBI names that
   * do not follow the rule, such as `traces_spanmetrics_latency`)
   */
  readonly promName?: string;
  /** Prometheus label names, in the order of the index's tuples */
  readonly labelNames: readonly string[];
  /** OTel attribute name of each label, in label order; default the label names themselves */
  readonly attributes?: readonly string[];
  readonly index: SeriesIndex;
  /** called before a view reads the family (values known only at read time) */
  readonly collect?: () => void;
}

/** The description every family carries (the fields views read). */
export interface MetricFamily {
  readonly kind: MetricKind;
  /** OTel name */
  readonly name: string;
  /** UCUM unit, '' for none */
  readonly unit: string;
  readonly help: string;
  /** exposition name (Prometheus) */
  readonly promName: string;
  readonly labelNames: readonly string[];
  /** OTel attribute name of each label */
  readonly attributes: readonly string[];
  readonly index: SeriesIndex;
  /** run the collect-time callback, if any */
  collect(): void;
  /** zero every series */
  reset(): void;
}

/** Where a family registers (a {@link MetricStore}). */
export interface FamilyTarget {
  add(family: MetricFamily): void;
}

/** UCUM units → the Prometheus unit words (OTel spec, "Prometheus and OpenMetrics Compatibility"). */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

function unitWord(u: string): string {
  return UNIT_WORDS[u] ?? u;
}

/** The unit part of a Prometheus name: annotations (`{token}`) dropped, `x/y` → `x_per_y`, `1` → `ratio` on gauges. */
function unitSuffix(unit: string, kind: MetricKind): string {
  const u = unit.replace(/\{[^}]*\}/g, '').trim();
  if (u === '') return '';
  if (u === '1') return kind === 'gauge' ? 'ratio' : '';
  const slash = u.indexOf('/');
  const words = slash < 0 ? unitWord(u) : `${unitWord(u.slice(0, slash))}_per_${unitWord(u.slice(slash + 1))}`;
  return words.replace(/[^a-zA-Z0-9_:]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * The Prometheus name of an OTel metric, by the OTel specification's compatibility rules:
 * characters outside `[a-zA-Z0-9_:]` become `_` (runs of `_` collapse to one), the unit word is
 * appended unless the name already ends with it (`s` → `_seconds`, `By` → `_bytes`, annotations
 * such as `{token}` add nothing), and counters end in `_total`.
 *
 *     http.server.request.duration, s   → http_server_request_duration_seconds
 *     traces.span.metrics.calls (counter) → traces_span_metrics_calls_total
 */
export function prometheusName(name: string, unit: string, kind: MetricKind): string {
  let n = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/__+/g, '_');
  if (/^[0-9]/.test(n)) n = `_${n}`;
  const suffix = unitSuffix(unit, kind);
  if (suffix !== '' && !n.endsWith(`_${suffix}`) && n !== suffix) n = `${n}_${suffix}`;
  if (kind === 'counter' && !n.endsWith('_total')) n = `${n}_total`;
  return n;
}

/** Checks and defaults shared by the family classes' constructors. */
export function familyFields(kind: MetricKind, o: MetricFamilyOptions): Omit<MetricFamily, 'collect' | 'reset' | 'index'> {
  if (o.labelNames.length !== o.index.width) {
    throw new RangeError(`${o.name}: ${o.labelNames.length} label names for an index of width ${o.index.width}`);
  }
  if (o.attributes !== undefined && o.attributes.length !== o.labelNames.length) {
    throw new RangeError(`${o.name}: ${o.attributes.length} attribute names for ${o.labelNames.length} labels`);
  }
  const unit = o.unit ?? '';
  return {
    kind,
    name: o.name,
    unit,
    help: o.help,
    promName: o.promName ?? prometheusName(o.name, unit, kind),
    labelNames: [...o.labelNames],
    attributes: [...(o.attributes ?? o.labelNames)],
  };
}

