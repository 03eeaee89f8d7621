import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { AgentError } from '../errors.ts';
import { HTTP_METRIC_ATTRIBUTES, RedMetrics } from './metrics.ts';
import { AttributeSelector, metricSection, selectHttpMetricAttributes, TraceAttributeFilter, TRACE_ATTRIBUTES } from './select.ts';
import { mkSpan, sampleLines } from '../../test/helpers/spans.ts';

const SERVER = HTTP_METRIC_ATTRIBUTES.server;
const DEFAULT_SERVER = [
  'http.request.method',
  'http.response.status_code',
  'http.route',
  'instance',
  'job',
  'server.address',
  'server.port',
  'service.name',
  'service.namespace',
  'url.scheme',
];

test('metricSection: OTel and Prometheus names, unit and aggregation suffixes, globs', () => {
  assert.equal(metricSection('http.server.request.duration'), 'http.server.request.duration');
  assert.equal(metricSection('http_server_request_duration_seconds'), 'http.server.request.duration');
  assert.equal(metricSection('http_server_request_duration_seconds_count'), 'http.server.request.duration');
  assert.equal(metricSection('http_server_request_duration_seconds_bucket'), 'http.server.request.duration');
  assert.equal(metricSection('http_server_request_body_size_bytes'), 'http.server.request.body.size');
  assert.equal(metricSection('http_server_request_body_size_bytes_sum'), 'http.server.request.body.size');
  assert.equal(metricSection('traces_spanmetrics_calls_total'), 'traces.spanmetrics.calls');
  assert.equal(metricSection('obi_network_flow_bytes_total'), 'obi.network.flow');
  assert.equal(metricSection('http_*'), 'http.*');
  assert.equal(metricSection('*'), '*');
  assert.equal(metricSection('traces'), 'traces');
});

test('no selection: the default-visible attributes, sorted', () => {
  const s = new AttributeSelector();
  assert.deepEqual(s.select('http.server.request.duration', SERVER), DEFAULT_SERVER);
  assert.deepEqual(s.matchingKeys('http.server.request.duration'), []);
});

test('include adds opt-in attributes; Prometheus key and underscore attribute names work', () => {
  const s = new AttributeSelector({ http_server_request_duration_seconds: { include: ['url_path', 'client.address'] } });
  assert.deepEqual(s.select('http.server.request.duration', SERVER), ['client.address', 'url.path']);
  // other metrics keep their defaults
  assert.deepEqual(s.select('http.server.request.body.size', SERVER), DEFAULT_SERVER);
});

test('exclude alone removes from the defaults', () => {
  const s = new AttributeSelector({ 'http.server.request.duration': { exclude: ['server.*', 'job', 'instance'] } });
  assert.deepEqual(s.select('http.server.request.duration', SERVER), [
    'http.request.method',
    'http.response.status_code',
    'http.route',
    'service.name',
    'service.namespace',
    'url.scheme',
  ]);
});

test('"*" includes everything; broad to narrow: a narrower key adds and excludes after it', () => {
  const all = new AttributeSelector({ '*': { include: ['*'] } });
  assert.deepEqual(all.select('http_server_request_duration_seconds', SERVER), SERVER.map((a) => a.name).sort());
  const layered = new AttributeSelector({
    'http.server.request.duration': { exclude: ['client.address'] },
    'http_*': { include: ['url.path'] },
    '*': { include: ['service.name'], exclude: ['url.path'] },
  });
  assert.deepEqual(layered.matchingKeys('http.server.request.duration'), ['*', 'http_*', 'http.server.request.duration']);
  // '*' → {service.name} (url.path excluded, absent anyway); 'http_*' adds url.path; the exact key excludes client.address
  assert.deepEqual(layered.select('http.server.request.duration', SERVER), ['service.name', 'url.path']);
  assert.deepEqual(layered.select('http.client.request.duration', HTTP_METRIC_ATTRIBUTES.client), ['service.name', 'url.path']);
});

