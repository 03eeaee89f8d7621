import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistogramMetricData, ExponentialHistogramMetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ScrapableStore } from '../../../test/helpers/metric-store.ts';
import { DEFAULT_DURATION_BUCKETS, RedMetrics } from '../../telemetry/metrics.ts';
import type { Span } from '../../telemetry/span.ts';
import { ResourceCache } from './convert.ts';
import { OtlpMetricsExporter } from './metrics.ts';
import type { OtlpMetricsExporterOptions } from './metrics.ts';
import { OtlpExportMetrics } from './self-metrics.ts';
import { ScriptedSender, TEST_SERVICE, testSpan } from '../../../test/helpers/otlp-testing.ts';

const OTHER = { name: 'other', namespace: '', instanceId: 'host:7', pid: 7, exePath: '/bin/other', language: 'python' };

function serverSpan(durationMs: number, status: number, service = TEST_SERVICE, respBytes = 10): Span {
  return testSpan({
    startNs: 1e9,
    endNs: 1e9 + durationMs * 1e6,
    service,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': status,
      'url.scheme': 'http',
      'http.route': '/users/*',
      'server.address': '127.0.0.1',
      'server.port': 8080,
      'http.request.body.size': 0,
      'http.response.body.size': respBytes,
    },
  });
}

function setup(over: Partial<OtlpMetricsExporterOptions> = {}) {
  const registry = new ScrapableStore();
  const red = new RedMetrics(registry);
  const sender = new ScriptedSender<ResourceMetrics>();
  const exporter = new OtlpMetricsExporter({
    sender,
    metrics: red,
    resources: new ResourceCache({ host: { hostName: 'host', hostId: 'mid' }, version: '1.2.3' }),
    intervalMs: 60_000,
    wallMs: () => 1_700_000_000_123,
    selfMetrics: new OtlpExportMetrics(registry),
    ...over,
  });
  return { registry, red, sender, exporter };
}

const byName = (rm: ResourceMetrics, name: string) => rm.scopeMetrics[0].metrics.find((m) => m.descriptor.name === name);

test('one ResourceMetrics per service, OTel names and units, cumulative explicit histograms equal to Prometheus', async () => {
  const { red, exporter, registry } = setup();
  red.recordAll([serverSpan(3, 200), serverSpan(30, 200), serverSpan(30, 200), serverSpan(700, 503), serverSpan(12_000, 200), serverSpan(4, 200, OTHER, 5000)]);
  const out = exporter.collect();
  assert.equal(out.length, 2);
  const mine = out.find((r) => r.resource.attributes['service.name'] === 'svc')!;
  const other = out.find((r) => r.resource.attributes['service.name'] === 'other')!;
  assert.equal(mine.resource.attributes['service.instance.id'], 'host:42');
  assert.equal(mine.resource.attributes['telemetry.sdk.language'], 'go');
  assert.equal(mine.scopeMetrics[0].scope.name, 'go.opentelemetry.io/obi');
  assert.deepEqual(mine.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m.descriptor.unit]), [
    ['http.server.request.duration', 's'],
    ['http.server.request.body.size', 'By'],
    ['http.server.response.body.size', 'By'],
  ]);
  const dur = byName(mine, 'http.server.request.duration') as HistogramMetricData;
  assert.equal(dur.aggregationTemporality, 1); // sdk-metrics CUMULATIVE
  assert.equal(dur.dataPointType, 0); // HISTOGRAM
  assert.equal(dur.dataPoints.length, 2);
  const ok = dur.dataPoints.find((p) => p.attributes['http.response.status_code'] === 200)!;
  assert.deepEqual(ok.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'http.route': '/users/*',
    'server.address': '127.0.0.1',
    'server.port': 8080,
    'service.name': 'svc',
    'service.namespace': 'ns',
    'url.scheme': 'http',
  });
  assert.deepEqual(ok.value.buckets.boundaries, [...DEFAULT_DURATION_BUCKETS]);
  //                             0  .005 .01 .025 .05 .075 .1 .25 .5 .75 1 2.5 5 7.5 10 +Inf
  assert.deepEqual(ok.value.buckets.counts, [0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(ok.value.count, 4);
  assert.ok(Math.abs(ok.value.sum! - 12.063) < 1e-9);
  assert.deepEqual(ok.startTime, [1_700_000_000, 123_000_000]);
  // the same numbers as the Prometheus exposition
  const prom = await registry.getSingleMetricAsString('http_server_request_duration_seconds');
  assert.match(prom, /http_server_request_duration_seconds_bucket\{le="0\.05",[^}]*http_response_status_code="200"[^}]*\} 3/);
  assert.match(prom, /http_server_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*\} 4/);
  const size = byName(other, 'http.server.response.body.size') as HistogramMetricData;
  // 5000 B: in (4096, 8192]
  assert.deepEqual(size.dataPoints[0].value.buckets.counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
});

test('values are cumulative across rounds; exports are counted per metric, errors by type', async () => {
  const { red, exporter, sender, registry } = setup();
  red.record(serverSpan(3, 200));
  await exporter.exportOnce();
  red.record(serverSpan(3, 200));
  sender.script.push({ ok: false, error: Object.assign(new Error('unavailable'), { code: 14, metadata: {} }) });
  await exporter.exportOnce();
  red.record(serverSpan(3, 200));
  await exporter.exportOnce();
  const counts = sender.sent.map((rm) => (byName(rm, 'http.server.request.duration') as HistogramMetricData).dataPoints[0].value.count);
  assert.deepEqual(counts, [1, 2, 3]);
  assert.deepEqual(exporter.stats(), { rounds: 3, requests: 3, errors: 1, skipped: 0 });
  const text = await registry.metrics();
  assert.match(text, /obi_otel_metric_exports_total 6/);
  assert.match(text, /obi_otel_metric_export_errors_total\{error="UNAVAILABLE"\} 1/);
});

