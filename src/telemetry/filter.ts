/**
 * Span filters applied before metrics and traces (obi-compat §1.8–1.9):
 *
 * - `filter.application.<attribute>`: every condition must hold for a span to be kept, in both
 *   metrics and traces. A condition is any of `match` / `not_match` (a glob over the value as text;
 *   a missing attribute is the empty string, as in OBI) and the numeric comparisons
 *   `greater_than`, `greater_equals`, `equals`, `not_equals`, `less_equals`, `less_than`; several
 *   properties under one attribute must all hold. A numeric comparison on a missing or
 *   non-numeric value fails (the span is dropped).
 * - attribute names may be written in dot (`url.path`) or underscore (`url_path`) form; they are
 *   compared in Prometheus form (`.` → `_`). Besides span attributes, the names of the metric
 *   label space are known: `service.name`, `service.namespace`, `service.instance.id` /
 *   `instance`, `job`, `span.name`, `span.kind`, `status.code`, `telemetry.sdk.language`,
 *   `source`; `url.path` of a client span is taken from its `url.full`.
 * - `routes.ignored_patterns` with `routes.ignore_mode` (`all`, `metrics`, `traces`): HTTP spans
 *   whose path matches are dropped from the signals the mode names.
 *
 * Pure: no I/O. Conditions are compiled once; a span costs one getter and one test per condition.
 */
import { compileGlob } from '../common/glob.ts';
import type { GlobMatcher } from '../common/glob.ts';
import { AgentError } from '../errors.ts';
import { promLabelName, serviceJob } from './metrics.ts';
import type { AttributeValue, Span } from './span.ts';

/** One `filter.application.<attribute>` condition set. */
export interface MatchDefinition {
  readonly match?: string;
  readonly not_match?: string;
  readonly greater_than?: number;
  readonly greater_equals?: number;
  readonly equals?: number;
  readonly not_equals?: number;
  readonly less_equals?: number;
  readonly less_than?: number;
}

export type IgnoreMode = 'all' | 'metrics' | 'traces';

export interface SpanFilterOptions {
  /** `filter.application` */
  readonly application?: Readonly<Record<string, MatchDefinition>>;
  /** true for a request path matching `routes.ignored_patterns` (RouteResolver.isIgnored) */
  readonly isIgnoredPath?: (path: string) => boolean;
  /** `routes.ignore_mode`, default `all` */
  readonly ignoreMode?: IgnoreMode;
}

/** What survives filtering, per signal (the same array as the input when nothing is filtered). */
export interface FilteredSpans {
  readonly metrics: readonly Span[];
  readonly traces: readonly Span[];
  /** spans dropped from both signals */
  readonly dropped: number;
}

type Getter = (span: Span) => AttributeValue | undefined;
type Test = (value: AttributeValue | undefined) => boolean;

const SPAN_KIND: Readonly<Record<Span['kind'], string>> = {
  server: 'SPAN_KIND_SERVER',
  client: 'SPAN_KIND_CLIENT',
  internal: 'SPAN_KIND_INTERNAL',
  producer: 'SPAN_KIND_PRODUCER',
  consumer: 'SPAN_KIND_CONSUMER',
};
const STATUS_CODE: Readonly<Record<Span['status'], string>> = { unset: 'STATUS_CODE_UNSET', ok: 'STATUS_CODE_OK', error: 'STATUS_CODE_ERROR' };

/** OTLP enum names of a span's kind / status, as OBI's span metrics label them. */
export function spanKindName(kind: Span['kind']): string {
  return SPAN_KIND[kind];
}
export function statusCodeName(status: Span['status']): string {
  return STATUS_CODE[status];
}

/** Path of an absolute URL (`http://h:1/a/b?q` → `/a/b`); `undefined` if it has none. */
export function urlPath(url: string): string | undefined {
  const scheme = url.indexOf('://');
  if (scheme < 0) return undefined;
  const slash = url.indexOf('/', scheme + 3);
  if (slash < 0) return '/';
  let end = url.length;
  const q = url.indexOf('?', slash);
  if (q >= 0) end = q;
  const h = url.indexOf('#', slash);
  if (h >= 0 && h < end) end = h;
  return url.slice(slash, end);
}

/** Path of an HTTP span: `url.path` (server) or the path of `url.full` (client). */
export function httpSpanPath(span: Span): string | undefined {
  const p = span.attributes['url.path'];
  if (typeof p === 'string') return p;
  const full = span.attributes['url.full'];
  return typeof full === 'string' ? urlPath(full) : undefined;
}

/** span attribute keys → Prometheus form, learnt as keys are seen */
const promOfKey = new Map<string, string>();

function attributeByPromName(span: Span, prom: string): AttributeValue | undefined {
  const attrs = span.attributes;
  for (const k in attrs) {
    let p = promOfKey.get(k);
    if (p === undefined) {
      p = promLabelName(k);
      if (promOfKey.size < 10_000) promOfKey.set(k, p);
    }
    if (p === prom) return attrs[k];
  }
  return undefined;
}

