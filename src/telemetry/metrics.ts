// Over 400 lines: the RED metric families, their attribute tables and target_info share one label-group machinery.
/**
 * Application RED metrics for HTTP spans, with OBI's Prometheus names, help texts,
 * default buckets and default-visible labels (obi-compat §2.1–2.3), plus `target_info`.
 *
 * Label sets are computed from a list of attribute names per metric (dot form; the
 * Prometheus label is the name with `.` → `_`), so `attributes.select` include/exclude
 * only has to produce those lists. Label names are exposed sorted, as OBI's attribute
 * selector returns them.
 *
 * `job` and `instance` are labels here because OBI's Prometheus exporter adds them to
 * every application metric (its `GroupPrometheus` attribute group: `instance`, `job`
 * default-on; the OTLP exporter carries them as resource attributes instead).
 */
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
// not yet stable in semantic conventions: the incubating entry point
import {
  ATTR_HOST_ID,
  ATTR_HOST_NAME,
  ATTR_HTTP_REQUEST_BODY_SIZE,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_OS_TYPE,
} from '@opentelemetry/semantic-conventions/incubating';
import type { ServiceIdentity } from '../common/service.ts';
import { GaugeVec } from './gauge.ts';
import { isMetadataAttribute } from './meta-attrs.ts';
import { instancePositions } from './exited.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import type { MetricStore } from './store.ts';
import type { Span } from './span.ts';

/** OTel names of the HTTP RED metrics (the keys `attributes.select` uses). */
export type HttpMetricName =
  | 'http.server.request.duration'
  | 'http.client.request.duration'
  | 'http.server.request.body.size'
  | 'http.server.response.body.size'
  | 'http.client.request.body.size'
  | 'http.client.response.body.size';

type Side = 'server' | 'client';
type Measure = 'duration' | 'requestSize' | 'responseSize';

export interface HttpMetricDef {
  /** OTel name: the family's name in the store */
  readonly otel: HttpMetricName;
  /** Prometheus name (what the naming rule derives from `otel` and the unit; checked by a test) */
  readonly prom: string;
  readonly help: string;
  readonly side: Side;
  readonly measure: Measure;
}

/** OBI's definitions (pkg/export/prom), in registration order. */
export const HTTP_METRICS: readonly HttpMetricDef[] = [
  { otel: 'http.server.request.duration', prom: 'http_server_request_duration_seconds', help: 'duration of HTTP service calls from the server side, in seconds', side: 'server', measure: 'duration' },
  { otel: 'http.server.request.body.size', prom: 'http_server_request_body_size_bytes', help: 'size, in bytes, of the HTTP request body as received at the server side', side: 'server', measure: 'requestSize' },
  { otel: 'http.server.response.body.size', prom: 'http_server_response_body_size_bytes', help: 'size, in bytes, of the HTTP response body as received at the server side', side: 'server', measure: 'responseSize' },
  { otel: 'http.client.request.duration', prom: 'http_client_request_duration_seconds', help: 'duration of HTTP service calls from the client side, in seconds', side: 'client', measure: 'duration' },
  { otel: 'http.client.request.body.size', prom: 'http_client_request_body_size_bytes', help: 'size, in bytes, of the HTTP request body as sent from the client side', side: 'client', measure: 'requestSize' },
  { otel: 'http.client.response.body.size', prom: 'http_client_response_body_size_bytes', help: 'size, in bytes, of the HTTP response body as sent from the client side', side: 'client', measure: 'responseSize' },
];

/** OBI default buckets (obi-compat §2.2). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const DEFAULT_SIZE_BUCKETS: readonly number[] = [0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

/** Prometheus-only attributes OBI adds to application metrics. */
export const ATTR_JOB = 'job';
export const ATTR_INSTANCE = 'instance';

export interface MetricAttributeDef {
  /** dot form (`http.request.method`); the Prometheus label is `.` → `_` */
  readonly name: string;
  /** reported when `attributes.select` says nothing about it */
  readonly byDefault: boolean;
}

