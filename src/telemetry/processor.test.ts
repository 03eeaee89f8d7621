import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import { RedMetrics } from './metrics.ts';
import { isLoopback, SpanProcessor } from './processor.ts';
import type { ListeningService } from './processor.ts';
import { AttributeSelector } from './select.ts';
import type { Span } from './span.ts';
import { api, mkSpan, sampleLines, sampleValue, worker } from '../../test/helpers/spans.ts';

const families = (text: string): string[] => [...new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]))];

test('features decide the metric families: application only (the default)', async () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application'] });
  assert.equal(p.spanMetrics, undefined);
  assert.equal(p.serviceGraph, undefined);
  assert.equal(p.tracesTargetInfo, undefined);
  p.process([mkSpan()], 0);
  const text = await reg.metrics();
  assert.equal(families(text).some((f) => f.startsWith('traces_')), false);
  assert.equal(sampleValue(text, 'http_server_request_duration_seconds_count', { http_request_method: 'GET', http_response_status_code: '200', http_route: '/users/:id', instance: 'host1:42', job: 'shop/api', server_address: '10.0.0.2', server_port: '8080', service_name: 'api', service_namespace: 'shop', url_scheme: '' }), 1);
  assert.equal(sampleLines(text, 'http_server_request_duration_seconds_count').length, 1);
});

test('span metrics and service graph without application: no RED series, traces_target_info per service', async () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application_span', 'application_service_graph'], resource: { hostName: 'box' } });
  assert.equal(p.spanMetrics?.format, 'legacy');
  p.process([mkSpan(), mkSpan({ service: worker })], 0);
  const text = await reg.metrics();
  assert.equal(sampleLines(text, 'http_server_request_duration_seconds_count').length, 0);
  assert.equal(sampleLines(text, 'traces_spanmetrics_calls_total').length, 2);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').length, 2);
  assert.deepEqual(sampleLines(text, 'traces_target_info').map((l) => /service_name="([^"]*)"/.exec(l)![1]).sort(), ['api', 'worker']);
  p.removeService(worker);
  assert.deepEqual(sampleLines(await reg.metrics(), 'traces_target_info').length, 1);
  const otel = new SpanProcessor(new ScrapableStore(), new RedMetrics(new ScrapableStore()), { features: ['application_span_otel'] });
  assert.equal(otel.spanMetrics?.format, 'otel');
  assert.equal(otel.serviceGraph, undefined);
});

test('filters apply to every metric family and to traces; dropped spans are counted', async () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), {
    features: ['application', 'application_span_otel', 'application_service_graph'],
    filter: { url_path: { not_match: '/metrics' } },
  });
  const m = mkSpan({ attributes: { 'url.path': '/metrics', 'http.route': '/metrics', 'http.response.status_code': 200 }, name: 'GET /metrics' });
  const out = p.process([m, mkSpan(), m], 0);
  assert.equal(out.dropped, 2);
  assert.equal(out.traces.length, 1);
  const text = await reg.metrics();
  assert.equal(text.includes('/metrics'), false);
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').length, 1);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').map((l) => Number(l.split(' ').pop())).join(), '1');
});

test('ignore_mode metrics keeps traces; traces attributes are trimmed after metrics', async () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), {
    features: ['application'],
    isIgnoredPath: (path) => path === '/health',
    ignoreMode: 'metrics',
    selector: new AttributeSelector({ traces: { exclude: ['url.query'] } }),
  });
  const health = mkSpan({ attributes: { 'url.path': '/health', 'url.query': 'a=1', 'http.response.status_code': 200 } });
  const out = p.process([health], 0);
  assert.deepEqual(out.traces, [health]);
  assert.equal(out.dropped, 0);
  assert.equal('url.query' in health.attributes, false);
  assert.equal(sampleLines(await reg.metrics(), 'http_server_request_duration_seconds_count').length, 0);
});

