import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { api, mkSpan, sampleLines, worker } from '../../test/helpers/spans.ts';
import { exportSignal, grpcExportPortsFromEnv, OtelSdkAvoider, OTLP_METRICS_EXPORT_METHOD, OTLP_TRACE_EXPORT_METHOD } from './avoid.ts';
import { RedMetrics } from './metrics.ts';
import { SpanProcessor } from './processor.ts';
import type { Span } from './span.ts';

const httpExport = (path: string, status = 200, service: ServiceIdentity = api): Span =>
  mkSpan({
    kind: 'client',
    service,
    status: status >= 400 ? 'error' : 'unset',
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': status, 'url.full': `http://127.0.0.1:4318${path}`, 'server.address': '127.0.0.1', 'server.port': 4318 },
  });
const grpcCall = (method: string, port: number, status: 'unset' | 'error' = 'unset', service: ServiceIdentity = api): Span =>
  mkSpan({ kind: 'client', protocol: 'grpc', service, status, name: method, attributes: { 'rpc.method': method, 'rpc.system.name': 'grpc', 'server.address': '127.0.0.1', 'server.port': port } });

test('exportSignal: OTLP HTTP paths and gRPC methods, successful client calls only', () => {
  assert.equal(exportSignal(httpExport('/v1/traces'), undefined), 1);
  assert.equal(exportSignal(httpExport('/otlp/v1/metrics?x=1'), undefined), 2);
  assert.equal(exportSignal(httpExport('/v1/traces', 503), undefined), 0);
  assert.equal(exportSignal(httpExport('/v1/logs'), undefined), 0);
  assert.equal(exportSignal(mkSpan({ attributes: { 'url.path': '/v1/traces' } }), undefined), 0); // a server span (the receiver)
  assert.equal(exportSignal(grpcCall(OTLP_TRACE_EXPORT_METHOD, 9), undefined), 1);
  assert.equal(exportSignal(grpcCall(OTLP_METRICS_EXPORT_METHOD, 9), undefined), 2);
  assert.equal(exportSignal(grpcCall(OTLP_TRACE_EXPORT_METHOD, 9, 'error'), undefined), 0);
  // an undecoded method to the process's OTLP/gRPC endpoint port
  assert.equal(exportSignal(grpcCall('', 4317), { traces: 4317 }), 1);
  assert.equal(exportSignal(grpcCall('/x.Y/Z', 5555), { traces: 4317, metrics: 5555 }), 2);
  assert.equal(exportSignal(grpcCall('/x.Y/Z', 4317), { traces: 4317, metrics: 4317 }), 0); // ambiguous
  assert.equal(exportSignal(grpcCall('/x.Y/Z', 4317), undefined), 0);
});

test('grpcExportPortsFromEnv: protocol grpc per signal, endpoint ports, default port, exporter none', () => {
  const env = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));
  assert.equal(grpcExportPortsFromEnv(undefined, 4317), undefined);
  assert.equal(grpcExportPortsFromEnv(env({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }), 4317), undefined); // protocol not grpc
  assert.deepEqual(grpcExportPortsFromEnv(env({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), 4317), { traces: 4317, metrics: 4317 });
  assert.deepEqual(grpcExportPortsFromEnv(env({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:7000', OTEL_METRICS_EXPORTER: 'none' }), 4317), { traces: 7000 });
  assert.deepEqual(
    grpcExportPortsFromEnv(env({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }), 4317),
    { traces: 443 },
  );
  assert.deepEqual(grpcExportPortsFromEnv(env({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'c:9999' }), 1234), { traces: 1234, metrics: 9999 });
});

test('avoider: sticky per instance and signal, reported once, forgotten with the service', () => {
  const avoided: string[] = [];
  const a = new OtelSdkAvoider({ enabled: true, onAvoided: (s, sig) => avoided.push(`${s.name}:${sig}`) });
  assert.equal(a.idle, true);
  const other = mkSpan({ service: worker });
  a.observe([httpExport('/v1/traces', 500), other]);
  assert.equal(a.idle, true);
  a.observe([httpExport('/v1/traces'), httpExport('/v1/traces'), other]);
  assert.deepEqual(avoided, ['api:traces']);
  const batch = [mkSpan(), other, mkSpan()];
  assert.deepEqual(a.traces(batch), [other]);
  assert.equal(a.metrics(batch), batch);
  assert.equal(a.spanMetrics(batch), batch);
  a.observe([grpcCall(OTLP_METRICS_EXPORT_METHOD, 4317)]);
  assert.deepEqual(avoided, ['api:traces', 'api:metrics']);
  assert.deepEqual(a.metrics(batch), [other]);
  a.forget(api);
  assert.equal(a.idle, true);
  assert.equal(a.traces(batch), batch);
  const off = new OtelSdkAvoider({ enabled: false });
  off.observe([httpExport('/v1/traces')]);
  assert.equal(off.idle, true);
});

test('processor: a traces exporter loses its spans, a metrics exporter its RED metrics; span metrics per option', async () => {
  for (const spanMetricsToo of [false, true]) {
    const reg = new ScrapableStore();
    const avoid = new OtelSdkAvoider({ enabled: true, spanMetrics: spanMetricsToo });
    const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application', 'application_span_otel'], avoid });
    // the export seen in a batch already removes that batch's spans of the service
    const out = p.process([mkSpan(), httpExport('/v1/traces'), mkSpan({ service: worker })], 0);
    assert.deepEqual(out.traces.map((s) => s.service.name), ['worker']);
    let text = await reg.metrics();
    assert.equal(sampleLines(text, 'http_server_request_duration_seconds_count').length, 2); // metrics still on for api
    assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').filter((l) => l.includes('service_name="api"')).length, spanMetricsToo ? 0 : 2);
    p.process([httpExport('/v1/metrics')], 1);
    const out2 = p.process([mkSpan(), mkSpan({ service: worker })], 2);
    assert.deepEqual(out2.traces.map((s) => s.service.name), ['worker']);
    text = await reg.metrics();
    const apiServer = sampleLines(text, 'http_server_request_duration_seconds_count').find((l) => l.includes('service_name="api"'));
    assert.equal(apiServer?.split(' ').pop(), '1'); // the first batch's, not the later one
  }
});
