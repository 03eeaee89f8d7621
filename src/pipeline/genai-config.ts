/**
 * Which GenAI decoders are on: as in OBI, `genai` must be listed in an `instrumentations` list
 * and the provider enabled under `ebpf.payload_extraction.http.genai` (the older
 * `payload_extraction.http.openai.enabled` still enables OpenAI).
 */
import type { ObiConfig } from '../config/index.ts';

export type GenaiProviderSwitch = 'openai' | 'anthropic';

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
