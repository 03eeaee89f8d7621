/**
 * DNS client spans and the `dns.lookup.duration` metric (obi-compat §2, §3).
 *
 * Span name: `<type> <question>` (`A example.com`), else `DNS`. Attributes: `dns.question.name`,
 * `dns.answers`, `server.address`, `server.port`, `network.transport`; a response code other than
 * NOERROR sets `error.type` (`NXDOMAIN`) and status ERROR.
 *
 * Metric: `dns_lookup_duration_seconds`, labels by default `error.type` plus the service labels;
 * `dns.question.name` through `attributes`.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
} from '@opentelemetry/semantic-conventions';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { DnsRecord } from '../protocols/common/records.ts';
import type { FamilyTarget } from './family.ts';
import { HistogramVec, SeriesIndex, type LabelValue } from './histogram.ts';
import type { IdSource } from './ids.ts';
import { ATTR_INSTANCE, ATTR_JOB, DEFAULT_DURATION_BUCKETS, promLabelName, spanAttributeGetter } from './metrics.ts';
import { TRACE_FLAG_SAMPLED, type Attributes, type Span } from './span.ts';

export const ATTR_DNS_QUESTION_NAME = 'dns.question.name';
export const ATTR_DNS_ANSWERS = 'dns.answers';

/** `dns` is off by default, as in OBI: on only when one of the `instrumentations` lists names it (`*` does not) */
export function dnsListed(lists: ReadonlyArray<readonly string[]>): boolean {
  return lists.some((l) => l.includes('dns'));
}

/** OBI's span name for a DNS lookup. */
export function dnsSpanName(rec: DnsRecord): string {
  if (rec.name === undefined) return 'DNS';
  return `${rec.type ?? 'DNS'} ${rec.name === '' ? '.' : rec.name}`;
}

export function dnsSpan(rec: DnsRecord, conn: ConnInfo, service: ServiceIdentity, ids: IdSource, instrumentation: string): Span {
  const isServer = conn.role === 'server';
  const attributes: Attributes = {
    [ATTR_SERVER_ADDRESS]: isServer ? conn.localAddr : conn.remoteAddr,
    [ATTR_SERVER_PORT]: isServer ? conn.localPort : conn.remotePort,
    [ATTR_NETWORK_TRANSPORT]: rec.transport,
    [ATTR_DNS_ANSWERS]: rec.answers,
  };
  if (rec.name !== undefined) attributes[ATTR_DNS_QUESTION_NAME] = rec.name;
  const failed = rec.errorType !== undefined;
  if (failed) attributes[ATTR_ERROR_TYPE] = rec.errorType as string;
  return {
    protocol: instrumentation,
    category: 'dns',
    traceId: ids.traceId(),
    spanId: ids.spanId(),
    traceFlags: TRACE_FLAG_SAMPLED,
    name: dnsSpanName(rec),
    kind: isServer ? 'server' : 'client',
    startNs: rec.startNs,
    endNs: rec.endNs >= rec.startNs ? rec.endNs : rec.startNs,
    status: failed ? 'error' : 'unset',
    statusMessage: failed ? rec.rcode : undefined,
    attributes,
    service,
    conn,
  };
}

export const DNS_LOOKUP_DURATION_NAME = 'dns.lookup.duration';
export const DNS_LOOKUP_DURATION_PROM = 'dns_lookup_duration_seconds';
export const DNS_LOOKUP_DURATION_HELP = 'Measures the time taken to perform a DNS lookup.';

/** Attributes `dns.lookup.duration` knows, with OBI's defaults (§2.3). */
export const DNS_METRIC_ATTRIBUTES: readonly { readonly name: string; readonly byDefault: boolean }[] = [
  { name: ATTR_SERVICE_NAME, byDefault: true },
  { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
  { name: ATTR_JOB, byDefault: true },
  { name: ATTR_INSTANCE, byDefault: true },
  { name: ATTR_ERROR_TYPE, byDefault: true },
  { name: ATTR_DNS_QUESTION_NAME, byDefault: false },
];

type Getter = (span: Span) => LabelValue;

const UNDERSCORE_TO_DOT = new Map<string, string>(DNS_METRIC_ATTRIBUTES.map((a) => [promLabelName(a.name), a.name]));

export interface DnsMetricsOptions {
  readonly buckets?: readonly number[];
  /** attributes to report (dot or underscore form); default OBI's */
  readonly attributes?: readonly string[];
}

/** The `dns_lookup_duration_seconds` histogram, from client spans of category `dns`. */
export class DnsMetrics {
  readonly labelNames: readonly string[];
  private readonly _hist: HistogramVec;
  private readonly _index: SeriesIndex;
  private readonly _getters: readonly Getter[];
  private readonly _scratch: LabelValue[];

  constructor(store: FamilyTarget, options: DnsMetricsOptions = {}) {
    const attrs =
      options.attributes === undefined
        ? DNS_METRIC_ATTRIBUTES.filter((a) => a.byDefault).map((a) => a.name).sort()
        : [...new Set(options.attributes.map((a) => UNDERSCORE_TO_DOT.get(a) ?? a))].sort();
    this._index = new SeriesIndex(attrs.length);
    this._getters = attrs.map(spanAttributeGetter);
    this._scratch = new Array<LabelValue>(attrs.length).fill('');
    this.labelNames = attrs.map(promLabelName);
    this._hist = new HistogramVec({
      name: DNS_LOOKUP_DURATION_NAME,
      unit: 's',
      help: DNS_LOOKUP_DURATION_HELP,
      labelNames: this.labelNames,
      attributes: attrs,
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      index: this._index,
    }).registerIn(store);
  }

  record(span: Span): void {
    if (span.kind !== 'client' || span.category !== 'dns') return;
    const g = this._getters;
    const v = this._scratch;
    for (let i = 0; i < g.length; i++) v[i] = g[i](span);
    const d = span.endNs - span.startNs;
    this._hist.observe(this._index.id(v), d > 0 ? d / 1e9 : 0);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  get histogram(): HistogramVec {
    return this._hist;
  }
}
