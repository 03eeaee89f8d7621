import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { AGGREGATED_SPAN_NAME, SpanMetrics, TracesTargetInfo } from './spanmetrics.ts';
import { api, mkSpan, sampleLines, sampleValue, worker } from '../../test/helpers/spans.ts';

const API_SERVER = {
  service_name: 'api',
  service_namespace: 'shop',
  span_name: 'GET /users/:id',
  status_code: 'STATUS_CODE_UNSET',
  span_kind: 'SPAN_KIND_SERVER',
  instance: 'host1:42',
  job: 'shop/api',
  source: 'obi',
  telemetry_sdk_language: 'go',
};

test('legacy format (application_span): names, labels, exact buckets, sum and calls', async () => {
  const reg = new ScrapableStore();
  const m = new SpanMetrics(reg, { format: 'legacy' });
  m.recordAll([mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 0.2 }), mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 3 })]);
  const text = await reg.metrics();
  assert.match(text, /# TYPE traces_spanmetrics_latency histogram\n/);
  assert.match(text, /# TYPE traces_spanmetrics_calls_total counter\n/);
  const bucket = (le: string): number | undefined => sampleValue(text, 'traces_spanmetrics_latency_bucket', { ...API_SERVER, le });
  assert.deepEqual(['0.025', '0.05', '0.1', '0.25', '2.5', '5', '+Inf'].map(bucket), [0, 2, 2, 3, 3, 4, 4]);
  assert.equal(sampleValue(text, 'traces_spanmetrics_latency_count', API_SERVER), 4);
  assert.ok(Math.abs(sampleValue(text, 'traces_spanmetrics_latency_sum', API_SERVER)! - 3.26) < 1e-9);
  assert.equal(sampleValue(text, 'traces_spanmetrics_calls_total', API_SERVER), 4);
  assert.equal(sampleLines(text, 'traces_spanmetrics_calls_total').length, 1);
});

test('otel format (application_span_otel): names; kind, status and every span protocol', async () => {
  const reg = new ScrapableStore();
  const m = new SpanMetrics(reg, { format: 'otel' });
  assert.equal(m.names.duration.otel, 'traces.span.metrics.duration');
  assert.equal(m.names.calls.otel, 'traces.span.metrics.calls');
  m.recordAll([
    mkSpan({ service: worker, kind: 'client', status: 'error', name: 'GET' }),
    mkSpan({ service: worker, kind: 'client', status: 'error', name: 'GET' }),
    mkSpan({ service: worker, kind: 'client', name: 'SELECT users', protocol: 'sql' }),
    mkSpan({ kind: 'internal', name: 'in queue' }),
  ]);
  const text = await reg.metrics();
  const w = { service_name: 'worker', service_namespace: '', instance: 'host1:77', job: 'worker', source: 'obi', telemetry_sdk_language: 'python' };
  assert.equal(sampleValue(text, 'traces_span_metrics_calls_total', { ...w, span_name: 'GET', status_code: 'STATUS_CODE_ERROR', span_kind: 'SPAN_KIND_CLIENT' }), 2);
  assert.equal(sampleValue(text, 'traces_span_metrics_calls_total', { ...w, span_name: 'SELECT users', status_code: 'STATUS_CODE_UNSET', span_kind: 'SPAN_KIND_CLIENT' }), 1);
  assert.equal(sampleValue(text, 'traces_span_metrics_duration_seconds_count', { ...API_SERVER, span_name: 'in queue', span_kind: 'SPAN_KIND_INTERNAL' }), 1);
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').length, 3);
});

test('span-name cap: new names past the per-service limit become AGGREGATED; known names keep theirs', async () => {
  const reg = new ScrapableStore();
  const m = new SpanMetrics(reg, { format: 'legacy', spanNamesLimit: 3 });
  for (const n of ['a', 'b', 'c', 'd', 'e', 'a', 'd']) m.record(mkSpan({ name: n }));
  m.record(mkSpan({ name: 'z', service: worker })); // another service has its own budget
  const text = await reg.metrics();
  const calls = (service: typeof api, span_name: string): number | undefined =>
    sampleValue(text, 'traces_spanmetrics_calls_total', { ...API_SERVER, service_name: service.name, service_namespace: service.namespace, instance: service.instanceId, job: service === api ? 'shop/api' : 'worker', telemetry_sdk_language: service.language, span_name });
  assert.equal(calls(api, 'a'), 2);
  assert.equal(calls(api, 'b'), 1);
  assert.equal(calls(api, 'c'), 1);
  assert.equal(calls(api, AGGREGATED_SPAN_NAME), 3);
  assert.equal(calls(api, 'd'), undefined);
  assert.equal(calls(worker, 'z'), 1);
  // removing the service frees its budget
  m.removeService(api);
  assert.equal(m.spanNameOf(mkSpan({ name: 'd' })), 'd');
  // a limit <= 0 disables the cap
  const free = new SpanMetrics(new ScrapableStore(), { format: 'otel', spanNamesLimit: 0 });
  for (let i = 0; i < 200; i++) assert.equal(free.spanNameOf(mkSpan({ name: `n${i}` })), `n${i}`);
});

test('traces_target_info: target_info labels per service, removed when the service goes', async () => {
  const reg = new ScrapableStore();
  const t = new TracesTargetInfo(reg, { hostId: 'hid', hostName: 'box', sdkVersion: '0.1.0' });
  t.registerService(api);
  t.registerService(worker);
  t.registerService(api); // idempotent
  let text = await reg.metrics();
  assert.deepEqual(sampleLines(text, 'traces_target_info').sort(), [
    'traces_target_info{host_id="hid",host_name="box",service_name="api",service_namespace="shop",instance="host1:42",job="shop/api",telemetry_sdk_language="go",telemetry_sdk_name="opentelemetry",telemetry_sdk_version="0.1.0",source="obi",os_type="linux"} 1',
    'traces_target_info{host_id="hid",host_name="box",service_name="worker",service_namespace="",instance="host1:77",job="worker",telemetry_sdk_language="python",telemetry_sdk_name="opentelemetry",telemetry_sdk_version="0.1.0",source="obi",os_type="linux"} 1',
  ]);
  t.removeService(api);
  assert.equal(t.has(api), false);
  text = await reg.metrics();
  assert.equal(sampleLines(text, 'traces_target_info').length, 1);
});
