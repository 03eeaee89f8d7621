/**
 * Go `time.Duration` text syntax, as OBI accepts in YAML and env vars:
 * a sequence of decimal numbers, each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`),
 * e.g. `500ms`, `1.5s`, `1m30s`, `2h`; a lone `0` is also valid. Negative durations are rejected
 * (no configuration value accepts them).
 */
import { AgentError } from '../errors.ts';

const NS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's limit: durations are int64 nanoseconds (about 292 years). */
const MAX_NS = 9223372036854775807;

const TERM = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Duration in milliseconds (fractional below 1 ms), or undefined when `text` is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  let ns = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const m = TERM.exec(text);
    if (m === null) return undefined;
    ns += Number(m[1]) * NS_PER_UNIT[m[2]!]!;
  }
  if (ns > MAX_NS) return undefined;
  return ns / 1e6;
}

/**
 * Parses a Go duration (`500ms`, `5s`, `1m30s`, `1h`) into milliseconds.
 * @throws AgentError OBI_ERR_CONFIG_INVALID when `text` is not a duration
 */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw new AgentError('OBI_ERR_CONFIG_INVALID', `${JSON.stringify(text)} is not a duration (examples: 500ms, 5s, 1m30s, 1h)`);
  }
  return ms;
}

const cache = new Map<string, number>();

/**
 * Milliseconds of a duration field of a validated config, e.g.
 * `durationMs(config.discovery.poll_interval)`. Memoised: cheap to call repeatedly.
 * @throws AgentError OBI_ERR_CONFIG_INVALID when `text` is not a duration
 */
export function durationMs(text: string): number {
  let ms = cache.get(text);
  if (ms === undefined) {
    ms = parseDuration(text);
    if (cache.size < 1024) cache.set(text, ms);
  }
  return ms;
}
