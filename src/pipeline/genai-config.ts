/**
 * Which GenAI decoders are on: as in OBI, `genai` must be listed in an `instrumentations` list
 * and the provider enabled under `ebpf.payload_extraction.http.genai` (the older
 * `payload_extraction.http.openai.enabled` still enables OpenAI).
 */
import type { EffectiveConfig, ObiConfig } from '../config/index.ts';
import type { HttpExtractor } from '../protocols/common/http-extract.ts';
import { createGenaiMetrics, type GenaiMetrics } from '../telemetry/genai.ts';
import type { SpanRecorder } from '../telemetry/processor.ts';
import type { MetricStore } from '../telemetry/store.ts';
import { GENAI_BODY_KEEP, genaiExtractor, type GenaiProvider } from '../protocols/registry.ts';

export type GenaiProviderSwitch = GenaiProvider;

export function genaiListed(cfg: ObiConfig): boolean {
  return [cfg.otel_traces_export.instrumentations, cfg.otel_metrics_export.instrumentations, cfg.prometheus_export.instrumentations].some((l) => l.includes('genai'));
}

/** the GenAI decoders enabled (empty when `genai` is not listed) */
export function genaiProviders(cfg: ObiConfig): GenaiProviderSwitch[] {
  if (!genaiListed(cfg)) return [];
  const h = cfg.ebpf.payload_extraction.http;
  const out: GenaiProviderSwitch[] = [];
  if (h.genai.openai.enabled || h.genai.openai_compatible.enabled || h.openai.enabled) out.push('openai');
  if (h.genai.anthropic.enabled) out.push('anthropic');
  return out;
}

/** The extractors for the span step: the registry's genai entry narrowed to the providers enabled, or dropped. */
export function agentHttpExtractors(cfg: ObiConfig, enabled: readonly HttpExtractor[]): readonly HttpExtractor[] {
  const providers = genaiProviders(cfg);
  return enabled.flatMap((e) => (e.name !== 'genai' ? [e] : providers.length > 0 ? [genaiExtractor(providers)] : []));
}

/**
 * The protocol settings for the parsers: with GenAI on, the HTTP parsers keep GENAI_BODY_KEEP
 * bytes of each body (usage sits at the end); with its switches set but `genai` not listed, the
 * switches are dropped so that no body is kept for it.
 */
export function agentProtocolSettings(cfg: ObiConfig): ObiConfig['ebpf'] & { readonly http_payload_capture?: number } {
  const h = cfg.ebpf.payload_extraction.http;
  if (genaiProviders(cfg).length > 0) return { ...cfg.ebpf, http_payload_capture: GENAI_BODY_KEEP };
  if (genaiListed(cfg)) return cfg.ebpf;
  const off = { enabled: false };
  const genai = Object.fromEntries(Object.keys(h.genai).map((k) => [k, off])) as unknown as typeof h.genai;
  return { ...cfg.ebpf, payload_extraction: { ...cfg.ebpf.payload_extraction, http: { ...h, genai, openai: off } } };
}

/**
 * gen_ai_client_operation_duration_seconds and gen_ai_client_token_usage, with GenAI on and the
 * `application` feature; handed to the OTLP exporter too (it exports them when `genai` is listed in
 * `otel_metrics_export.instrumentations`)
 */
export function genaiRecorders(cfg: EffectiveConfig, store: MetricStore, otlp?: { addGenaiMetrics(m: GenaiMetrics): void }): SpanRecorder[] {
  if (genaiProviders(cfg).length === 0 || !cfg.metricFeatures.includes('application')) return [];
  const m = createGenaiMetrics(store);
  otlp?.addGenaiMetrics(m);
  return [m.duration, m.tokens];
}
