/**
 * GenAI API calls read from HTTP exchanges (client side): OpenAI-compatible chat completions,
 * completions and embeddings, and Anthropic messages. Names follow OBI and the OTel GenAI
 * semantic conventions (docs/reference/spans.md, GenAI).
 */

/** `gen_ai.provider.name` */
export type GenaiProvider = 'openai' | 'anthropic';

/** `gen_ai.operation.name` */
export type GenaiOperation = 'chat' | 'text_completion' | 'embeddings';

/** What the request says: the call's kind and its parameters. */
export interface GenaiRequest {
  readonly provider: GenaiProvider;
  readonly operation: GenaiOperation;
  /** `gen_ai.request.model`; undefined when the body was not captured or has none */
  readonly model?: string;
  /** the client asked for a stream (SSE) */
  readonly stream?: boolean;
  /** `gen_ai.request.*` parameters present in the body (temperature, top_p, max_tokens, ...) */
  readonly params: Readonly<Record<string, number>>;
}

/** What the response says; every field only when the captured bytes hold it. */
export interface GenaiResponse {
  id?: string;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** in choice order (OpenAI) or the one stop reason (Anthropic) */
  finishReasons: string[];
  /** the API's error type (`invalid_request_error`, `not_found_error`, ...) */
  errorType?: string;
  errorMessage?: string;
  /** SSE events read (0 for a JSON body) */
  events: number;
}
