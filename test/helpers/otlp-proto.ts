/**
 * The OTLP messages the test receiver decodes, as a protobufjs JSON descriptor written from the
 * public opentelemetry-proto definitions (v1.x): common/v1, resource/v1, trace/v1, metrics/v1
 * and the two collector services. Field numbers and types are the spec's; deprecated and
 * unused fields are left out (protobufjs skips unknown fields).
 */
import protobuf from 'protobufjs';

type Fields = Record<string, { type: string; id: number; rule?: 'repeated' }>;

const f = (type: string, id: number): { type: string; id: number } => ({ type, id });
const r = (type: string, id: number): { type: string; id: number; rule: 'repeated' } => ({ type, id, rule: 'repeated' });

const common: Record<string, unknown> = {
  AnyValue: {
    oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
    fields: {
      stringValue: f('string', 1),
      boolValue: f('bool', 2),
      intValue: f('int64', 3),
      doubleValue: f('double', 4),
      arrayValue: f('ArrayValue', 5),
      kvlistValue: f('KeyValueList', 6),
      bytesValue: f('bytes', 7),
    } satisfies Fields,
  },
  ArrayValue: { fields: { values: r('AnyValue', 1) } },
  KeyValueList: { fields: { values: r('KeyValue', 1) } },
  KeyValue: { fields: { key: f('string', 1), value: f('AnyValue', 2) } },
  InstrumentationScope: {
    fields: { name: f('string', 1), version: f('string', 2), attributes: r('KeyValue', 3), droppedAttributesCount: f('uint32', 4) },
  },
};

const resource: Record<string, unknown> = {
  Resource: {
    fields: { attributes: r('opentelemetry.proto.common.v1.KeyValue', 1), droppedAttributesCount: f('uint32', 2) },
  },
};

const KV = 'opentelemetry.proto.common.v1.KeyValue';

const trace: Record<string, unknown> = {
  ResourceSpans: { fields: { resource: f('opentelemetry.proto.resource.v1.Resource', 1), scopeSpans: r('ScopeSpans', 2), schemaUrl: f('string', 3) } },
  ScopeSpans: { fields: { scope: f('opentelemetry.proto.common.v1.InstrumentationScope', 1), spans: r('Span', 2), schemaUrl: f('string', 3) } },
  Span: {
    fields: {
      traceId: f('bytes', 1),
      spanId: f('bytes', 2),
      traceState: f('string', 3),
      parentSpanId: f('bytes', 4),
      flags: f('fixed32', 16),
      name: f('string', 5),
      kind: f('SpanKind', 6),
      startTimeUnixNano: f('fixed64', 7),
      endTimeUnixNano: f('fixed64', 8),
      attributes: r(KV, 9),
      droppedAttributesCount: f('uint32', 10),
      events: r('Event', 11),
      droppedEventsCount: f('uint32', 12),
      links: r('Link', 13),
      droppedLinksCount: f('uint32', 14),
      status: f('Status', 15),
    } satisfies Fields,
    nested: {
      SpanKind: {
        values: { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 },
      },
      Event: { fields: { timeUnixNano: f('fixed64', 1), name: f('string', 2), attributes: r(KV, 3), droppedAttributesCount: f('uint32', 4) } },
      Link: {
        fields: { traceId: f('bytes', 1), spanId: f('bytes', 2), traceState: f('string', 3), attributes: r(KV, 4), droppedAttributesCount: f('uint32', 5), flags: f('fixed32', 6) },
      },
    },
  },
  Status: {
    fields: { message: f('string', 2), code: f('StatusCode', 3) },
    nested: { StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } } },
  },
};

