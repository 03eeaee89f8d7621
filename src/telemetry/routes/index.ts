/**
 * HTTP route decoration (`routes` config section): the `http.route` of an HTTP span.
 *
 * Resolution per call: `routes.patterns` first (first match wins, the template text is the route);
 * otherwise the `unmatched` policy:
 *   unset           → '' (no route)
 *   path            → the request path without query and fragment
 *   wildcard        → '/**'
 *   heuristic       → heuristic.ts (OBI's default)
 *   low-cardinality → heuristic, then the per-service segment cap of lowcard.ts
 * Only `low-cardinality` depends on `serviceKey` (one trie per service); every other mode gives
 * the same answer for every service and shares one cache.
 *
 * Caching: results are kept per (service, raw target) in a bounded two-generation cache
 * (cache.ts; `cacheSize` entries per cache, default 10 000): one cache for all services, plus one
 * per service in low-cardinality mode. Call `dropService` when a service goes away to free its
 * trie and cache. Constant answers (`unset`/`wildcard` without patterns) and `path` without
 * patterns are computed directly.
 *
 * Invalid configuration throws AgentError(OBI_ERR_CONFIG_INVALID) naming the `routes.*` key.
 */
import { AgentError } from '../../errors.ts';
import { RouteCache } from './cache.ts';
import { heuristicRoute, DEFAULT_ROUTE_MODEL } from './heuristic.ts';
import { DEFAULT_MAX_PATH_SEGMENT_CARDINALITY, DEFAULT_MAX_TRIE_NODES, SegmentCardinalityLimiter } from './lowcard.ts';
import { pathOnly } from './path.ts';
import { compilePatterns } from './patterns.ts';

export type UnmatchedMode = 'unset' | 'path' | 'wildcard' | 'heuristic' | 'low-cardinality';

export const UNMATCHED_MODES: readonly UnmatchedMode[] = ['unset', 'path', 'wildcard', 'heuristic', 'low-cardinality'];
export const DEFAULT_WILDCARD_CHAR = '*';
export const DEFAULT_ROUTE_CACHE_SIZE = 10_000;
/** route of `unmatched: wildcard` */
export const WILDCARD_ROUTE = '/**';

export interface RouteResolverConfig {
  /** `routes.patterns` */
  patterns: readonly string[];
  /** `routes.unmatched` */
  unmatched: UnmatchedMode;
  /** `routes.wildcard_char`, one character other than `/` (default `*`) */
  wildcardChar?: string;
  /** `routes.max_path_segment_cardinality` (default 10), low-cardinality only */
  maxPathSegmentCardinality?: number;
  /** `routes.ignored_patterns`, same template syntax as `patterns` */
  ignoredPatterns?: readonly string[];
  /** entries per result cache (default 10 000) */
  cacheSize?: number;
  /** literal trie nodes per service in low-cardinality mode (default 10 000) */
  maxTrieNodes?: number;
}

export interface RouteResolver {
  /** `http.route` for a request target (path, possibly with query/fragment) of a service */
  resolve(path: string, serviceKey: string): string;
  /** true when the path matches one of `ignoredPatterns` */
  isIgnored(path: string): boolean;
  /** forget a service's low-cardinality trie and cache (no-op in other modes) */
  dropService(serviceKey: string): void;
}

function invalid(message: string): AgentError {
  return new AgentError('OBI_ERR_CONFIG_INVALID', message);
}

function positiveInt(value: unknown, key: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(`${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

interface ServiceState {
  readonly limiter: SegmentCardinalityLimiter;
  readonly cache: RouteCache;
}

export function createRouteResolver(cfg: RouteResolverConfig): RouteResolver {
  const mode = cfg.unmatched;
  if (!UNMATCHED_MODES.includes(mode)) throw invalid(`routes.unmatched must be one of ${UNMATCHED_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const wildcard = cfg.wildcardChar ?? DEFAULT_WILDCARD_CHAR;
  if (typeof wildcard !== 'string' || wildcard.length !== 1 || wildcard === '/') {
    throw invalid(`routes.wildcard_char must be a single character other than "/", got ${JSON.stringify(wildcard)}`);
  }
  const maxCard = positiveInt(cfg.maxPathSegmentCardinality, 'routes.max_path_segment_cardinality', DEFAULT_MAX_PATH_SEGMENT_CARDINALITY, 1);
  const cacheSize = positiveInt(cfg.cacheSize, 'routes cache size', DEFAULT_ROUTE_CACHE_SIZE, 2);
  const maxNodes = positiveInt(cfg.maxTrieNodes, 'routes trie size', DEFAULT_MAX_TRIE_NODES, 1);
  const patterns = compilePatterns(cfg.patterns ?? [], 'routes.patterns');
  const ignored = compilePatterns(cfg.ignoredPatterns ?? [], 'routes.ignored_patterns');
  const model = DEFAULT_ROUTE_MODEL;

  function isIgnored(path: string): boolean {
    return ignored.size !== 0 && ignored.match(path) !== undefined;
  }

  const noop = (_serviceKey: string): void => {};

  if (mode === 'low-cardinality') {
    const services = new Map<string, ServiceState>();
    const resolve = (path: string, serviceKey: string): string => {
      let state = services.get(serviceKey);
      if (state === undefined) {
        state = { limiter: new SegmentCardinalityLimiter(maxCard, wildcard, maxNodes), cache: new RouteCache(cacheSize) };
        services.set(serviceKey, state);
      }
      let route = state.cache.get(path);
      if (route === undefined) {
        route = patterns.match(path) ?? state.limiter.limit(heuristicRoute(path, wildcard, model));
        state.cache.set(path, route);
      }
      return route;
    };
    return { resolve, isIgnored, dropService: (serviceKey) => void services.delete(serviceKey) };
  }

  let unmatched: (path: string) => string;
  switch (mode) {
    case 'unset':
      unmatched = () => '';
      break;
    case 'wildcard':
      unmatched = () => WILDCARD_ROUTE;
      break;
    case 'path':
      unmatched = pathOnly;
      break;
    default:
      unmatched = (path) => heuristicRoute(path, wildcard, model);
  }
  if (patterns.size === 0 && mode !== 'heuristic') {
    return { resolve: (path) => unmatched(path), isIgnored, dropService: noop };
  }
  const cache = new RouteCache(cacheSize);
  const resolve = (path: string, _serviceKey: string): string => {
    let route = cache.get(path);
    if (route === undefined) {
      route = patterns.match(path) ?? unmatched(path);
      cache.set(path, route);
    }
    return route;
  };
  return { resolve, isIgnored, dropService: noop };
}

export { compilePatterns } from './patterns.ts';
export type { PatternMatcher } from './patterns.ts';
export { heuristicRoute, segmentNeedsWildcard, MAX_HEURISTIC_SEGMENTS, KNOWN_TOKENS, DEFAULT_ROUTE_MODEL } from './heuristic.ts';
export { SegmentCardinalityLimiter, DEFAULT_MAX_PATH_SEGMENT_CARDINALITY, DEFAULT_MAX_TRIE_NODES } from './lowcard.ts';
export { RouteCache } from './cache.ts';
export { pathOnly, pathStart, pathEnd } from './path.ts';
