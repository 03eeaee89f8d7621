/**
 * The OBI rules a schema cannot express: field rules (ports, PIDs, regexes, URLs, headers,
 * sampler ratio) and cross-field rules (something to instrument, an exporter, exclusive span
 * metric formats, internal metrics).
 */
import type { MetricsConfig, ObiConfig, SamplerConfig } from './generated/types.ts';
import { parsePidList, parsePortRanges } from './ranges.ts';
import { tryParseDuration } from './duration.ts';
import { isEndpointUrl, parseHeaders, resolveOtlp } from './otlp.ts';
import type { PathSegment } from './schema-meta.ts';
import { getAt, isPlainObject, type Context, type Json } from './problems.ts';
import { METADATA_KEYS } from './selectors.ts';
import { AgentError } from '../errors.ts';

/** the internal metrics exporter in effect */
export type InternalMetricsExporter = 'disabled' | 'prometheus' | 'otel';

export type MetricFeature = Exclude<NonNullable<MetricsConfig['features']>[number], 'all' | '*'>;

const ALL_FEATURES: readonly MetricFeature[] = [
  'application', 'application_span', 'application_span_sizes', 'application_service_graph', 'application_host',
  'application_runtime', 'network', 'network_inter_zone', 'network_flow_packets', 'stats', 'stats_tcp_rtt',
  'stats_tcp_failed_connections', 'stats_tcp_retransmits', 'stats_tcp_io', 'ebpf',
];
const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);

function checkRegex(path: readonly PathSegment[], value: unknown, ctx: Context): void {
  if (typeof value !== 'string') return;
  try {
    new RegExp(value.startsWith('(?i)') ? value.slice(4) : value);
  } catch (e) {
    ctx.report(path, `is not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`, value);
  }
}

function checkIntEnum(path: readonly PathSegment[], value: unknown, kind: 'ports' | 'pids', ctx: Context): void {
  if (value === undefined) return;
  if (typeof value !== 'number' && typeof value !== 'string' && !Array.isArray(value)) return;
  if (Array.isArray(value) && !value.every((v) => typeof v === 'number' || typeof v === 'string')) return;
  try {
    if (kind === 'ports') parsePortRanges(value as string);
    else parsePidList(value as string);
  } catch (e) {
    if (!AgentError.is(e)) throw e;
    ctx.report(path, e.message, value);
  }
}

function checkSampler(path: readonly PathSegment[], sampler: unknown, ctx: Context): void {
  if (!isPlainObject(sampler)) return;
  const { name, arg } = sampler as Partial<SamplerConfig>;
  if (typeof name !== 'string' || !RATIO_SAMPLERS.has(name) || typeof arg !== 'string') return;
  const ratio = Number(arg);
  if (arg.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    ctx.report([...path, 'arg'], `must be a ratio between 0 and 1 for sampler ${name}`, arg);
  }
}

function checkSelectorList(path: readonly PathSegment[], list: unknown, regex: boolean, ctx: Context): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry, i) => {
    if (!isPlainObject(entry)) return;
    const at = [...path, i];
    checkIntEnum([...at, 'open_ports'], entry.open_ports, 'ports', ctx);
    checkIntEnum([...at, 'target_pids'], entry.target_pids, 'pids', ctx);
    checkSampler([...at, 'sampler'], entry.sampler, ctx);
    if (regex) {
      for (const k of ['exe_path', 'exe_path_regexp', ...METADATA_KEYS.filter((m) => m !== 'k8s_pod_labels' && m !== 'k8s_pod_annotations')]) {
        checkRegex([...at, k], entry[k], ctx);
      }
      for (const k of ['cmd_args', 'languages']) {
        if (entry[k] !== undefined) {
          ctx.report([...at, k], `regular-expression ${k} is not supported by obi-ts; use the glob form in discovery.instrument[].${k}`, entry[k]);
        }
      }
    }
  });
}

export function fieldRules(data: Json, ctx: Context): void {
  checkIntEnum(['open_port'], data.open_port, 'ports', ctx);
  checkIntEnum(['target_pids'], data.target_pids, 'pids', ctx);
  checkRegex(['executable_path'], data.executable_path, ctx);
  const d = data.discovery;
  if (isPlainObject(d)) {
    for (const k of ['instrument', 'exclude_instrument', 'default_exclude_instrument']) checkSelectorList(['discovery', k], d[k], false, ctx);
    for (const k of ['services', 'exclude_services', 'default_exclude_services']) checkSelectorList(['discovery', k], d[k], true, ctx);
  }
  for (const section of ['otel_metrics_export', 'otel_traces_export']) {
    const s = data[section];
    if (!isPlainObject(s)) continue;
    for (const k of ['endpoint', 'common_endpoint']) {
      const v = s[k];
      if (typeof v === 'string' && v.trim() !== '' && !isEndpointUrl(v.trim())) {
        ctx.report([section, k], 'must be a URL with a scheme and a host, such as http://localhost:4318', v);
      }
    }
    for (const k of ['headers', 'common_headers']) {
      const v = s[k];
      if (typeof v !== 'string') continue;
      try {
        parseHeaders(v);
      } catch (e) {
        if (!AgentError.is(e)) throw e;
        ctx.report([section, k], `${e.message} (expected k=v,k2=v2)`);
      }
    }
  }
  const traces = data.otel_traces_export;
  if (isPlainObject(traces)) checkSampler(['otel_traces_export', 'sampler'], traces.sampler, ctx);
  const ebpf = data.ebpf;
  if (isPlainObject(ebpf) && typeof ebpf.ring_buffer_size === 'number' && Number.isInteger(ebpf.ring_buffer_size)) {
    const n = ebpf.ring_buffer_size;
    if (n > 0 && (n & (n - 1)) !== 0) ctx.report(['ebpf', 'ring_buffer_size'], 'must be a power of two', n);
  }
  const k8s = getAt(data, ['attributes', 'kubernetes', 'informers_sync_timeout']);
  if (typeof k8s === 'string' && tryParseDuration(k8s) === 0) {
    ctx.report(['attributes', 'kubernetes', 'informers_sync_timeout'], 'must be greater than 0s', k8s);
  }
}