test('service-graph lookup: loopback or local addresses, by listening port; cached for a second', async () => {
  const backend: ServiceIdentity = { name: 'backend', namespace: 'shop', instanceId: 'host1:99', pid: 99, exePath: '/b', language: 'java' };
  let calls = 0;
  let listening: ListeningService[] = [{ service: backend, info: { listenPorts: [9090, 9091] } }];
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), {
    features: ['application_service_graph'],
    listeners: () => {
      calls++;
      return listening;
    },
    localAddresses: new Set(['10.0.0.9']),
  });
  const to = (addr: string, port: number) => mkSpan({ kind: 'client', conn: { remoteAddr: addr, remotePort: port } });
  p.process([to('10.0.0.9', 9090), to('127.0.0.5', 9091), to('10.0.0.8', 9090), to('10.0.0.9', 1234)], 0);
  const text = await reg.metrics();
  const labels = sampleLines(text, 'traces_service_graph_request_client_seconds_count').map((l) => /server="([^"]*)",server_service_namespace="([^"]*)",source="obi",connection_type="([^"]*)"/.exec(l)!.slice(1).join('|'));
  assert.deepEqual(labels, ['backend|shop|', '10.0.0.8||virtual_node', '10.0.0.9||virtual_node']);
  assert.equal(calls, 3); // ports 9090, 9091 and 1234 once each (10.0.0.8 is not local: no lookup)
  listening = [];
  p.process([to('10.0.0.9', 9090)], 500); // still cached
  assert.equal(sampleValue(await reg.metrics(), 'traces_service_graph_request_client_seconds_count', { client: 'api', client_service_namespace: 'shop', server: 'backend', server_service_namespace: 'shop', source: 'obi', connection_type: '' }), 3); // 9090, 9091 (same service) and this one
  p.process([to('10.0.0.9', 9090)], 1600); // cache expired: backend no longer listens
  assert.equal(sampleValue(await reg.metrics(), 'traces_service_graph_request_total', { client: 'api', client_service_namespace: 'shop', server: '10.0.0.9', server_service_namespace: '', source: 'obi', connection_type: 'virtual_node' }), 2); // port 1234 earlier, and this one
  assert.equal(api.name, 'api');
});

test('isLoopback', () => {
  assert.deepEqual(['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', '::2', '128.0.0.1'].map(isLoopback), [true, true, true, true, false, false, false]);
});

test('extra recorders get the filtered spans with the RED metrics, and share the TTL', async () => {
  const reg = new ScrapableStore();
  const index = new SeriesIndex(1);
  const histogram = new HistogramVec({ name: 'extra_seconds', help: 'x', labelNames: ['path'], buckets: [1], index }).registerIn(reg);
  const seen: string[] = [];
  const recorder = {
    histogram,
    recordAll: (spans: readonly Span[]) => {
      for (const s of spans) {
        seen.push(String(s.attributes['url.path']));
        histogram.observe(index.id([String(s.attributes['url.path'])]), 0.5);
      }
    },
  };
  const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application'], recorders: [recorder], ttlMs: 1000, filter: { url_path: { not_match: '/metrics' } } });
  const at = (path: string) => mkSpan({ attributes: { 'url.path': path } });
  p.process([at('/a'), at('/metrics')], 0);
  p.process([at('/b')], 600);
  assert.deepEqual(seen, ['/a', '/b']);
  assert.equal(p.expire(1500), 1); // the extra series of /a (/a and /b share one RED label set)
  assert.deepEqual(sampleLines(await reg.metrics(), 'extra_seconds_count'), ['extra_seconds_count{path="/b"} 1']);
  // without `application` neither RED nor the extra recorders record
  const off = new SpanProcessor(new ScrapableStore(), new RedMetrics(new ScrapableStore()), { features: ['application_span'], recorders: [recorder] });
  off.process([at('/c')], 0);
  assert.deepEqual(seen, ['/a', '/b']);
});
