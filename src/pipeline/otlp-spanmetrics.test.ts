/**
 * Span metrics, service graph and traces_target_info over OTLP, from the configuration through
 * createOtlpExport to a real OTLP receiver (the unit tests of the sources are in
 * src/export/otlp/spanmetrics.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { OtlpReceiver } from '../../test/helpers/otlp-receiver.ts';
import type { ReceivedMetric } from '../../test/helpers/otlp-receiver.ts';
import { api, mkSpan } from '../../test/helpers/spans.ts';
import { loadConfig } from '../config/index.ts';
import { MonoClock } from '../telemetry/clock.ts';
import { InternalMetrics } from '../telemetry/internal.ts';
import { RedMetrics } from '../telemetry/metrics.ts';
import { SpanProcessor } from '../telemetry/processor.ts';
import { createOtlpExport } from './otlp.ts';

describe('span metrics over OTLP from configuration to a real receiver', () => {
  let rx: OtlpReceiver;
  before(async () => {
    rx = await OtlpReceiver.start();
  });
  after(async () => {
    await rx.close();
  });

  const find = (name: string): ReceivedMetric | undefined => rx.metrics.find((m) => m.name === name);

  for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
    test(`span metrics, service graph and traces_target_info over ${protocol}, without the application feature`, async () => {
      rx.clear();
      const config = loadConfig({
        env: {
          OTEL_EBPF_OPEN_PORT: '8080',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: protocol === 'grpc' ? `http://127.0.0.1:${rx.grpcPort}` : `http://127.0.0.1:${rx.httpPort}/v1/metrics`,
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_EBPF_METRICS_FEATURES: 'application_span_otel,application_service_graph',
          OTEL_EBPF_METRICS_INTERVAL: '1h',
        },
      });
      const registry = new ScrapableStore();
      const red = new RedMetrics(registry);
      const otlp = createOtlpExport({ config, metrics: red, internal: new InternalMetrics(registry), store: registry, clock: new MonoClock(), log: { info: () => {}, warn: () => {} }, hostName: 'host1', hostId: 'mid', dbInstrumentations: ['sql', 'redis', 'memcached'] });
      assert.ok(otlp?.metrics);
      const processor = new SpanProcessor(registry, red, { features: config.metricFeatures });
      otlp.addSpanMetrics(processor);
      processor.registerService(api);
      processor.process([mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 0.03 }), mkSpan({ seconds: 0.3, status: 'error' })], 0);
      await otlp.shutdown(); // the final round
      assert.deepEqual(rx.metrics.map((m) => [m.protocol, m.name, m.unit, m.type, m.temporality, m.monotonic]), [
        [protocol, 'traces.span.metrics.duration', 's', 'histogram', 2, false],
        [protocol, 'traces.span.metrics.calls', '', 'sum', 2, true],
        [protocol, 'traces_service_graph_request_server', 's', 'histogram', 2, false],
        [protocol, 'traces_service_graph_request_total', '', 'sum', 2, true],
        [protocol, 'traces_service_graph_request_failed_total', '', 'sum', 2, true],
        [protocol, 'traces_target_info', '', 'gauge', 0, false],
      ]);
      const calls = find('traces.span.metrics.calls')!;
      assert.equal(calls.resource['service.name'], 'api');
      assert.equal(calls.resource['service.instance.id'], 'host1:42');
      assert.deepEqual(calls.dataPoints.map((p) => [p.attributes['status.code'], p.value]).sort(), [
        ['STATUS_CODE_ERROR', 1],
        ['STATUS_CODE_UNSET', 2],
      ]);
      assert.deepEqual(calls.dataPoints[0].attributes, {
        'service.name': 'api',
        'service.namespace': 'shop',
        'span.name': 'GET /users/:id',
        'status.code': calls.dataPoints[0].attributes['status.code'],
        'span.kind': 'SPAN_KIND_SERVER',
        'service.instance.id': 'host1:42',
        source: 'obi',
        'host.id': 'mid',
      });
      const dur = find('traces.span.metrics.duration')!.dataPoints.find((p) => p.attributes['status.code'] === 'STATUS_CODE_UNSET')!;
      assert.equal(dur.count, 2);
      assert.deepEqual(dur.bucketCounts, [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const edge = { client: '10.0.0.1', client_service_namespace: '', server: 'api', server_service_namespace: 'shop', source: 'obi' };
      const srv = find('traces_service_graph_request_server')!;
      assert.deepEqual(srv.dataPoints.map((p) => [p.attributes, p.count]), [[edge, 3]]);
      assert.deepEqual(find('traces_service_graph_request_total')!.dataPoints.map((p) => [p.attributes, p.value]), [[edge, 3]]);
      assert.deepEqual(find('traces_service_graph_request_failed_total')!.dataPoints.map((p) => [p.attributes, p.value]), [[edge, 1]]);
      const info = find('traces_target_info')!;
      assert.deepEqual(info.dataPoints.map((p) => [p.value, p.attributes['telemetry.sdk.language'], p.attributes['service.instance.id']]), [[1, 'go', 'host1:42']]);
      assert.equal(find('http.server.request.duration'), undefined);
    });
  }
});
