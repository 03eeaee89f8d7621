import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentError } from '../errors.ts';
import { httpSpanPath, SpanFilter, urlPath } from './filter.ts';
import { compilePatterns } from './routes/index.ts';
import { api, mkSpan, worker } from '../../test/helpers/spans.ts';
import type { Span } from './span.ts';

const byPath = (...paths: string[]): Span[] => paths.map((p) => mkSpan({ attributes: { 'url.path': p, 'http.response.status_code': 200 } }));
const paths = (spans: readonly Span[]): string[] => spans.map((s) => String(s.attributes['url.path']));

test('no configuration: inactive, split returns its input', () => {
  const f = new SpanFilter();
  assert.equal(f.active, false);
  const spans = byPath('/a', '/b');
  const out = f.split(spans);
  assert.equal(out.metrics, spans);
  assert.equal(out.traces, spans);
  assert.equal(out.dropped, 0);
});

test('not_match on url_path (underscore form) drops /metrics from metrics and traces', () => {
  const f = new SpanFilter({ application: { url_path: { not_match: '/metrics' } } });
  const out = f.split(byPath('/metrics', '/basic/1', '/metrics', '/metricsx'));
  assert.deepEqual(paths(out.metrics), ['/basic/1', '/metricsx']);
  assert.deepEqual(paths(out.traces), ['/basic/1', '/metricsx']);
  assert.equal(out.dropped, 2);
});

test('match with globs (gobwas syntax, dot form)', () => {
  const f = new SpanFilter({ application: { 'url.path': { match: '/{api,v1}/*' } } });
  assert.deepEqual(paths(f.split(byPath('/api/x', '/v1/y/z', '/v2/a', '/api')).metrics), ['/api/x', '/v1/y/z']);
});

test('a missing attribute is the empty string for globs', () => {
  const f = new SpanFilter({ application: { 'db.operation.name': { not_match: 'SELECT' } } });
  assert.equal(f.allow(mkSpan()), true);
  const g = new SpanFilter({ application: { 'db.operation.name': { match: '*' } } });
  assert.equal(g.allow(mkSpan()), true);
  const h = new SpanFilter({ application: { 'db.operation.name': { match: '?*' } } });
  assert.equal(h.allow(mkSpan()), false);
});

test('numeric comparisons on numbers and numeric strings; all properties of one attribute must hold', () => {
  const status = (code: number | string): Span => mkSpan({ attributes: { 'http.response.status_code': code } });
  const cases: [Record<string, number>, (number | string)[], (number | string)[]][] = [
    [{ greater_than: 400 }, [404, 500, '401'], [400, 200]],
    [{ greater_equals: 400 }, [400, 500], [399]],
    [{ equals: 404 }, [404, '404'], [403, 405]],
    [{ not_equals: 200 }, [201, 500], [200, '200']],
    [{ less_equals: 299 }, [200, 299], [300]],
    [{ less_than: 300 }, [200, 299], [300, 500]],
    [{ greater_equals: 200, less_than: 300 }, [200, 204, 299], [199, 300]],
  ];
  for (const [def, keep, drop] of cases) {
    const f = new SpanFilter({ application: { http_response_status_code: def } });
    for (const v of keep) assert.equal(f.allow(status(v)), true, `${JSON.stringify(def)} keeps ${v}`);
    for (const v of drop) assert.equal(f.allow(status(v)), false, `${JSON.stringify(def)} drops ${v}`);
  }
  // a numeric comparison on a missing or non-numeric value fails
  const f = new SpanFilter({ application: { 'http.response.status_code': { not_equals: 200 } } });
  assert.equal(f.allow(mkSpan({ attributes: {} })), false);
  assert.equal(f.allow(status('abc')), false);
  assert.equal(f.allow(status('')), false);
});

test('several attributes: every condition must hold', () => {
  const f = new SpanFilter({ application: { 'url.path': { match: '/api/*' }, 'http.response.status_code': { greater_equals: 500 } } });
  const s = (p: string, c: number): Span => mkSpan({ attributes: { 'url.path': p, 'http.response.status_code': c } });
  assert.deepEqual(
    f.split([s('/api/a', 500), s('/api/b', 200), s('/web', 503), s('/api/c', 502)]).metrics.map((x) => `${x.attributes['url.path']} ${x.attributes['http.response.status_code']}`),
    ['/api/a 500', '/api/c 502'],
  );
});

