/**
 * Redaction of sensitive query parameters in `url.query` / `url.full`, as OBI does:
 * the query is split on `&`; a `key=value` pair whose key matches a sensitive name
 * (case-insensitive, compared as sent, not percent-decoded) keeps its key and has its
 * value replaced by `REDACTED`; pairs without `=` and all other pairs are kept as sent,
 * in order. The configurable list is `attributes.sensitive_query_params.{add,remove}`.
 */

export const REDACTED = 'REDACTED';

/** OBI's built-in list (`DefaultSensitiveQueryParams`). */
export const DEFAULT_SENSITIVE_QUERY_PARAMS: readonly string[] = [
  // OTel semantic-convention recommendations for url.query / url.full
  'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token',
  'AWSAccessKeyId', 'Signature', 'SecurityToken',
  'X-Goog-Signature', 'sig',
  // common sensitive parameters
  'token', 'access_token', 'refresh_token', 'id_token', 'jwt',
  'session', 'sid', 'signature',
  'api_key', 'apikey', 'client_secret', 'secret',
  'password', 'pass', 'pwd',
  'reset_token', 'invite_token', 'verify_token',
  'otp', 'totp', 'mfa_code', 'verification_code',
  'SAMLResponse', 'assertion',
  'card', 'cc', 'pan', 'cvv',
  'ssn', 'tax_id',
];

/** Rewrites a raw query string (no leading `?`). */
export type QueryRedactor = (query: string) => string;

/** Effective list = defaults + add - remove (case-insensitive), as OBI's config does. */
export function sensitiveQueryParams(add: readonly string[] = [], remove: readonly string[] = []): string[] {
  const removed = new Set(remove.map((k) => k.toLowerCase()));
  const out: string[] = [];
  for (const k of DEFAULT_SENSITIVE_QUERY_PARAMS) if (!removed.has(k.toLowerCase())) out.push(k);
  for (const k of add) out.push(k);
  return out;
}

/**
 * Build a redactor for a list of keys. The common case (no sensitive key present)
 * returns the input string itself without building a new one.
 */
export function createQueryRedactor(keys: readonly string[] = DEFAULT_SENSITIVE_QUERY_PARAMS): QueryRedactor {
  const set = new Set<string>();
  let maxLen = 0;
  for (const k of keys) {
    set.add(k.toLowerCase());
    if (k.length > maxLen) maxLen = k.length;
  }
  if (set.size === 0) return (q) => q;

  const isSensitive = (q: string, from: number, to: number): boolean =>
    to - from <= maxLen && set.has(q.slice(from, to).toLowerCase());

  return (q: string): string => {
    let out: string | undefined; // built lazily from the first redacted pair on
    let copied = 0; // q[0, copied) is already in `out`
    let start = 0;
    const n = q.length;
    while (start <= n) {
      let end = q.indexOf('&', start);
      if (end < 0) end = n;
      const eq = q.indexOf('=', start);
      if (eq >= 0 && eq < end && isSensitive(q, start, eq)) {
        out = (out ?? '') + q.slice(copied, eq + 1) + REDACTED;
        copied = end;
      }
      start = end + 1;
    }
    return out === undefined ? q : out + q.slice(copied);
  };
}
