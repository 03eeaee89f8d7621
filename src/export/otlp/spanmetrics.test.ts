/**
 * Span metrics, service graph and `traces_target_info` over OTLP: what one collection holds
 * (names, units, instrument types, attributes, per-service resources), then the same families
 * sent by the exporters built from configuration to the test receiver (real protobuf, JSON and
 * gRPC decoding) over loopback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DataPoint, Histogram, MetricData, ResourceMetrics, SumMetricData } from '@opentelemetry/sdk-metrics';
import { ScrapableStore } from '../../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../../common/service.ts';
import { RedMetrics } from '../../telemetry/metrics.ts';
import { SpanProcessor } from '../../telemetry/processor.ts';
import type { AppMetricFeature } from '../../telemetry/processor.ts';
import { api, mkSpan, worker } from '../../../test/helpers/spans.ts';
import { ResourceCache } from './convert.ts';
import { OtlpMetricsExporter } from './metrics.ts';
import { serviceGraphSources, spanMetricsSources, tracesTargetInfoSource } from './sources.ts';
import { ScriptedSender } from '../../../test/helpers/otlp-testing.ts';

/** the instrumented server a client span of `mkSpan` calls (10.0.0.9:9090) */
const backend: ServiceIdentity = { name: 'backend', namespace: 'shop', instanceId: 'host1:99', pid: 99, exePath: '/usr/bin/backend', language: 'java' };

function setup(features: AppMetricFeature[], wallMs = () => 1_700_000_000_000) {
  const registry = new ScrapableStore();
  const red = new RedMetrics(registry);
  const processor = new SpanProcessor(registry, red, {
    features,
    listeners: () => [{ service: backend, info: { listenPorts: [9090] } }],
    localAddresses: new Set(['10.0.0.9']),
  });
  const exporter = new OtlpMetricsExporter({
    sender: new ScriptedSender<ResourceMetrics>(),
    metrics: red,
    resources: new ResourceCache({ host: { hostName: 'host1', hostId: 'mid' }, version: '1.2.3' }),
    application: features.includes('application'),
    wallMs,
  });
  if (processor.spanMetrics !== undefined) {
    const [h, c] = spanMetricsSources(processor.spanMetrics, 'mid', undefined, (id) => processor.service(id));
    exporter.addHistogram(h);
    exporter.addCounter(c);
  }
  if (processor.serviceGraph !== undefined) {
    const sg = serviceGraphSources(processor.serviceGraph, (n, ns) => processor.serviceNamed(n, ns));
    for (const h of sg.histograms) exporter.addHistogram(h);
    for (const c of sg.counters) exporter.addCounter(c);
  }
  if (processor.tracesTargetInfo !== undefined) exporter.addGauge(tracesTargetInfoSource(() => processor.targetServices(), 'mid'));
  return { processor, exporter, registry };
}

const resourceOf = (out: ResourceMetrics[], name: string): ResourceMetrics => {
  const rm = out.find((r) => r.resource.attributes['service.name'] === name);
  assert.ok(rm, `resource ${name}`);
  return rm;
};
const metric = (rm: ResourceMetrics, name: string): MetricData | undefined => rm.scopeMetrics[0].metrics.find((m) => m.descriptor.name === name);

