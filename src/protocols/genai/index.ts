/**
 * The GenAI HTTP payload extractor (src/protocols/common/http-extract.ts), client side:
 * OpenAI-compatible chat completions, completions and embeddings and Anthropic messages become
 * `<operation> <model>` spans of category `genai` with OBI's `gen_ai.*` attributes (extract.ts),
 * whose metrics are `gen_ai.client.*` (src/telemetry/genai.ts) instead of the HTTP ones. On, as in
 * OBI, when `genai` is listed in `instrumentations` and a provider is enabled under
 * `ebpf.payload_extraction.http.genai` (the agent builds it with `genaiExtractor(providers)`).
 * Token usage sits at the end of a response: long bodies need the larger capture
 * (`ebpf.buffer_sizes.http`) and the body kept (`GENAI_BODY_KEEP`).
 */
import { headerValue, switchedOn, type HttpEnrichment, type HttpExtractor, type HttpPayload } from '../common/http-extract.ts';
import type { HttpRecord } from '../common/records.ts';
import { readGenaiCall } from './extract.ts';
import type { GenaiProvider } from './types.ts';

export type { GenaiProvider } from './types.ts';

/** body bytes the HTTP parsers keep per message while the GenAI extractor is on: a streamed answer of ~1000 chunks */
export const GENAI_BODY_KEEP = 256 * 1024;

/** the enrichment of one exchange, for the providers enabled */
export function extractGenai(rec: HttpRecord, payload: HttpPayload, providers: readonly GenaiProvider[]): HttpEnrichment | undefined {
  const call = readGenaiCall({
    method: rec.method,
    path: rec.target,
    requestBody: payload.requestBody,
    requestComplete: payload.requestBodyComplete,
    responseBody: payload.responseBody,
    responseComplete: payload.responseBodyComplete,
    responseContentType: headerValue(payload.responseHeaders, 'content-type'),
  });
  if (call === undefined || !providers.includes(call.provider)) return undefined;
  return {
    name: call.name,
    category: 'genai',
    attributes: call.attributes,
    ...(call.errorType !== undefined ? { errorType: call.errorType } : {}),
    ...(call.errorMessage !== undefined ? { errorMessage: call.errorMessage } : {}),
  };
}

/** the extractor reading the calls of `providers` */
export function genaiExtractor(providers: readonly GenaiProvider[]): HttpExtractor {
  const list = Object.freeze([...providers]);
  return Object.freeze<HttpExtractor>({
    name: 'genai',
    enabled: (config) => list.some((p) => switchedOn(config, `genai.${p}`)) || (list.includes('openai') && (switchedOn(config, 'genai.openai_compatible') || switchedOn(config, 'openai'))),
    roles: Object.freeze(['client'] as const),
    extract: (rec, payload) => extractGenai(rec, payload, list),
  });
}

/** the registry's entry: every provider; the agent narrows it to those enabled */
export const genai: HttpExtractor = genaiExtractor(['openai', 'anthropic']);
