/**
 * Messaging spans (Kafka, RabbitMQ/AMQP 0-9-1, NATS, MQTT) and the two messaging metrics,
 * following OBI (obi-compat §2.1, §2.3, §3.1, §3.2) and the OpenTelemetry messaging
 * semantic conventions where OBI is silent.
 *
 * Span names: `<operation type> <destination>` (`publish orders`, `process orders`); `*` stands
 * for a destination the parser did not capture (`publish *`).
 *
 * Kinds: on the client side of a connection (the instrumented process talks to a broker)
 * `publish` and `create` are PRODUCER, `process` is CONSUMER, `receive` and `settle` are CLIENT;
 * on the server side (the instrumented process is the broker) every operation is SERVER.
 *
 * Attributes: `messaging.system`, `messaging.operation.type`, `messaging.operation.name`,
 * `messaging.destination.name`, `server.address`, `server.port`, and when the record has them
 * `messaging.client.id`, `messaging.consumer.group.name`, `messaging.destination.partition.id`,
 * `messaging.kafka.offset` (Kafka), `messaging.batch.message_count`, `messaging.message.id`,
 * `messaging.message.body.size`, `messaging.message.envelope.size`,
 * `rabbitmq.destination.routing_key` and `rabbitmq.message.delivery_tag` (AMQP). Status ERROR
 * with `error.type` (and the broker's text as status message) iff the record failed.
 *
 * Trace context: a valid W3C `traceparent` carried in the message puts the span in that trace,
 * with the carried span as its parent. The producer's context travels with the message, so the
 * producer's `publish` and the consumer's `process` of the same message join one trace.
 *
 * Metrics (application feature, like `db_client_operation_duration_seconds`):
 * - `messaging_client_operation_duration_seconds` (`messaging.client.operation.duration`):
 *   client-side operations other than `process` (publish, receive, settle, create);
 * - `messaging_process_duration_seconds` (`messaging.process.duration`): `process` spans.
 * Labels by default `messaging.system`, `messaging.destination.name`, `messaging.operation.name`,
 * `server.address` plus the service labels (OBI §2.3); `error.type`, `messaging.operation.type`,
 * `server.port`, `messaging.destination.partition.id` and `messaging.consumer.group.name` through
 * `attributes.select`.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_CLIENT_ID,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_ENVELOPE_SIZE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG,
} from '@opentelemetry/semantic-conventions/incubating';
import type { FamilyTarget } from './family.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { MessagingRecord } from '../protocols/common/records.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { LabelValue } from './histogram.ts';
import type { IdSource } from './ids.ts';
import { ATTR_INSTANCE, ATTR_JOB, DEFAULT_DURATION_BUCKETS, promLabelName, spanAttributeGetter } from './metrics.ts';
import { TRACE_FLAG_SAMPLED } from './span.ts';
import type { Attributes, Span, SpanKind } from './span.ts';
import { parseTraceparent } from './tracecontext.ts';

/** The destination in a span name when the parser did not capture it. */
export const UNKNOWN_DESTINATION = '*';

/** OBI's span name of a messaging operation (obi-compat §3.1): `<op> <destination>`, `<op> *` when unknown. */
export function messagingSpanName(rec: MessagingRecord): string {
  const d = rec.destination;
  return `${rec.operation} ${d !== undefined && d.length > 0 ? d : UNKNOWN_DESTINATION}`;
}

/** The span kind of an operation seen on a connection of this role. */
export function messagingSpanKind(rec: MessagingRecord, conn: ConnInfo): SpanKind {
  if (conn.role === 'server') return 'server';
  switch (rec.operation) {
    case 'publish':
    case 'create':
      return 'producer';
    case 'process':
      return 'consumer';
    default:
      return 'client';
  }
}

