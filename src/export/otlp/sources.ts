/** OTLP metric sources built from the telemetry families: DB histogram, span metrics, service graph, traces_target_info. */
import type { ServiceIdentity } from '../../common/service.ts';
import type { DbMetrics } from '../../telemetry/db.ts';
import type { ServiceGraph } from '../../telemetry/servicegraph.ts';
import { SOURCE, SPAN_METRICS_LABELS } from '../../telemetry/spanmetrics.ts';
import type { SpanMetrics } from '../../telemetry/spanmetrics.ts';
import { hostIdAttribute } from './host.ts';
import type { OtlpCounterSource, OtlpGaugeSource, OtlpHistogramSource, SeriesOwner } from './metrics.ts';

/** `db.client.operation.duration` as the OTLP metrics exporter takes it: the family as it is. */
export function dbClientHistogram(db: DbMetrics, buckets?: readonly number[]): OtlpHistogramSource {
  return { vec: db.histogram, buckets };
}

/**
 * Span metrics as OBI sends them over OTLP: the duration histogram (`traces.span.metrics.duration`
 * or legacy `traces_spanmetrics_latency`, unit `s`) and the calls counter
 * (`traces.span.metrics.calls` / `traces_spanmetrics_calls_total`), with `service.name`,
 * `service.namespace`, `service.instance.id`, `span.name`, `span.kind`, `status.code`, `source`
 * and `host.id` on every point.
 */
export function spanMetricsSources(
  sm: SpanMetrics,
  hostId: string,
  buckets?: readonly number[],
  serviceOf?: (instanceId: string) => ServiceIdentity | undefined,
): [OtlpHistogramSource, OtlpCounterSource] {
  const constAttributes = hostIdAttribute(hostId);
  const instanceAt = SPAN_METRICS_LABELS.indexOf('instance');
  const owner: SeriesOwner | undefined = serviceOf === undefined ? undefined : (_id, v) => serviceOf(v[instanceAt]);
  // OBI's OTLP span metrics carry no SDK language (and no `job`, Prometheus-only)
  const drop = ['telemetry.sdk.language'];
  return [
    { vec: sm.duration, constAttributes, drop, buckets, owner },
    { vec: sm.calls, constAttributes, drop, owner },
  ];
}

/** A service known by name only: the resource of a series whose service is gone. */
function namedService(name: string, namespace: string): ServiceIdentity {
  return { name, namespace, instanceId: namespace === '' ? name : `${namespace}/${name}`, pid: 0, exePath: '', language: 'generic' };
}

/**
 * The service-graph families over OTLP: `traces_service_graph_request_client` /
 * `_server` (histograms, `s`), `traces_service_graph_request_total` / `_failed_total`
 * (monotonic Sums), attributes `client`, `client_service_namespace`, `server`,
 * `server_service_namespace`, `source`, `connection_type` (only when set). Like OBI's
 * per-service reporters, each series goes under the resource of the service whose span made
 * it: the client of a client-side series, the server of a server-side one.
 */
export function serviceGraphSources(
  sg: ServiceGraph,
  serviceNamed: (name: string, namespace: string) => ServiceIdentity | undefined,
  buckets?: readonly number[],
): { histograms: OtlpHistogramSource[]; counters: OtlpCounterSource[] } {
  const omitEmpty = ['connection_type'];
  const side = (nameAt: number): SeriesOwner => (_id, v) => serviceNamed(v[nameAt], v[nameAt + 1]) ?? namedService(v[nameAt], v[nameAt + 1]);
  const clientSide = side(0);
  const serverSide = side(2);
  // a counter series was made by server spans if the server histogram has it, else by client spans
  const either: SeriesOwner = (id, v) => (sg.server.snapshot(id).count > 0 ? serverSide(id, v) : clientSide(id, v));
  return {
    histograms: [
      { vec: sg.client, omitEmpty, buckets, owner: clientSide },
      { vec: sg.server, omitEmpty, buckets, owner: serverSide },
    ],
    counters: [
      { vec: sg.total, omitEmpty, owner: either },
      { vec: sg.failed, omitEmpty, owner: either },
    ],
  };
}

/**
 * `traces_target_info` over OTLP: value 1 per service reported by the span-metric features, with
 * OBI's attributes (`service.name`, `service.instance.id`, `service.namespace`,
 * `telemetry.sdk.language`, `telemetry.sdk.name`, `source`, `os.type`, `host.id`).
 */
export function tracesTargetInfoSource(services: () => Iterable<ServiceIdentity>, hostId: string): OtlpGaugeSource {
  const attrs = new WeakMap<ServiceIdentity, Record<string, string>>();
  return {
    name: 'traces_target_info',
    description: 'target service information in trace span metric format',
    points: function* () {
      for (const service of services()) {
        let a = attrs.get(service);
        if (a === undefined) {
          a = {
            'service.name': service.name,
            'service.instance.id': service.instanceId,
            'service.namespace': service.namespace,
            'telemetry.sdk.language': service.language,
            'telemetry.sdk.name': 'opentelemetry',
            source: SOURCE,
            'os.type': 'linux',
            ...hostIdAttribute(hostId),
          };
          attrs.set(service, a);
        }
        yield { service, attributes: a, value: 1 };
      }
    },
  };
}