/** Attributes the HTTP metrics know, with OBI's defaults (obi-compat §2.3); `http.route` assumes routes are configured (the default). */
export const HTTP_METRIC_ATTRIBUTES: { readonly [S in Side]: readonly MetricAttributeDef[] } = {
  server: [
    { name: ATTR_SERVICE_NAME, byDefault: true },
    { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
    { name: ATTR_JOB, byDefault: true },
    { name: ATTR_INSTANCE, byDefault: true },
    { name: ATTR_HTTP_REQUEST_METHOD, byDefault: true },
    { name: ATTR_HTTP_RESPONSE_STATUS_CODE, byDefault: true },
    { name: ATTR_URL_SCHEME, byDefault: true },
    { name: ATTR_HTTP_ROUTE, byDefault: true },
    { name: ATTR_SERVER_ADDRESS, byDefault: true },
    { name: ATTR_SERVER_PORT, byDefault: true },
    { name: ATTR_URL_PATH, byDefault: false },
    { name: ATTR_CLIENT_ADDRESS, byDefault: false },
  ],
  client: [
    { name: ATTR_SERVICE_NAME, byDefault: true },
    { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
    { name: ATTR_JOB, byDefault: true },
    { name: ATTR_INSTANCE, byDefault: true },
    { name: ATTR_HTTP_REQUEST_METHOD, byDefault: true },
    { name: ATTR_HTTP_RESPONSE_STATUS_CODE, byDefault: true },
    { name: ATTR_URL_SCHEME, byDefault: true },
    { name: ATTR_HTTP_ROUTE, byDefault: true },
    { name: ATTR_SERVER_ADDRESS, byDefault: true },
    { name: ATTR_SERVER_PORT, byDefault: true },
    { name: ATTR_URL_PATH, byDefault: false },
  ],
};

/** Default attribute list of one metric, sorted. */
export function defaultHttpMetricAttributes(metric: HttpMetricName): string[] {
  const def = HTTP_METRICS.find((m) => m.otel === metric);
  if (def === undefined) throw new RangeError(`unknown HTTP metric ${metric}`);
  return HTTP_METRIC_ATTRIBUTES[def.side].filter((a) => a.byDefault).map((a) => a.name).sort();
}

/** Prometheus label name of an attribute. */
export function promLabelName(attr: string): string {
  return attr.replaceAll('.', '_');
}

const UNDERSCORE_TO_DOT = new Map<string, string>();
for (const side of ['server', 'client'] as const) {
  for (const a of HTTP_METRIC_ATTRIBUTES[side]) UNDERSCORE_TO_DOT.set(promLabelName(a.name), a.name);
}

/** `http_request_method` → `http.request.method` for known attributes; other names unchanged. */
export function normalizeAttributeName(name: string): string {
  return UNDERSCORE_TO_DOT.get(name) ?? name;
}

export interface ResourceInfo {
  /** `host.id` (machine id) */
  readonly hostId?: string;
  /** `host.name` */
  readonly hostName?: string;
  /** `telemetry.sdk.version` */
  readonly sdkVersion?: string;
}

export interface RedMetricsOptions {
  readonly buckets?: {
    readonly duration?: readonly number[];
    readonly requestSize?: readonly number[];
    readonly responseSize?: readonly number[];
  };
  /** per metric, the attributes to report (dot or underscore form); absent = OBI defaults */
  readonly attributes?: Partial<Record<HttpMetricName, readonly string[]>>;
  readonly resource?: ResourceInfo;
}

/** OBI's `target_info` labels, in its order. */
export const TARGET_INFO_LABELS = [
  promLabelName(ATTR_HOST_ID),
  promLabelName(ATTR_HOST_NAME),
  promLabelName(ATTR_SERVICE_NAME),
  promLabelName(ATTR_SERVICE_NAMESPACE),
  ATTR_INSTANCE,
  ATTR_JOB,
  promLabelName(ATTR_TELEMETRY_SDK_LANGUAGE),
  promLabelName(ATTR_TELEMETRY_SDK_NAME),
  promLabelName(ATTR_TELEMETRY_SDK_VERSION),
  'source',
  promLabelName(ATTR_OS_TYPE),
] as const;

/** OTel attribute of each {@link TARGET_INFO_LABELS} label. */
export const TARGET_INFO_ATTRIBUTES: readonly string[] = [
  ATTR_HOST_ID,
  ATTR_HOST_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_INSTANCE,
  ATTR_JOB,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
  'source',
  ATTR_OS_TYPE,
];

export type TargetInfoLabel = (typeof TARGET_INFO_LABELS)[number];

/** `target_info` (and `traces_target_info`) label values of a service, as OBI sets them. */
export function targetInfoLabels(service: ServiceIdentity, resource: ResourceInfo = {}): Record<TargetInfoLabel, string> {
  return {
    host_id: resource.hostId ?? '',
    host_name: resource.hostName ?? '',
    service_name: service.name,
    service_namespace: service.namespace,
    instance: service.instanceId,
    job: serviceJob(service),
    telemetry_sdk_language: service.language,
    telemetry_sdk_name: 'opentelemetry',
    telemetry_sdk_version: resource.sdkVersion ?? '',
    source: 'obi',
    os_type: 'linux',
  };
}

/** `<namespace>/<name>`, or `<name>` without a namespace: OBI's Prometheus `job`. */
export function serviceJob(service: ServiceIdentity): string {
  return service.namespace.length > 0 ? `${service.namespace}/${service.name}` : service.name;
}

type Getter = (span: Span) => LabelValue;

const jobCache = new WeakMap<ServiceIdentity, string>();
function cachedJob(service: ServiceIdentity): string {
  let job = jobCache.get(service);
  if (job === undefined) {
    job = serviceJob(service);
    jobCache.set(service, job);
  }
  return job;
}

/**
 * Reads one metric attribute of a span: the service's name, namespace, `job` and instance, else
 * the span attribute (`''` when absent). Shared by the DB, DNS, messaging and RPC histograms.
 */
export function spanAttributeGetter(attr: string): (span: Span) => LabelValue {
  switch (attr) {
    case ATTR_SERVICE_NAME:
      return (s) => s.service.name;
    case ATTR_SERVICE_NAMESPACE:
      return (s) => s.service.namespace;
    case ATTR_JOB:
      return (s) => serviceJob(s.service);
    case ATTR_INSTANCE:
    case ATTR_SERVICE_INSTANCE_ID:
      return (s) => s.service.instanceId;
    default:
      if (isMetadataAttribute(attr)) return (s) => s.service.attributes?.[attr] ?? '';
      return (s) => s.attributes[attr] ?? '';
  }
}

function getterFor(attr: string): Getter {
  switch (attr) {
    case ATTR_SERVICE_NAME:
      return (s) => s.service.name;
    case ATTR_SERVICE_NAMESPACE:
      return (s) => s.service.namespace;
    case ATTR_JOB:
      return (s) => cachedJob(s.service);
    case ATTR_INSTANCE:
    case ATTR_SERVICE_INSTANCE_ID:
      return (s) => s.service.instanceId;
    default:
      if (isMetadataAttribute(attr)) return (s) => s.service.attributes?.[attr] ?? '';
      return (s) => s.attributes[attr] ?? '';
  }
}

/** One label list, shared by the histograms that report it. */
class LabelGroup {
  readonly key: string;
  readonly index: SeriesIndex;
  /** attribute names (dot form), in label order */
  readonly attrs: readonly string[];
  readonly labelNames: readonly string[];
  private readonly _getters: readonly Getter[];
  private readonly _scratch: LabelValue[];

  constructor(attrs: readonly string[]) {
    this.key = attrs.join('\n');
    this.index = new SeriesIndex(attrs.length);
    this.attrs = [...attrs];
    this.labelNames = attrs.map(promLabelName);
    this._getters = attrs.map(getterFor);
    this._scratch = new Array<LabelValue>(attrs.length).fill('');
  }

  resolve(span: Span): number {
    const g = this._getters;
    const v = this._scratch;
    for (let i = 0; i < g.length; i++) v[i] = g[i](span);
    return this.index.id(v);
  }
}

/** One RED histogram family (its OTel name, unit and attributes are the vec's) and its definition. */
export interface RedHistogram {
  readonly def: HttpMetricDef;
  readonly vec: HistogramVec;
}

/**
 * A gauge of one series per service, value 1, labelled {@link TARGET_INFO_LABELS} (`target_info`,
 * `traces_target_info`).
 */
export class TargetInfoGauge {
  readonly gauge: GaugeVec;
  private readonly _resource: ResourceInfo;
  /** series id per service instance */
  private readonly _ids = new Map<string, number>();
  private readonly _scratch: string[] = new Array<string>(TARGET_INFO_LABELS.length).fill('');

  constructor(store: MetricStore, name: string, help: string, resource: ResourceInfo = {}) {
    this._resource = resource;
    this.gauge = new GaugeVec({
      name,
      help,
      labelNames: TARGET_INFO_LABELS,
      attributes: TARGET_INFO_ATTRIBUTES,
      index: new SeriesIndex(TARGET_INFO_LABELS.length),
    }).registerIn(store);
  }

  has(service: ServiceIdentity): boolean {
    return this._ids.has(service.instanceId);
  }

  /** (Re)expose the series of a service, from its current identity. */
  registerService(service: ServiceIdentity): void {
    this.removeService(service);
    const labels = targetInfoLabels(service, this._resource);
    const v = this._scratch;
    for (let i = 0; i < TARGET_INFO_LABELS.length; i++) v[i] = labels[TARGET_INFO_LABELS[i]];
    const id = this.gauge.index.id(v);
    this.gauge.set(id, 1);
    this._ids.set(service.instanceId, id);
  }

  removeService(service: ServiceIdentity): void {
    const id = this._ids.get(service.instanceId);
    if (id === undefined) return;
    this.gauge.remove(id);
    this._ids.delete(service.instanceId);
  }
}

interface SideMetrics {
  readonly groups: readonly LabelGroup[];
  /** group position (in `groups`) for duration, request size, response size */
  readonly slot: Int32Array;
  readonly duration: HistogramVec;
  readonly requestSize: HistogramVec;
  readonly responseSize: HistogramVec;
  readonly ids: Int32Array;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

export class RedMetrics {
  private readonly _server: SideMetrics;
  private readonly _client: SideMetrics;
  private readonly _targetInfo: TargetInfoGauge;
  /** the services with a `target_info` series, by instance id */
  private readonly _services = new Map<string, ServiceIdentity>();

  constructor(store: MetricStore, options: RedMetricsOptions = {}) {
    const buckets = {
      duration: options.buckets?.duration ?? DEFAULT_DURATION_BUCKETS,
      requestSize: options.buckets?.requestSize ?? DEFAULT_SIZE_BUCKETS,
      responseSize: options.buckets?.responseSize ?? DEFAULT_SIZE_BUCKETS,
    };
    const build = (side: Side): SideMetrics => {
      const groups: LabelGroup[] = [];
      const slot = new Int32Array(3);
      const hist: Partial<Record<Measure, HistogramVec>> = {};
      for (const def of HTTP_METRICS) {
        if (def.side !== side) continue;
        const requested = options.attributes?.[def.otel];
        const attrs = requested === undefined ? defaultHttpMetricAttributes(def.otel) : [...new Set(requested.map(normalizeAttributeName))].sort();
        const key = attrs.join('\n');
        let pos = groups.findIndex((g) => g.key === key);
        if (pos < 0) {
          groups.push(new LabelGroup(attrs));
          pos = groups.length - 1;
        }
        const group = groups[pos];
        slot[def.measure === 'duration' ? 0 : def.measure === 'requestSize' ? 1 : 2] = pos;
        hist[def.measure] = new HistogramVec({
          name: def.otel,
          unit: def.measure === 'duration' ? 's' : 'By',
          help: def.help,
          labelNames: group.labelNames,
          attributes: group.attrs,
          buckets: buckets[def.measure],
          index: group.index,
        }).registerIn(store);
      }
      return {
        groups,
        slot,
        duration: hist.duration!,
        requestSize: hist.requestSize!,
        responseSize: hist.responseSize!,
        ids: new Int32Array(groups.length),
      };
    };
    this._server = build('server');
    this._client = build('client');
    this._targetInfo = new TargetInfoGauge(store, 'target_info', 'attributes associated to a given monitored entity', options.resource);
  }

  /** Observe one finished span (HTTP server and client spans; others are ignored). */
  record(span: Span): void {
    if (span.category !== 'http') return;
    const m = span.kind === 'server' ? this._server : span.kind === 'client' ? this._client : undefined;
    if (m === undefined) return;
    if (!this._services.has(span.service.instanceId)) this.registerService(span.service);
    const ids = m.ids;
    const groups = m.groups;
    for (let i = 0; i < groups.length; i++) ids[i] = groups[i].resolve(span);
    const durationNs = span.endNs - span.startNs;
    m.duration.observe(ids[m.slot[0]], durationNs > 0 ? durationNs / 1e9 : 0);
    m.requestSize.observe(ids[m.slot[1]], num(span.attributes[ATTR_HTTP_REQUEST_BODY_SIZE]));
    m.responseSize.observe(ids[m.slot[2]], num(span.attributes[ATTR_HTTP_RESPONSE_BODY_SIZE]));
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  /**
   * Time (ms, any monotonic origin) stamped on the series the next records update; call once
   * per batch before `recordAll`. {@link RedMetrics.expire} compares against these stamps.
   */
  setNow(now: number): void {
    for (const m of [this._server, this._client]) for (const g of m.groups) g.index.now = now;
  }

  /**
   * TTL (`prometheus_export.ttl`, `otel_metrics_export.ttl`): remove every series last updated
   * before `cutoff` (same clock as `setNow`); returns how many label sets were removed.
   */
  expire(cutoff: number): number {
    let n = 0;
    for (const m of [this._server, this._client]) for (const g of m.groups) n += g.index.expire(cutoff);
    return n;
  }

  /** Expose `target_info` for a service (done implicitly by its first recorded span). */
  registerService(service: ServiceIdentity): void {
    this._targetInfo.registerService(service);
    this._services.set(service.instanceId, service);
  }

  /** Identity of a registered service, by `service.instance.id` (the `instance` label). */
  service(instanceId: string): ServiceIdentity | undefined {
    return this._services.get(instanceId);
  }

  /** The six HTTP histogram families, in {@link HTTP_METRICS} order (they are in the store too, by OTel name). */
  histograms(): RedHistogram[] {
    return HTTP_METRICS.map((def) => {
      const m = def.side === 'server' ? this._server : this._client;
      const vec = def.measure === 'duration' ? m.duration : def.measure === 'requestSize' ? m.requestSize : m.responseSize;
      return { def, vec };
    });
  }

  /** Remove now the series labelled with `instanceId` (an exited process: telemetry/exited.ts); returns how many. */
  removeInstanceSeries(instanceId: string): number {
    let n = 0;
    for (const m of [this._server, this._client]) for (const g of m.groups) for (const pos of instancePositions(g.attrs)) n += g.index.removeWhere(pos, instanceId);
    return n;
  }

  /** Drop the `target_info` series of a service that went away. */
  removeService(service: ServiceIdentity): void {
    this._targetInfo.removeService(service);
    this._services.delete(service.instanceId);
  }
}
