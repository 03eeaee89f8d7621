/**
 * Retry policy across export requests: which failures are worth retrying (OTLP spec,
 * "Failures"), and the exponential back-off between attempts (OBI's `backoff_*` keys, with the
 * collector's defaults for what OBI does not expose: multiplier 1.5, randomisation ±50 %).
 */

/** gRPC status codes the OTLP spec lists as retryable. */
const RETRYABLE_GRPC = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 11 /* OUT_OF_RANGE */, 14 /* UNAVAILABLE */, 15 /* DATA_LOSS */]);
/** HTTP statuses the OTLP spec lists as retryable. */
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

/**
 * False when retrying cannot help: the collector answered and rejected the request (HTTP 4xx/5xx
 * other than 429/502/503/504, a non-retryable gRPC status). Network errors, timeouts and
 * anything unrecognised are retryable.
 */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return true;
  const e = err as { code?: unknown; metadata?: unknown };
  if (typeof e.code !== 'number') return true;
  if (e.metadata !== undefined) return RETRYABLE_GRPC.has(e.code);
  if (e.code >= 400 && e.code <= 599) return RETRYABLE_HTTP.has(e.code);
  return true;
}

export interface BackoffPolicy {
  /** wait after the first failure */
  readonly initialMs: number;
  /** upper bound of one wait */
  readonly maxMs: number;
  /** give up a batch this long after its first failure; 0 = never */
  readonly maxElapsedMs: number;
  /** growth per attempt; default 1.5 */
  readonly multiplier?: number;
  /** each wait is scaled by a random factor in [1 − r, 1 + r]; default 0.5 */
  readonly randomization?: number;
}

/** Wait before retry number `attempt` (0 for the first retry); `random` in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const mult = policy.multiplier ?? 1.5;
  const r = policy.randomization ?? 0.5;
  const base = Math.min(policy.initialMs * mult ** Math.max(0, attempt), policy.maxMs);
  const jittered = base * (1 - r + 2 * r * random());
  return Math.max(0, Math.min(jittered, policy.maxMs));
}