function getterFor(name: string): Getter {
  const prom = promLabelName(name);
  switch (prom) {
    case 'service_name':
      return (s) => s.service.name;
    case 'service_namespace':
      return (s) => s.service.namespace;
    case 'service_instance_id':
    case 'instance':
      return (s) => s.service.instanceId;
    case 'job':
      return (s) => serviceJob(s.service);
    case 'span_name':
      return (s) => s.name;
    case 'span_kind':
      return (s) => SPAN_KIND[s.kind];
    case 'status_code':
      return (s) => STATUS_CODE[s.status];
    case 'telemetry_sdk_language':
      return (s) => s.service.language;
    case 'source':
      return () => 'obi';
    case 'url_path':
      return (s) => (s.category === 'http' ? httpSpanPath(s) : s.attributes['url.path']);
  }
  // a dotted name is looked up as written first; underscores need the key scan
  const direct = name.includes('.') ? name : undefined;
  return (s) => {
    if (direct !== undefined) {
      const v = s.attributes[direct];
      if (v !== undefined) return v;
    }
    return attributeByPromName(s, prom);
  };
}

function asNumber(v: AttributeValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function text(v: AttributeValue | undefined): string {
  return v === undefined ? '' : typeof v === 'string' ? v : String(v);
}

function compileTests(attr: string, def: MatchDefinition): Test[] {
  const where = `filter.application.${attr}`;
  const glob = (pattern: string, key: string): GlobMatcher => {
    try {
      return compileGlob(pattern);
    } catch (err) {
      throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where}.${key}: ${(err as Error).message}`, { cause: err });
    }
  };
  const tests: Test[] = [];
  if (def.match !== undefined) {
    const m = glob(def.match, 'match');
    tests.push((v) => m(text(v)));
  }
  if (def.not_match !== undefined) {
    const m = glob(def.not_match, 'not_match');
    tests.push((v) => !m(text(v)));
  }
  const numeric = (key: keyof MatchDefinition, cmp: (a: number, b: number) => boolean): void => {
    const bound = def[key];
    if (bound === undefined) return;
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where}.${key} must be a number, got ${JSON.stringify(bound)}`);
    }
    tests.push((v) => {
      const n = asNumber(v);
      return n !== undefined && cmp(n, bound);
    });
  };
  numeric('greater_than', (a, b) => a > b);
  numeric('greater_equals', (a, b) => a >= b);
  numeric('equals', (a, b) => a === b);
  numeric('not_equals', (a, b) => a !== b);
  numeric('less_equals', (a, b) => a <= b);
  numeric('less_than', (a, b) => a < b);
  if (tests.length === 0) {
    throw new AgentError(
      'OBI_ERR_CONFIG_INVALID',
      `${where} needs a condition: match, not_match, greater_than, greater_equals, equals, not_equals, less_equals or less_than`,
    );
  }
  return tests;
}

interface Condition {
  readonly get: Getter;
  readonly tests: readonly Test[];
}

export class SpanFilter {
  /** true when some span can be dropped (otherwise `split` returns its input) */
  readonly active: boolean;
  private readonly _conditions: readonly Condition[];
  private readonly _ignored: ((path: string) => boolean) | undefined;
  private readonly _ignoreMetrics: boolean;
  private readonly _ignoreTraces: boolean;

  /** @throws AgentError OBI_ERR_CONFIG_INVALID for an empty condition or an invalid glob */
  constructor(options: SpanFilterOptions = {}) {
    this._conditions = Object.entries(options.application ?? {}).map(([attr, def]) => ({ get: getterFor(attr), tests: compileTests(attr, def) }));
    this._ignored = options.isIgnoredPath;
    const mode = options.ignoreMode ?? 'all';
    this._ignoreMetrics = mode !== 'traces';
    this._ignoreTraces = mode !== 'metrics';
    this.active = this._conditions.length > 0 || this._ignored !== undefined;
  }

  /** true if the span satisfies every `filter.application` condition */
  allow(span: Span): boolean {
    const c = this._conditions;
    for (let i = 0; i < c.length; i++) {
      const v = c[i].get(span);
      const t = c[i].tests;
      for (let j = 0; j < t.length; j++) if (!t[j](v)) return false;
    }
    return true;
  }

  private _isIgnored(span: Span): boolean {
    if (this._ignored === undefined || span.category !== 'http') return false;
    const path = httpSpanPath(span);
    return path !== undefined && this._ignored(path);
  }

  /** The spans each signal keeps. */
  split(spans: readonly Span[]): FilteredSpans {
    if (!this.active) return { metrics: spans, traces: spans, dropped: 0 };
    const metrics: Span[] = [];
    const traces: Span[] = [];
    let dropped = 0;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (!this.allow(s)) {
        dropped++;
        continue;
      }
      const ignored = this._isIgnored(s);
      const toMetrics = !(ignored && this._ignoreMetrics);
      const toTraces = !(ignored && this._ignoreTraces);
      if (toMetrics) metrics.push(s);
      if (toTraces) traces.push(s);
      if (!toMetrics && !toTraces) dropped++;
    }
    return { metrics, traces, dropped };
  }
}
