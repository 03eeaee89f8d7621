/**
 * `routes.patterns` (and `routes.ignored_patterns`): route templates compiled into a matcher.
 *
 * Template syntax: a path of `/`-separated segments; a segment that is exactly `:name` or `{name}`
 * (name non-empty) is a parameter, every other segment is a literal compared case-sensitively.
 * Parameters are whole segments only (`/files/{name}.json` has the literal segment `{name}.json`).
 *
 * Matching rules (decided here, documented in docs and tests):
 * - The request target is reduced to its path first: query (`?`) and fragment (`#`) are dropped,
 *   an absolute-form target (`http://host/a`) is reduced to `/a` (see path.ts).
 * - Segment counts must be equal; a parameter matches exactly one **non-empty** segment
 *   (`/users/` does not match `/users/:id`; `//` is an empty literal segment).
 * - One trailing slash is insignificant on both sides: `/users/:id` matches `/users/42/` and the
 *   template `/users/` matches `/users`. The root `/` matches only `/` (and the empty path).
 * - Templates are tried in configuration order; the first match wins and the route is the
 *   template text exactly as configured (`/basic/:rnd`).
 *
 * Hot path: matching allocates nothing; templates are grouped by segment count so a path is only
 * compared with templates of its own length.
 */
import { AgentError } from '../../errors.ts';
import { pathEnd, pathStart } from './path.ts';

const SLASH = 0x2f;

interface CompiledPattern {
  readonly route: string;
  /** per segment: the literal text, or null for a parameter */
  readonly segments: readonly (string | null)[];
}

export interface PatternMatcher {
  /** number of compiled templates */
  readonly size: number;
  /** the first matching template's text, or undefined */
  match(target: string): string | undefined;
}

/** Parses one template; throws AgentError(OBI_ERR_CONFIG_INVALID) naming `key` when malformed. */
function compileOne(pattern: unknown, key: string, index: number): CompiledPattern {
  const where = `${key}[${index}]`;
  if (typeof pattern !== 'string') throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where} must be a string`);
  if (pattern.length === 0 || pattern.charCodeAt(0) !== SLASH) {
    throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where} must start with "/": ${JSON.stringify(pattern)}`);
  }
  if (pattern.includes('?') || pattern.includes('#')) {
    throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where} must be a path without query or fragment: ${JSON.stringify(pattern)}`);
  }
  let body = pattern.slice(1);
  if (body.length > 0 && body.charCodeAt(body.length - 1) === SLASH) body = body.slice(0, -1);
  const segments: (string | null)[] = [];
  if (body.length > 0) {
    for (const seg of body.split('/')) {
      if (seg.startsWith(':')) {
        if (seg.length === 1) throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where} has a parameter without a name: ${JSON.stringify(pattern)}`);
        segments.push(null);
      } else if (seg.startsWith('{') && seg.endsWith('}')) {
        if (seg.length === 2) throw new AgentError('OBI_ERR_CONFIG_INVALID', `${where} has a parameter without a name: ${JSON.stringify(pattern)}`);
        segments.push(null);
      } else {
        segments.push(seg);
      }
    }
  }
  return { route: pattern, segments };
}

/** Compiles templates (config key `key` is used in error messages, e.g. `routes.patterns`). */
export function compilePatterns(patterns: readonly string[], key = 'routes.patterns'): PatternMatcher {
  if (!Array.isArray(patterns)) throw new AgentError('OBI_ERR_CONFIG_INVALID', `${key} must be a list of strings`);
  const byCount = new Map<number, CompiledPattern[]>();
  let maxSegments = 0;
  for (let i = 0; i < patterns.length; i++) {
    const p = compileOne(patterns[i], key, i);
    const n = p.segments.length;
    let group = byCount.get(n);
    if (group === undefined) byCount.set(n, (group = []));
    group.push(p);
    if (n > maxSegments) maxSegments = n;
  }
  // segment bounds of the path being matched; reused across calls (single-threaded)
  const starts = new Int32Array(maxSegments);
  const ends = new Int32Array(maxSegments);
  const size = patterns.length;

  function match(target: string): string | undefined {
    if (size === 0) return undefined;
    let start = pathStart(target);
    let end = pathEnd(target, start, false);
    if (start < end) {
      if (target.charCodeAt(start) !== SLASH) return undefined;
      start++;
    }
    if (end > start && target.charCodeAt(end - 1) === SLASH) end--;
    // segment bounds in one pass, bailing out as soon as no template can be that long
    let count = 0;
    if (end > start) {
      let s = start;
      for (;;) {
        if (count === maxSegments) return undefined;
        let e = target.indexOf('/', s);
        if (e < 0 || e > end) e = end;
        starts[count] = s;
        ends[count] = e;
        count++;
        if (e >= end) break;
        s = e + 1;
      }
    }
    const group = byCount.get(count);
    if (group === undefined) return undefined;
    outer: for (let g = 0; g < group.length; g++) {
      const segs = group[g].segments;
      for (let k = 0; k < count; k++) {
        const lit = segs[k];
        const len = ends[k] - starts[k];
        if (lit === null) {
          if (len === 0) continue outer;
        } else {
          if (len !== lit.length) continue outer;
          // short literals: a char loop beats a startsWith call
          const base = starts[k];
          for (let j = 0; j < len; j++) if (target.charCodeAt(base + j) !== lit.charCodeAt(j)) continue outer;
        }
      }
      return group[g].route;
    }
    return undefined;
  }

  return { size, match };
}