const metrics: Record<string, unknown> = {
  ResourceMetrics: { fields: { resource: f('opentelemetry.proto.resource.v1.Resource', 1), scopeMetrics: r('ScopeMetrics', 2), schemaUrl: f('string', 3) } },
  ScopeMetrics: { fields: { scope: f('opentelemetry.proto.common.v1.InstrumentationScope', 1), metrics: r('Metric', 2), schemaUrl: f('string', 3) } },
  Metric: {
    oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
    fields: {
      name: f('string', 1),
      description: f('string', 2),
      unit: f('string', 3),
      gauge: f('Gauge', 5),
      sum: f('Sum', 7),
      histogram: f('Histogram', 9),
      exponentialHistogram: f('ExponentialHistogram', 10),
      summary: f('Summary', 11),
      metadata: r(KV, 12),
    } satisfies Fields,
  },
  Gauge: { fields: { dataPoints: r('NumberDataPoint', 1) } },
  Sum: { fields: { dataPoints: r('NumberDataPoint', 1), aggregationTemporality: f('AggregationTemporality', 2), isMonotonic: f('bool', 3) } },
  Histogram: { fields: { dataPoints: r('HistogramDataPoint', 1), aggregationTemporality: f('AggregationTemporality', 2) } },
  ExponentialHistogram: { fields: { dataPoints: r('ExponentialHistogramDataPoint', 1), aggregationTemporality: f('AggregationTemporality', 2) } },
  Summary: { fields: { dataPoints: r('SummaryDataPoint', 1) } },
  AggregationTemporality: { values: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 } },
  NumberDataPoint: {
    oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
    fields: {
      attributes: r(KV, 7),
      startTimeUnixNano: f('fixed64', 2),
      timeUnixNano: f('fixed64', 3),
      asDouble: f('double', 4),
      asInt: f('sfixed64', 6),
      flags: f('uint32', 8),
    } satisfies Fields,
  },
  HistogramDataPoint: {
    oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } },
    fields: {
      attributes: r(KV, 9),
      startTimeUnixNano: f('fixed64', 2),
      timeUnixNano: f('fixed64', 3),
      count: f('fixed64', 4),
      sum: f('double', 5),
      bucketCounts: r('fixed64', 6),
      explicitBounds: r('double', 7),
      flags: f('uint32', 10),
      min: f('double', 11),
      max: f('double', 12),
    } satisfies Fields,
  },
  ExponentialHistogramDataPoint: {
    oneofs: { _sum: { oneof: ['sum'] }, _min: { oneof: ['min'] }, _max: { oneof: ['max'] } },
    fields: {
      attributes: r(KV, 1),
      startTimeUnixNano: f('fixed64', 2),
      timeUnixNano: f('fixed64', 3),
      count: f('fixed64', 4),
      sum: f('double', 5),
      scale: f('sint32', 6),
      zeroCount: f('fixed64', 7),
      positive: f('Buckets', 8),
      negative: f('Buckets', 9),
      flags: f('uint32', 10),
      min: f('double', 12),
      max: f('double', 13),
      zeroThreshold: f('double', 14),
    } satisfies Fields,
    nested: { Buckets: { fields: { offset: f('sint32', 1), bucketCounts: r('uint64', 2) } } },
  },
  SummaryDataPoint: {
    fields: { attributes: r(KV, 7), startTimeUnixNano: f('fixed64', 2), timeUnixNano: f('fixed64', 3), count: f('fixed64', 4), sum: f('double', 5), flags: f('uint32', 8) },
  },
};

const collectorTrace: Record<string, unknown> = {
  ExportTraceServiceRequest: { fields: { resourceSpans: r('opentelemetry.proto.trace.v1.ResourceSpans', 1) } },
  ExportTraceServiceResponse: { fields: { partialSuccess: f('ExportTracePartialSuccess', 1) } },
  ExportTracePartialSuccess: { fields: { rejectedSpans: f('int64', 1), errorMessage: f('string', 2) } },
};

const collectorMetrics: Record<string, unknown> = {
  ExportMetricsServiceRequest: { fields: { resourceMetrics: r('opentelemetry.proto.metrics.v1.ResourceMetrics', 1) } },
  ExportMetricsServiceResponse: { fields: { partialSuccess: f('ExportMetricsPartialSuccess', 1) } },
  ExportMetricsPartialSuccess: { fields: { rejectedDataPoints: f('int64', 1), errorMessage: f('string', 2) } },
};

const v1 = (nested: Record<string, unknown>): Record<string, unknown> => ({ nested: { v1: { nested } } });

export const OTLP_DESCRIPTOR = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            common: v1(common),
            resource: v1(resource),
            trace: v1(trace),
            metrics: v1(metrics),
            collector: {
              nested: {
                trace: v1(collectorTrace),
                metrics: v1(collectorMetrics),
              },
            },
          },
        },
      },
    },
  },
};

export const otlpRoot: protobuf.Root = protobuf.Root.fromJSON(OTLP_DESCRIPTOR as protobuf.INamespace);

export const ExportTraceServiceRequest: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ExportTraceServiceResponse: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
export const ExportMetricsServiceRequest: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse: protobuf.Type = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');

/** gRPC method paths of the two collector services. */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
