/** OTLP export of traces and metrics (http/protobuf, http/json, grpc). */
export { EpochConverter, OBI_SCOPE, ResourceCache, toHrTime, toReadableSpan } from './convert.ts';
export type { ResourceCacheOptions } from './convert.ts';
export { DEFAULT_MAX_SCALE, DEFAULT_MAX_SIZE, ExponentialHistogram, ExponentialHistogramVec, lowerBoundary, mapToIndex } from './exponential.ts';
export type { ExponentialHistogramValue } from './exponential.ts';
export { MACHINE_ID_FILES, readHostId } from './host.ts';
export { OtlpMetricsExporter } from './metrics.ts';
export type { HistogramAggregation, MetricExportStats, OtlpBuckets, OtlpCounterSource, OtlpGaugePoint, OtlpGaugeSource, OtlpHistogramSource, OtlpMetricsExporterOptions, SeriesOwner } from './metrics.ts';
export { backoffDelay, isRetryable } from './retry.ts';
export type { BackoffPolicy } from './retry.ts';
export { createSampler, traceIdRatioSampled } from './sampler.ts';
export type { SpanSampler } from './sampler.ts';
export { OtlpExportMetrics, exportErrorType } from './self-metrics.ts';
export type { OtlpExportMetricsOptions } from './self-metrics.ts';
export { dbClientHistogram, serviceGraphSources, spanMetricsSources, tracesTargetInfoSource } from './sources.ts';
export { OtlpTraceExporter } from './traces.ts';
export type { ExportLogger, OtlpTraceExporterOptions, TraceExportStats } from './traces.ts';
export { createMetricSender, createTraceSender } from './transport.ts';
export type { ExportOutcome, OtlpSender, TransportOptions } from './transport.ts';
