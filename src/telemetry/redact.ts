/**
 * Redaction of sensitive query parameters in `url.query` / `url.full`, as OBI does:
 * the query is split on `&`; a `key=value` pair whose key matches a sensitive name
 * (case-insensitive, compared as sent, not percent-decoded) keeps its key and has its
 * value replaced by `REDACTED`; pairs without `=` and all other pairs are kept as sent,
 * in order. The configurable list is `attributes.sensitive_query_params.{add,remove}`.
 *
 * Beyond OBI's exact names, a key whose *words* include a secret-looking word is redacted too
 * (`attributes.sensitive_query_params.words`, default DEFAULT_SENSITIVE_WORDS): the key is split
 * on every non-alphanumeric character and at lower-to-upper case changes, so `apiKey`,
 * `X-Api-Key`, `auth_token`, `db.password` and `aws_secret_access_key` are redacted while
 * `monkey`, `author` or `keyboard` are not.
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

/** words that make a query key look secret (issue 14: password, token, key, secret, auth, signature) */
export const DEFAULT_SENSITIVE_WORDS: readonly string[] = [
  'password', 'passwd', 'pwd', 'pass', 'passphrase',
  'token', 'key', 'apikey', 'secret', 'auth', 'authorization', 'credential', 'credentials',
  'signature', 'sig', 'session', 'cookie', 'jwt', 'otp',
];

/** the lower-case words of a query key: split on non-alphanumerics and at aB case changes */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

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
 * Build a redactor for a list of keys, plus the secret-looking `words` rule (none by default
 * here; the agent passes `attributes.sensitive_query_params.words`), from which the `exempt`
 * keys (`remove`) are spared. The common case (no sensitive key present)
 * returns the input string itself without building a new one.
 */
export function createQueryRedactor(keys: readonly string[] = DEFAULT_SENSITIVE_QUERY_PARAMS, words: readonly string[] = [], exempt: readonly string[] = []): QueryRedactor {
  const set = new Set<string>();
  let maxLen = 0;
  for (const k of keys) {
    set.add(k.toLowerCase());
    if (k.length > maxLen) maxLen = k.length;
  }
  const wordSet = new Set(words.map((w) => w.toLowerCase()));
  const exemptSet = new Set(exempt.map((w) => w.toLowerCase()));
  if (set.size === 0 && wordSet.size === 0) return (q) => q;

  const isSensitive = (q: string, from: number, to: number): boolean => {
    if (to - from <= maxLen && set.has(q.slice(from, to).toLowerCase())) return true;
    if (wordSet.size === 0) return false;
    const key = q.slice(from, to);
    if (exemptSet.has(key.toLowerCase())) return false;
    for (const w of keyWords(key)) if (wordSet.has(w)) return true;
    return false;
  };

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

/** The redactor of `attributes.sensitive_query_params` (add, remove, words). */
export function redactorFromConfig(sq: { readonly add: readonly string[]; readonly remove: readonly string[]; readonly words: readonly string[] }): QueryRedactor {
  return createQueryRedactor(sensitiveQueryParams(sq.add, sq.remove), sq.words, sq.remove);
}
