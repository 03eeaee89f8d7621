/**
 * One GenAI call read from an HTTP exchange: the span name and `gen_ai.*` attributes OBI gives
 * it (docs/reference/spans.md, GenAI). Pure; never throws; never invents a value the captured
 * bytes do not hold.
 */
import { parseGenaiRequest } from './request.ts';
import { readGenaiResponse } from './response.ts';
import type { GenaiOperation, GenaiProvider } from './types.ts';

export interface GenaiExchange {
  readonly method: string;
  /** the request target (path and query) */
  readonly path: string;
  readonly requestBody?: Buffer;
  readonly requestComplete: boolean;
  readonly responseBody?: Buffer;
  readonly responseComplete: boolean;
  /** the response's Content-Type when captured */
  readonly responseContentType?: string;
}

export interface GenaiCall {
  readonly provider: GenaiProvider;
  readonly operation: GenaiOperation;
  /** `<operation> <model>` (OBI), or the operation alone when no model is known */
  readonly name: string;
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly errorType?: string;
  readonly errorMessage?: string;
}

export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** the finish reasons in choice order, comma-separated (span attributes here are scalars) */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

/** The call an exchange is, or undefined when it is not a GenAI API call we read. */
export function readGenaiCall(x: GenaiExchange): GenaiCall | undefined {
  const req = parseGenaiRequest(x.method, x.path, x.requestBody, x.requestComplete);
  if (req === undefined) return undefined;
  const res = x.responseBody !== undefined && x.responseBody.length > 0 ? readGenaiResponse(req.provider, x.responseBody, x.responseComplete, x.responseContentType) : undefined;
  const attributes: Record<string, string | number> = {
    [ATTR_GEN_AI_PROVIDER_NAME]: req.provider,
    [ATTR_GEN_AI_OPERATION_NAME]: req.operation,
  };
  if (req.model !== undefined) attributes[ATTR_GEN_AI_REQUEST_MODEL] = req.model;
  for (const [k, v] of Object.entries(req.params)) attributes[`gen_ai.request.${k}`] = v;
  if (res?.model !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = res.model;
  if (res?.id !== undefined) attributes[ATTR_GEN_AI_RESPONSE_ID] = res.id;
  if (res?.inputTokens !== undefined) attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = res.inputTokens;
  if (res?.outputTokens !== undefined) attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = res.outputTokens;
  if (res !== undefined && res.finishReasons.length > 0) attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = res.finishReasons.join(',');
  const model = req.model ?? res?.model;
  return {
    provider: req.provider,
    operation: req.operation,
    name: model !== undefined ? `${req.operation} ${model}` : req.operation,
    attributes,
    ...(res?.inputTokens !== undefined ? { inputTokens: res.inputTokens } : {}),
    ...(res?.outputTokens !== undefined ? { outputTokens: res.outputTokens } : {}),
    ...(res?.errorType !== undefined ? { errorType: res.errorType } : {}),
    ...(res?.errorMessage !== undefined ? { errorMessage: res.errorMessage } : {}),
  };
}