// ------------------------------------------------------------------ cross-field rules

export function expandFeatures(list: readonly string[] | undefined): MetricFeature[] {
  const out = new Set<MetricFeature>();
  for (const f of list ?? []) {
    if (f === 'all' || f === '*') for (const a of ALL_FEATURES) out.add(a);
    else out.add(f as MetricFeature);
  }
  return [...out];
}

function checkSpanFormats(path: readonly PathSegment[], list: readonly string[] | undefined, ctx: Context): void {
  if (list?.includes('application_span') === true && list.includes('application_span_otel')) {
    ctx.report(path, 'application_span and application_span_otel are mutually exclusive; choose one span metrics format', list);
  }
}

export interface CrossResult {
  readonly metricFeatures: readonly MetricFeature[];
  readonly internalMetricsExporter: InternalMetricsExporter;
}

export function crossRules(c: ObiConfig, appRequested: boolean, ctx: Context): CrossResult {
  const otlpMetrics = resolveOtlp(c, 'metrics') !== undefined;
  const otlpTraces = resolveOtlp(c, 'traces') !== undefined;
  const prom = c.prometheus_export.port !== 0;

  let chosen = c.metrics.features;
  if (otlpMetrics && c.otel_metrics_export.features !== undefined) chosen = c.otel_metrics_export.features;
  else if (prom && c.prometheus_export.features !== undefined) chosen = c.prometheus_export.features;
  const features = expandFeatures(chosen);
  if (c.network.enable && !features.includes('network')) features.push('network');

  checkSpanFormats(['metrics', 'features'], c.metrics.features, ctx);
  checkSpanFormats(['otel_metrics_export', 'features'], c.otel_metrics_export.features, ctx);
  checkSpanFormats(['prometheus_export', 'features'], c.prometheus_export.features, ctx);
  c.discovery.instrument.forEach((e, i) => checkSpanFormats(['discovery', 'instrument', i, 'metrics', 'features'], e.metrics?.features, ctx));

  const net = features.some((f) => f === 'network' || f === 'network_inter_zone' || f === 'network_flow_packets');
  const stats = features.some((f) => f.startsWith('stats'));
  if (!appRequested && !net && !stats) {
    ctx.report(undefined, 'nothing to instrument: select processes with open_port (env OTEL_EBPF_OPEN_PORT), discovery.instrument, ' +
      'target_pids (env OTEL_EBPF_TARGET_PID), env OTEL_EBPF_AUTO_TARGET_EXE or OTEL_EBPF_AUTO_TARGET_LANGUAGE, or executable_path ' +
      '(env OTEL_EBPF_EXECUTABLE_PATH); or enable network or stats metrics in metrics.features (env OTEL_EBPF_METRICS_FEATURES)');
  }
  if (appRequested && c.trace_printer === 'disabled' && !otlpMetrics && !otlpTraces && !prom) {
    ctx.report(undefined, 'no exporter for application telemetry: set trace_printer (env OTEL_EBPF_TRACE_PRINTER), ' +
      'otel_traces_export.endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), ' +
      'otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) ' +
      'or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT)');
  }
  if (net && !otlpMetrics && !prom && !c.network.print_flows) {
    ctx.report(undefined, 'network metrics need a metrics exporter: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ' +
      'or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT), or network.print_flows (env OTEL_EBPF_NETWORK_PRINT_FLOWS)');
  }
  if (stats && !otlpMetrics && !prom && !c.stats.print_stats) {
    ctx.report(undefined, 'stats metrics need a metrics exporter: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ' +
      'or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT), or stats.print_stats (env OTEL_EBPF_STATS_PRINT_STATS)');
  }

  const im = c.internal_metrics;
  let internalMetricsExporter: CrossResult['internalMetricsExporter'] = im.exporter;
  if (im.exporter === 'otel') {
    if (im.prometheus.port !== 0) {
      ctx.report(['internal_metrics', 'exporter'], 'otel cannot be combined with internal_metrics.prometheus.port; enable one internal metrics exporter', im.exporter);
    }
    if (!otlpMetrics) {
      ctx.report(['internal_metrics', 'exporter'], 'otel needs OTLP metrics export: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)', im.exporter);
    }
  } else if (im.exporter === 'disabled' && im.prometheus.port !== 0) {
    internalMetricsExporter = 'prometheus';
  } else if (im.exporter === 'prometheus' && im.prometheus.port === 0) {
    ctx.report(['internal_metrics', 'prometheus', 'port'], 'must be set when internal_metrics.exporter is prometheus', 0);
  }
  return { metricFeatures: Object.freeze(features), internalMetricsExporter };
}

// ------------------------------------------------------------------ entry point