test('a round still in flight makes the next tick skip instead of piling up', async () => {
  const { red, exporter, sender } = setup();
  sender.delayMs = 50;
  red.record(serverSpan(3, 200));
  const first = exporter.exportOnce();
  const second = exporter.exportOnce();
  await Promise.all([first, second]);
  assert.equal(sender.sent.length, 1);
  assert.equal(exporter.stats().skipped, 1);
});

test('base2 exponential aggregation: same series, exponential points, counts add up', () => {
  const { red, exporter } = setup({ aggregation: 'base2_exponential_bucket_histogram' });
  const durations = [0.5, 1, 2, 3, 30, 30, 250, 9000];
  red.recordAll(durations.map((d) => serverSpan(d, 200)));
  const [rm] = exporter.collect();
  const dur = byName(rm, 'http.server.request.duration') as ExponentialHistogramMetricData;
  assert.equal(dur.dataPointType, 1); // EXPONENTIAL_HISTOGRAM
  const p = dur.dataPoints[0].value;
  assert.equal(p.count, 8);
  assert.equal(p.zeroCount, 0);
  assert.equal(p.positive.bucketCounts.reduce((a, b) => a + b, 0), 8);
  assert.ok(p.positive.bucketCounts.length <= 160);
  assert.ok(p.scale <= 20 && p.scale >= 0, `scale ${p.scale}`);
  assert.equal(p.min, 0.0005);
  assert.equal(p.max, 9);
  // every value falls in the bucket the scale says
  // each value lies in (base^i, base^(i+1)] of a populated bucket i, and the counts match
  const expected = new Map<number, number>();
  for (const v of durations.map((d) => d / 1000)) {
    const i = p.positive.bucketCounts.findIndex((_, k) => {
      const lo = 2 ** ((p.positive.offset + k) * 2 ** -p.scale);
      const hi = 2 ** ((p.positive.offset + k + 1) * 2 ** -p.scale);
      return v > lo * (1 + 1e-12) && v <= hi * (1 + 1e-12);
    });
    assert.ok(i >= 0, `value ${v} has a bucket`);
    expected.set(i, (expected.get(i) ?? 0) + 1);
  }
  p.positive.bucketCounts.forEach((c, k) => assert.equal(c, expected.get(k) ?? 0, `bucket ${k}`));
  assert.equal(dur.dataPoints[0].attributes['http.route'], '/users/*');
});

test('otel_metrics_export.buckets other than the Prometheus ones get their own histogram', () => {
  const { red, exporter, registry } = setup({ buckets: { duration: [0.01, 0.1, 1] } });
  red.recordAll([serverSpan(5, 200), serverSpan(50, 200), serverSpan(500, 200), serverSpan(5000, 200)]);
  const [rm] = exporter.collect();
  const dur = byName(rm, 'http.server.request.duration') as HistogramMetricData;
  assert.deepEqual(dur.dataPoints[0].value.buckets, { boundaries: [0.01, 0.1, 1], counts: [1, 1, 1, 1] });
  // Prometheus keeps its own buckets
  return registry.getSingleMetricAsString('http_server_request_duration_seconds').then((t) => assert.match(t, /le="7\.5"/));
});

test('instrumentations without http export no HTTP metrics', () => {
  const { red, exporter } = setup({ instrumentations: ['sql'] });
  red.record(serverSpan(3, 200));
  assert.deepEqual(exporter.collect(), []);
});

test('series of a service that is no longer registered keep their resource', () => {
  const { red, exporter } = setup();
  red.record(serverSpan(3, 200, OTHER));
  assert.equal(exporter.collect()[0].resource.attributes['service.name'], 'other');
  red.removeService(OTHER);
  const [rm] = exporter.collect();
  assert.equal(rm.resource.attributes['service.name'], 'other');
  assert.equal(rm.resource.attributes['telemetry.sdk.language'], 'python');
});

test('TTL expiry: an expired series leaves OTLP, and when it comes back it has a new start time', () => {
  let wall = 1_700_000_000_000;
  for (const aggregation of ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'] as const) {
    const { red, exporter } = setup({ aggregation, wallMs: () => wall });
    red.setNow(0);
    red.record(serverSpan(3, 200));
    wall += 1000;
    const first = (byName(exporter.collect()[0], 'http.server.request.duration') as HistogramMetricData).dataPoints[0];
    assert.equal(first.value.count, 1);
    red.setNow(100);
    red.record(serverSpan(3, 404)); // keeps the service alive, 200 is now stale
    assert.equal(red.expire(50), 1); // the three server histograms share one label index
    wall += 1000;
    const after = (byName(exporter.collect()[0], 'http.server.request.duration') as HistogramMetricData).dataPoints;
    assert.deepEqual(after.map((p) => p.attributes['http.response.status_code']), [404]);
    red.setNow(200);
    red.record(serverSpan(3, 200)); // the 200 series again (reusing the expired id)
    wall += 1000;
    const again = (byName(exporter.collect()[0], 'http.server.request.duration') as HistogramMetricData).dataPoints.find((p) => p.attributes['http.response.status_code'] === 200)!;
    assert.equal(again.value.count, 1);
    assert.ok(again.startTime[0] > first.startTime[0], `${aggregation}: start ${again.startTime} after ${first.startTime}`);
  }
});
