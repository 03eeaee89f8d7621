/**
 * Route resolution cost (src/telemetry/routes). Plain performance.now loops:
 *   node bench/telemetry/routes.bench.ts
 * "cached": the same few paths over and over (the common case: most paths repeat).
 * "uncached": every call a distinct path, more paths than the cache holds (worst case).
 * Every input is a distinct flat one-byte string decoded from a Buffer, as ingest produces them,
 * so each lookup pays for hashing a string it has never seen (no interned-constant shortcut).
 */
import { createRouteResolver, heuristicRoute, compilePatterns } from '../../src/telemetry/routes/index.ts';

function bench(name: string, iterations: number, fn: (i: number) => string | boolean | undefined): void {
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 50_000); i++) sink += String(fn(i)).length; // warm-up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += String(fn(i)).length;
  const ns = ((performance.now() - t0) * 1e6) / iterations;
  process.stdout.write(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/op${sink === -1 ? '!' : ''}\n`);
}

const fresh = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');
const hotPaths = ['/api/v2/users/profile', '/users/fdklsd/j4elk/23993/job/2', '/v1/products/22?ref=home', '/static/css/main.css', '/health'];
const N = 200_000;
const hot: string[] = [];
for (let i = 0; i < N; i++) hot.push(fresh(hotPaths[i % hotPaths.length]));
// distinct paths built ahead of time (cache size is 10 000, so every lookup misses)
const cold: string[] = [];
for (let i = 0; i < N; i++) cold.push(fresh(`/api/v1/orders/${(i * 7919) % 1_000_003}/items/${i.toString(36)}x?page=${i & 7}`));
const coldWords: string[] = [];
const syll = ['shop', 'cart', 'user', 'item', 'list', 'view', 'edit', 'home', 'blog', 'post'];
for (let i = 0; i < N; i++) coldWords.push(fresh(`/${syll[i % 10]}/${syll[(i / 10) % 10 | 0]}-${syll[(i / 100) % 10 | 0]}/${syll[(i / 1000) % 10 | 0]}${syll[(i / 10000) % 10 | 0]}/v${i % 10}/${syll[(i / 7) % 10 | 0]}.json?i=${i}`));

const heuristic = createRouteResolver({ patterns: [], unmatched: 'heuristic' });
const lowcard = createRouteResolver({ patterns: [], unmatched: 'low-cardinality' });
const patterns = createRouteResolver({ patterns: ['/basic/:rnd', '/users/{id}/orders', '/api/v1/orders/:id/items/:item'], unmatched: 'heuristic' });
const matcher = compilePatterns(['/basic/:rnd', '/users/{id}/orders', '/api/v1/orders/:id/items/:item']);

bench('heuristic resolve, cached', N, (i) => heuristic.resolve(hot[i], 'svc'));
bench('heuristic resolve, uncached (numeric ids)', N, (i) => heuristic.resolve(cold[i], 'svc'));
bench('heuristic resolve, uncached (all-letter segments, scored)', N, (i) => heuristic.resolve(coldWords[i], 'svc'));
bench('low-cardinality resolve, cached', N, (i) => lowcard.resolve(hot[i], 'svc'));
bench('low-cardinality resolve, uncached', N, (i) => lowcard.resolve(coldWords[i], 'svc'));
bench('patterns+heuristic resolve, uncached (pattern hit)', N, (i) => patterns.resolve(cold[i], 'svc'));
bench('heuristicRoute() alone, all-letter path', N, (i) => heuristicRoute(coldWords[i]));
bench('compilePatterns().match() alone, hit', N, (i) => matcher.match(cold[i]));