describe('span metrics, service graph and traces_target_info in one collection', () => {
  test('application_span_otel: OTel names, histogram in s, calls a cumulative monotonic integer Sum, OBI attributes', () => {
    const { processor, exporter } = setup(['application_span_otel']);
    processor.registerService(api);
    processor.process([mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 0.2, status: 'error' }), mkSpan({ seconds: 0.03 }), mkSpan({ kind: 'client', seconds: 0.004 })], 0);
    const out = exporter.collect();
    assert.equal(out.length, 1);
    const rm = resourceOf(out, 'api');
    assert.equal(rm.resource.attributes['service.instance.id'], 'host1:42');
    assert.equal(rm.resource.attributes['service.namespace'], 'shop');
    assert.equal(rm.resource.attributes['telemetry.sdk.language'], 'go');
    assert.equal(rm.scopeMetrics[0].scope.name, 'go.opentelemetry.io/obi');
    assert.deepEqual(rm.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m.descriptor.unit, m.dataPointType, m.descriptor.valueType]), [
      ['traces.span.metrics.duration', 's', 0, 1], // HISTOGRAM, DOUBLE
      ['traces.span.metrics.calls', '', 3, 0], // SUM, INT
      ['traces_target_info', '', 2, 0], // GAUGE, INT
    ]);
    const calls = metric(rm, 'traces.span.metrics.calls') as SumMetricData;
    assert.equal(calls.isMonotonic, true);
    assert.equal(calls.aggregationTemporality, 1); // CUMULATIVE
    const base = { 'service.name': 'api', 'service.namespace': 'shop', 'service.instance.id': 'host1:42', 'span.name': 'GET /users/:id', source: 'obi', 'host.id': 'mid' };
    const byAttrs = (points: DataPoint<unknown>[]) => new Map(points.map((p) => [`${String(p.attributes['span.kind'])}|${String(p.attributes['status.code'])}`, p]));
    const callPoints = byAttrs(calls.dataPoints);
    assert.equal(callPoints.size, 3);
    assert.deepEqual(callPoints.get('SPAN_KIND_SERVER|STATUS_CODE_UNSET')!.attributes, { ...base, 'span.kind': 'SPAN_KIND_SERVER', 'status.code': 'STATUS_CODE_UNSET' });
    assert.equal(callPoints.get('SPAN_KIND_SERVER|STATUS_CODE_UNSET')!.value, 2);
    assert.equal(callPoints.get('SPAN_KIND_SERVER|STATUS_CODE_ERROR')!.value, 1);
    assert.deepEqual(callPoints.get('SPAN_KIND_CLIENT|STATUS_CODE_UNSET')!.attributes, { ...base, 'span.name': 'GET', 'span.kind': 'SPAN_KIND_CLIENT', 'status.code': 'STATUS_CODE_UNSET' });
    const durPoints = byAttrs((metric(rm, 'traces.span.metrics.duration') as MetricData).dataPoints as DataPoint<unknown>[]);
    const ok = durPoints.get('SPAN_KIND_SERVER|STATUS_CODE_UNSET')!.value as Histogram;
    assert.equal(ok.count, 2);
    assert.ok(Math.abs(ok.sum! - 0.06) < 1e-9);
    // bounds 0, 0.005, 0.01, 0.025, 0.05 …: both 30 ms spans in (0.025, 0.05]
    assert.deepEqual(ok.buckets.counts, [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const info = metric(rm, 'traces_target_info')!;
    assert.equal(info.dataPoints.length, 1);
    assert.equal(info.dataPoints[0].value, 1);
    assert.deepEqual(info.dataPoints[0].attributes, {
      'service.name': 'api',
      'service.instance.id': 'host1:42',
      'service.namespace': 'shop',
      'telemetry.sdk.language': 'go',
      'telemetry.sdk.name': 'opentelemetry',
      source: 'obi',
      'os.type': 'linux',
      'host.id': 'mid',
    });
  });

  test('application_span: the legacy names', () => {
    const { processor, exporter } = setup(['application_span']);
    processor.process([mkSpan()], 0);
    const rm = resourceOf(exporter.collect(), 'api');
    assert.deepEqual(
      rm.scopeMetrics[0].metrics.map((m) => m.descriptor.name),
      ['traces_spanmetrics_latency', 'traces_spanmetrics_calls_total', 'traces_target_info'],
    );
    assert.equal(metric(rm, 'traces_spanmetrics_latency')!.descriptor.unit, 's');
  });

  test('cumulative: later collections carry the running totals with the same start time', () => {
    let now = 1_700_000_000_000;
    const { processor, exporter } = setup(['application_span_otel'], () => now);
    processor.process([mkSpan()], 0);
    const first = metric(resourceOf(exporter.collect(), 'api'), 'traces.span.metrics.calls')!.dataPoints[0];
    now += 5000;
    processor.process([mkSpan(), mkSpan()], 1);
    const second = metric(resourceOf(exporter.collect(), 'api'), 'traces.span.metrics.calls')!.dataPoints[0];
    assert.equal(first.value, 1);
    assert.equal(second.value, 3);
    assert.deepEqual(second.startTime, first.startTime);
    assert.deepEqual(second.endTime, [1_700_000_005, 0]);
  });

  test('service graph: histograms in s and monotonic Sums, each series under the resource of the service whose spans made it', () => {
    const { processor, exporter } = setup(['application_service_graph']);
    processor.registerService(api);
    processor.registerService(worker);
    processor.registerService(backend);
    processor.process(
      [
        // api serves 10.0.0.1 (one failed)
        mkSpan({ seconds: 0.03 }),
        mkSpan({ seconds: 0.03, status: 'error' }),
        // api calls the instrumented backend: a client edge, counted on backend's server side
        mkSpan({ kind: 'client', seconds: 0.01 }),
        // worker calls an uninstrumented server: virtual_node, counted on the client
        mkSpan({ kind: 'client', service: worker, conn: { remoteAddr: '10.0.0.50', remotePort: 80 } }),
        mkSpan({ kind: 'client', service: worker, conn: { remoteAddr: '10.0.0.50', remotePort: 80 }, status: 'error' }),
        // a self reference: no series
        mkSpan({ conn: { remoteAddr: '10.0.0.2' } }),
      ],
      0,
    );
    const out = exporter.collect();
    // backend has only traces_target_info
    assert.deepEqual(out.map((r) => r.resource.attributes['service.name']).sort(), ['api', 'backend', 'worker']);
    const a = resourceOf(out, 'api');
    assert.deepEqual(a.scopeMetrics[0].metrics.map((m) => [m.descriptor.name, m.descriptor.unit, m.dataPointType]), [
      ['traces_service_graph_request_client', 's', 0],
      ['traces_service_graph_request_server', 's', 0],
      ['traces_service_graph_request_total', '', 3],
      ['traces_service_graph_request_failed_total', '', 3],
      ['traces_target_info', '', 2],
    ]);
    const edge = { client: '10.0.0.1', client_service_namespace: '', server: 'api', server_service_namespace: 'shop', source: 'obi' };
    const server = metric(a, 'traces_service_graph_request_server')!;
    assert.equal(server.dataPoints.length, 1);
    assert.deepEqual(server.dataPoints[0].attributes, edge);
    assert.equal((server.dataPoints[0].value as Histogram).count, 2);
    const client = metric(a, 'traces_service_graph_request_client')!;
    assert.deepEqual(client.dataPoints.map((p) => [p.attributes, (p.value as Histogram).count]), [
      [{ client: 'api', client_service_namespace: 'shop', server: 'backend', server_service_namespace: 'shop', source: 'obi' }, 1],
    ]);
    const total = metric(a, 'traces_service_graph_request_total') as SumMetricData;
    assert.equal(total.isMonotonic, true);
    assert.deepEqual(total.dataPoints.map((p) => [p.attributes, p.value]), [[edge, 2]]);
    assert.deepEqual(metric(a, 'traces_service_graph_request_failed_total')!.dataPoints.map((p) => [p.attributes, p.value]), [[edge, 1]]);
    const w = resourceOf(out, 'worker');
    assert.equal(w.resource.attributes['service.instance.id'], 'host1:77');
    assert.equal(w.resource.attributes['telemetry.sdk.language'], 'python');
    const virtual = { client: 'worker', client_service_namespace: '', server: '10.0.0.50', server_service_namespace: '', source: 'obi', connection_type: 'virtual_node' };
    assert.deepEqual(metric(w, 'traces_service_graph_request_client')!.dataPoints.map((p) => [p.attributes, (p.value as Histogram).count]), [[virtual, 2]]);
    assert.deepEqual(metric(w, 'traces_service_graph_request_total')!.dataPoints.map((p) => [p.attributes, p.value]), [[virtual, 2]]);
    assert.deepEqual(metric(w, 'traces_service_graph_request_failed_total')!.dataPoints.map((p) => [p.attributes, p.value]), [[virtual, 1]]);
    assert.equal(metric(w, 'traces_service_graph_request_server'), undefined);
    assert.deepEqual(resourceOf(out, 'backend').scopeMetrics[0].metrics.map((m) => m.descriptor.name), ['traces_target_info']);
  });

  test('a service that went away: its series keep a resource named from the labels; its traces_target_info goes', () => {
    const { processor, exporter } = setup(['application_service_graph']);
    processor.process([mkSpan()], 0);
    processor.removeService(api);
    const out = exporter.collect();
    assert.equal(out.length, 1);
    assert.equal(out[0].resource.attributes['service.name'], 'api');
    assert.equal(out[0].resource.attributes['service.namespace'], 'shop');
    assert.equal(out[0].resource.attributes['service.instance.id'], 'shop/api');
    assert.equal(metric(out[0], 'traces_target_info'), undefined);
    assert.equal(metric(out[0], 'traces_service_graph_request_total')!.dataPoints[0].value, 1);
  });

  test('expired series (TTL) are no longer exported', () => {
    const registry = new ScrapableStore();
    const red = new RedMetrics(registry);
    const processor = new SpanProcessor(registry, red, { features: ['application_span_otel', 'application_service_graph'], ttlMs: 1000 });
    const exporter = new OtlpMetricsExporter({
      sender: new ScriptedSender<ResourceMetrics>(),
      metrics: red,
      resources: new ResourceCache({ host: { hostName: 'h', hostId: 'm' }, version: '0' }),
      application: false,
    });
    const [h, c] = spanMetricsSources(processor.spanMetrics!, 'm', undefined, (id) => processor.service(id));
    exporter.addHistogram(h);
    exporter.addCounter(c);
    for (const x of serviceGraphSources(processor.serviceGraph!, (n, ns) => processor.serviceNamed(n, ns)).counters) exporter.addCounter(x);
    processor.process([mkSpan()], 0);
    processor.process([mkSpan({ service: worker })], 1500);
    processor.expire(2100);
    const names = exporter.collect().map((r) => [r.resource.attributes['service.name'], r.scopeMetrics[0].metrics.map((m) => m.descriptor.name)]);
    assert.deepEqual(names, [['worker', ['traces.span.metrics.duration', 'traces.span.metrics.calls', 'traces_service_graph_request_total']]]);
  });
});

test('no host id: span-metric points and traces_target_info carry no host.id at all (never an empty one)', () => {
  const { processor } = setup(['application_span']);
  const [duration, calls] = spanMetricsSources(processor.spanMetrics!, '');
  assert.deepEqual(duration.constAttributes, {});
  assert.deepEqual(calls.constAttributes, {});
  const info = tracesTargetInfoSource(() => [backend], '');
  const points = [...info.points()];
  assert.equal(points.length, 1);
  assert.equal('host.id' in points[0].attributes, false);
  const withId = [...tracesTargetInfoSource(() => [backend], 'mid').points()];
  assert.equal(withId[0].attributes['host.id'], 'mid');
});