test('a first include that matches nothing starts from the defaults', () => {
  const s = new AttributeSelector({ 'http.server.request.duration': { include: ['no.such.attribute'], exclude: ['url.scheme'] } });
  assert.deepEqual(
    s.select('http.server.request.duration', SERVER),
    DEFAULT_SERVER.filter((a) => a !== 'url.scheme'),
  );
});

test('Go-style [^…] classes and braces in globs', () => {
  const s = new AttributeSelector({ '*': { include: ['[^u]*.address', '{url.path,url.scheme}'] } });
  assert.deepEqual(s.select('http.server.request.duration', SERVER), ['client.address', 'server.address', 'url.path', 'url.scheme']);
});

test('an invalid glob is a configuration error naming the key', () => {
  assert.throws(
    () => new AttributeSelector({ 'http.server.request.duration': { include: ['url.[path'] } }),
    (e: unknown) => AgentError.is(e) && e.code === 'OBI_ERR_CONFIG_INVALID' && e.message.startsWith('attributes.select.http.server.request.duration.include[0]: '),
  );
});

test('selectHttpMetricAttributes: per metric; OTLP does not offer job and instance', () => {
  const s = new AttributeSelector({ '*': { include: ['*'] }, 'http.client.*': { exclude: ['url.*'] } });
  const prom = selectHttpMetricAttributes(s);
  assert.deepEqual(prom['http.server.request.duration'], SERVER.map((a) => a.name).sort());
  assert.deepEqual(prom['http.client.request.duration'], [
    'http.request.method',
    'http.response.status_code',
    'http.route',
    'instance',
    'job',
    'server.address',
    'server.port',
    'service.name',
    'service.namespace',
  ]);
  const otlp = selectHttpMetricAttributes(s, 'otlp');
  assert.equal(otlp['http.server.request.duration'].includes('job'), false);
  assert.equal(otlp['http.server.request.duration'].includes('instance'), false);
  assert.equal(otlp['http.server.request.duration'].includes('url.path'), true);
});

test('RedMetrics reports the selected labels', async () => {
  const reg = new ScrapableStore();
  const s = new AttributeSelector({ 'http.server.request.duration': { include: ['http.route', 'url.path', 'client_address'] } });
  const m = new RedMetrics(reg, { attributes: selectHttpMetricAttributes(s) });
  m.recordAll([mkSpan(), mkSpan()]);
  const text = await reg.metrics();
  assert.deepEqual(sampleLines(text, 'http_server_request_duration_seconds_count'), [
    'http_server_request_duration_seconds_count{client_address="10.0.0.1",http_route="/users/:id",url_path="/users/1"} 2',
  ]);
});

test('traces section: opt-in payloads removed unless selected, url.query kept unless excluded', () => {
  const withPayload = () =>
    mkSpan({ protocol: 'sql', attributes: { 'db.query.text': 'SELECT 1', 'db.operation.name': 'SELECT', 'url.query': 'a=1', 'graphql.document': '{x}' } });
  const def = new TraceAttributeFilter(new AttributeSelector());
  assert.deepEqual([...def.disabled].sort(), TRACE_ATTRIBUTES.filter((a) => !a.byDefault).map((a) => a.name).sort());
  const a = withPayload();
  def.apply(a);
  assert.deepEqual(a.attributes, { 'db.operation.name': 'SELECT', 'url.query': 'a=1' });

  const sel = new TraceAttributeFilter(new AttributeSelector({ traces: { include: ['db.query.text'], exclude: ['url_query'] } }));
  const b = withPayload();
  sel.applyAll([b]);
  assert.deepEqual(b.attributes, { 'db.query.text': 'SELECT 1', 'db.operation.name': 'SELECT' });

  // OBI's "*" key applies to the traces section too
  const all = new TraceAttributeFilter(new AttributeSelector({ '*': { include: ['*'] } }));
  assert.deepEqual(all.disabled, []);
  const c = withPayload();
  all.applyAll([c]);
  assert.equal(c.attributes['graphql.document'], '{x}');
});