/** Build the span of one messaging operation observed on `conn` by the instrumentation `instrumentation`. */
export function messagingSpan(rec: MessagingRecord, conn: ConnInfo, service: ServiceIdentity, ids: IdSource, instrumentation: string): Span {
  const isServer = conn.role === 'server';
  const attributes: Attributes = {
    [ATTR_MESSAGING_SYSTEM]: rec.system,
    [ATTR_MESSAGING_OPERATION_TYPE]: rec.operation,
    [ATTR_MESSAGING_OPERATION_NAME]: rec.operationName !== undefined && rec.operationName.length > 0 ? rec.operationName : rec.operation,
  };
  if (rec.destination !== undefined && rec.destination.length > 0) attributes[ATTR_MESSAGING_DESTINATION_NAME] = rec.destination;
  attributes[ATTR_SERVER_ADDRESS] = isServer ? conn.localAddr : conn.remoteAddr;
  attributes[ATTR_SERVER_PORT] = isServer ? conn.localPort : conn.remotePort;
  if (rec.clientId !== undefined && rec.clientId.length > 0) attributes[ATTR_MESSAGING_CLIENT_ID] = rec.clientId;
  if (rec.consumerGroup !== undefined && rec.consumerGroup.length > 0) attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = rec.consumerGroup;
  if (rec.partition !== undefined && rec.partition.length > 0) attributes[ATTR_MESSAGING_DESTINATION_PARTITION_ID] = rec.partition;
  if (rec.offset !== undefined && rec.system === 'kafka') attributes[ATTR_MESSAGING_KAFKA_OFFSET] = rec.offset;
  if (rec.messageCount !== undefined) attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = rec.messageCount;
  if (rec.messageId !== undefined && rec.messageId.length > 0) attributes[ATTR_MESSAGING_MESSAGE_ID] = rec.messageId;
  if (rec.bodySize !== undefined) attributes[ATTR_MESSAGING_MESSAGE_BODY_SIZE] = rec.bodySize;
  if (rec.envelopeSize !== undefined) attributes[ATTR_MESSAGING_MESSAGE_ENVELOPE_SIZE] = rec.envelopeSize;
  if (rec.routingKey !== undefined && rec.routingKey.length > 0) attributes[ATTR_RABBITMQ_DESTINATION_ROUTING_KEY] = rec.routingKey;
  if (rec.deliveryTag !== undefined) attributes[ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG] = rec.deliveryTag;
  const failed = rec.errorType !== undefined && rec.errorType.length > 0;
  if (failed) attributes[ATTR_ERROR_TYPE] = rec.errorType as string;

  const carried = parseTraceparent(rec.traceparent);
  return {
    protocol: instrumentation,
    category: 'messaging',
    traceId: carried === undefined ? ids.traceId() : carried.traceId,
    spanId: ids.spanId(),
    parentSpanId: carried?.parentId,
    traceFlags: carried === undefined ? TRACE_FLAG_SAMPLED : carried.flags,
    name: messagingSpanName(rec),
    kind: messagingSpanKind(rec, conn),
    startNs: rec.startNs,
    endNs: rec.endNs >= rec.startNs ? rec.endNs : rec.startNs,
    status: failed ? 'error' : 'unset',
    statusMessage: failed && rec.errorMessage !== undefined && rec.errorMessage.length > 0 ? rec.errorMessage : undefined,
    attributes,
    service,
    conn,
  };
}

// ---------------------------------------------------------------- metrics

/** Which of the two messaging histograms. */
export type MessagingMetricKind = 'client' | 'process';

export interface MessagingMetricNames {
  /** OTel name */
  readonly otel: string;
  /** Prometheus name */
  readonly prom: string;
  readonly help: string;
}

export const MESSAGING_METRICS: Readonly<Record<MessagingMetricKind, MessagingMetricNames>> = {
  client: {
    otel: 'messaging.client.operation.duration',
    prom: 'messaging_client_operation_duration_seconds',
    help: 'duration of messaging client operations, in seconds',
  },
  process: {
    otel: 'messaging.process.duration',
    prom: 'messaging_process_duration_seconds',
    help: 'duration of processing messages, in seconds',
  },
};

export interface MessagingMetricAttributeDef {
  readonly name: string;
  readonly byDefault: boolean;
}

/** Attributes the messaging metrics know, with OBI's defaults (§2.3). */
export const MESSAGING_METRIC_ATTRIBUTES: readonly MessagingMetricAttributeDef[] = [
  { name: ATTR_SERVICE_NAME, byDefault: true },
  { name: ATTR_SERVICE_NAMESPACE, byDefault: true },
  { name: ATTR_JOB, byDefault: true },
  { name: ATTR_INSTANCE, byDefault: true },
  { name: ATTR_MESSAGING_SYSTEM, byDefault: true },
  { name: ATTR_MESSAGING_DESTINATION_NAME, byDefault: true },
  { name: ATTR_MESSAGING_OPERATION_NAME, byDefault: true },
  { name: ATTR_SERVER_ADDRESS, byDefault: true },
  { name: ATTR_ERROR_TYPE, byDefault: false },
  { name: ATTR_MESSAGING_OPERATION_TYPE, byDefault: false },
  { name: ATTR_SERVER_PORT, byDefault: false },
  { name: ATTR_MESSAGING_DESTINATION_PARTITION_ID, byDefault: false },
  { name: ATTR_MESSAGING_CONSUMER_GROUP_NAME, byDefault: false },
];

