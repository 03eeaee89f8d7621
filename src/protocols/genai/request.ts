/**
 * The request side of a GenAI call: which API (from the method and path), and the model and
 * parameters from the JSON body when it was captured whole. Pure; never throws.
 */
import type { GenaiOperation, GenaiProvider, GenaiRequest } from './types.ts';

/** `gen_ai.request.*` attributes taken from numeric body fields (OTel GenAI semantic conventions) */
const NUMERIC_PARAMS: readonly (readonly [string, string])[] = [
  ['temperature', 'temperature'],
  ['top_p', 'top_p'],
  ['top_k', 'top_k'],
  ['max_tokens', 'max_tokens'],
  ['max_completion_tokens', 'max_tokens'],
  ['frequency_penalty', 'frequency_penalty'],
  ['presence_penalty', 'presence_penalty'],
  ['seed', 'seed'],
  ['n', 'choice.count'],
];

/** The API a request path names, or undefined when it is not one we read. */
export function genaiRoute(method: string, path: string): { provider: GenaiProvider; operation: GenaiOperation } | undefined {
  if (method !== 'POST') return undefined;
  const q = path.indexOf('?');
  let p = q < 0 ? path : path.slice(0, q);
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p.endsWith('/v1/messages')) return { provider: 'anthropic', operation: 'chat' };
  if (p.endsWith('/chat/completions')) return { provider: 'openai', operation: 'chat' };
  if (p.endsWith('/completions')) return { provider: 'openai', operation: 'text_completion' };
  if (p.endsWith('/embeddings')) return { provider: 'openai', operation: 'embeddings' };
  return undefined;
}

/** JSON.parse that returns undefined instead of throwing, and only objects */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request of one call. `body` is the request body as captured; `complete` says whether it is
 * all of it (a cut body gives no model: values are never guessed from a fragment).
 */
export function parseGenaiRequest(method: string, path: string, body: Buffer | undefined, complete: boolean): GenaiRequest | undefined {
  const route = genaiRoute(method, path);
  if (route === undefined) return undefined;
  const params: Record<string, number> = {};
  let model: string | undefined;
  let stream: boolean | undefined;
  const o = body !== undefined && complete && body.length > 0 ? parseObject(body.toString('utf8')) : undefined;
  if (o !== undefined) {
    if (typeof o.model === 'string' && o.model.length > 0) model = o.model;
    if (typeof o.stream === 'boolean') stream = o.stream;
    for (const [field, attr] of NUMERIC_PARAMS) {
      const v = o[field];
      if (typeof v === 'number' && Number.isFinite(v) && params[attr] === undefined) params[attr] = v;
    }
  }
  return { ...route, ...(model !== undefined ? { model } : {}), ...(stream !== undefined ? { stream } : {}), params };
}