test('metric label names: service, span name/kind, status code, job, instance, language', () => {
  const spans = [mkSpan({ service: api }), mkSpan({ service: worker, kind: 'client', status: 'error', name: 'GET' })];
  const keep = (name: string, def: object): string[] => new SpanFilter({ application: { [name]: def } }).split(spans).metrics.map((s) => s.service.name);
  assert.deepEqual(keep('service_name', { match: 'api' }), ['api']);
  assert.deepEqual(keep('service.namespace', { match: 'shop' }), ['api']);
  assert.deepEqual(keep('span_kind', { match: 'SPAN_KIND_CLIENT' }), ['worker']);
  assert.deepEqual(keep('span.name', { match: 'GET /*' }), ['api']);
  assert.deepEqual(keep('status_code', { not_match: 'STATUS_CODE_ERROR' }), ['api']);
  assert.deepEqual(keep('job', { match: 'shop/api' }), ['api']);
  assert.deepEqual(keep('instance', { match: 'host1:77' }), ['worker']);
  assert.deepEqual(keep('service.instance.id', { match: 'host1:42' }), ['api']);
  assert.deepEqual(keep('telemetry_sdk_language', { match: 'python' }), ['worker']);
});

test('url.path of client spans comes from url.full; unknown underscore names are resolved by key', () => {
  assert.equal(urlPath('http://h:1/a/b?q=1#f'), '/a/b');
  assert.equal(urlPath('https://h'), '/');
  assert.equal(urlPath('/relative'), undefined);
  const client = mkSpan({ kind: 'client' });
  assert.equal(httpSpanPath(client), '/items/1');
  assert.equal(new SpanFilter({ application: { url_path: { match: '/items/*' } } }).allow(client), true);
  const custom = mkSpan({ attributes: { 'messaging.destination.name': 'orders' } });
  assert.equal(new SpanFilter({ application: { messaging_destination_name: { match: 'ord*' } } }).allow(custom), true);
  assert.equal(new SpanFilter({ application: { messaging_destination_name: { match: 'x*' } } }).allow(custom), false);
});

test('routes.ignored_patterns with each ignore_mode', () => {
  const ignored = compilePatterns(['/health', '/internal/:x'], 'routes.ignored_patterns');
  const isIgnoredPath = (p: string): boolean => ignored.match(p) !== undefined;
  const spans = [...byPath('/health', '/users/1', '/internal/debug'), mkSpan({ kind: 'client', attributes: { 'url.full': 'http://x/health' } })];
  const all = new SpanFilter({ isIgnoredPath }).split(spans);
  assert.deepEqual(paths(all.metrics), ['/users/1']);
  assert.deepEqual(paths(all.traces), ['/users/1']);
  assert.equal(all.dropped, 3);
  const m = new SpanFilter({ isIgnoredPath, ignoreMode: 'metrics' }).split(spans);
  assert.deepEqual(paths(m.metrics), ['/users/1']);
  assert.equal(m.traces.length, 4);
  assert.equal(m.dropped, 0);
  const t = new SpanFilter({ isIgnoredPath, ignoreMode: 'traces' }).split(spans);
  assert.equal(t.metrics.length, 4);
  assert.deepEqual(paths(t.traces), ['/users/1']);
});

test('invalid definitions are configuration errors naming the key', () => {
  const bad = (def: object, message: RegExp): void =>
    assert.throws(() => new SpanFilter({ application: { url_path: def } }), (e: unknown) => AgentError.is(e) && e.code === 'OBI_ERR_CONFIG_INVALID' && message.test(e.message));
  bad({}, /^filter\.application\.url_path needs a condition/);
  bad({ match: '[a' }, /^filter\.application\.url_path\.match: invalid glob/);
  bad({ greater_than: 'x' }, /^filter\.application\.url_path\.greater_than must be a number/);
});