/** Default label attributes of the messaging metrics, sorted. */
export function defaultMessagingMetricAttributes(): string[] {
  return MESSAGING_METRIC_ATTRIBUTES.filter((a) => a.byDefault)
    .map((a) => a.name)
    .sort();
}

/** Prometheus label → attribute name of the messaging metrics (for OTLP). */
export const MESSAGING_LABEL_TO_ATTRIBUTE: ReadonlyMap<string, string> = new Map(MESSAGING_METRIC_ATTRIBUTES.map((a) => [promLabelName(a.name), a.name]));

export interface MessagingMetricsOptions {
  readonly buckets?: readonly number[];
  /** attributes to report (dot or underscore form); default OBI's */
  readonly attributes?: readonly string[];
  /** `prometheus_export.instrumentations`: spans of other instrumentations are not recorded; default `*` */
  readonly instrumentations?: readonly string[];
}

type Getter = (span: Span) => LabelValue;

/** Does this span feed the histogram of `kind`? Client-side messaging spans only. */
function selects(kind: MessagingMetricKind, span: Span): boolean {
  if (span.category !== 'messaging') return false;
  if (kind === 'process') return span.kind === 'consumer';
  return span.kind === 'producer' || span.kind === 'client';
}

/**
 * One of the two messaging histograms (`kind` chooses which); a SpanRecorder of the span
 * processor, as DbMetrics is.
 */
export class MessagingMetrics {
  readonly kind: MessagingMetricKind;
  readonly names: MessagingMetricNames;
  readonly labelNames: readonly string[];
  private readonly _hist: HistogramVec;
  private readonly _index: SeriesIndex;
  private readonly _getters: readonly Getter[];
  private readonly _scratch: LabelValue[];
  /** undefined: every instrumentation */
  private readonly _enabled: ReadonlySet<string> | undefined;

  constructor(store: FamilyTarget, kind: MessagingMetricKind, options: MessagingMetricsOptions = {}) {
    this.kind = kind;
    this.names = MESSAGING_METRICS[kind];
    const inst = options.instrumentations ?? ['*'];
    this._enabled = inst.includes('*') ? undefined : new Set(inst);
    const attrs =
      options.attributes === undefined
        ? defaultMessagingMetricAttributes()
        : [...new Set(options.attributes.map((a) => MESSAGING_LABEL_TO_ATTRIBUTE.get(a) ?? a))].sort();
    this._index = new SeriesIndex(attrs.length);
    this._getters = attrs.map(spanAttributeGetter);
    this._scratch = new Array<LabelValue>(attrs.length).fill('');
    this.labelNames = attrs.map(promLabelName);
    this._hist = new HistogramVec({
      name: this.names.otel,
      unit: 's',
      help: this.names.help,
      promName: this.names.prom,
      labelNames: this.labelNames,
      attributes: attrs,
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      index: this._index,
    }).registerIn(store);
  }

  /** Observe one span if it is a messaging span of this histogram's kind from an enabled instrumentation. */
  record(span: Span): void {
    if (!selects(this.kind, span) || (this._enabled !== undefined && !this._enabled.has(span.protocol))) return;
    const g = this._getters;
    const v = this._scratch;
    for (let i = 0; i < g.length; i++) v[i] = g[i](span);
    const d = span.endNs - span.startNs;
    this._hist.observe(this._index.id(v), d > 0 ? d / 1e9 : 0);
  }

  recordAll(spans: readonly Span[]): void {
    for (let i = 0; i < spans.length; i++) this.record(spans[i]);
  }

  /** the underlying histogram (for exporters other than Prometheus) */
  get histogram(): HistogramVec {
    return this._hist;
  }
}

/**
 * Both messaging histograms, each reporting the attributes `select(<its OTel name>, defs)` picks
 * (the `attributes.select` of the configuration).
 */
export function createMessagingMetrics(
  store: FamilyTarget,
  select: (metric: string, defs: readonly MessagingMetricAttributeDef[]) => string[],
  options: Omit<MessagingMetricsOptions, 'attributes'> = {},
): MessagingMetrics[] {
  return (['client', 'process'] as const).map(
    (kind) => new MessagingMetrics(store, kind, { ...options, attributes: select(MESSAGING_METRICS[kind].otel, MESSAGING_METRIC_ATTRIBUTES) }),
  );
}
