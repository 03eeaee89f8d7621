export { loadConfig, DERIVED_KEYS } from './load.ts';
export type { EffectiveConfig, LoadOptions } from './load.ts';
export type { MetricFeature } from './rules.ts';
export { parseDuration, durationMs, tryParseDuration } from './duration.ts';
export { parsePortRanges, parsePidList, MAX_PIDS } from './ranges.ts';
export { resolveOtlp, parseHeaders, guessProtocol } from './otlp.ts';
export type { ResolvedOtlp, OtlpSignal, OtlpProtocol } from './otlp.ts';
export { formatConfig } from './print.ts';
export type {
  ObiConfig,
  DiscoveryConfig,
  EbpfConfig,
  OtelMetricsExportConfig,
  OtelTracesExportConfig,
  PrometheusExportConfig,
  AttributesConfig,
  RoutesConfig,
  FilterConfig,
  MatchDefinition,
  InclusionLists,
  SamplerConfig,
  BucketsConfig,
  GlobSelectorConfig,
  InternalMetricsConfig,
} from './generated/types.ts';
