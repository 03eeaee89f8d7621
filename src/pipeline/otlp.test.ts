/**
 * The OTLP exporters built from configuration, sending to the test receiver (real protobuf,
 * JSON and gRPC decoding) over loopback: no kernel needed.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { OtlpReceiver } from '../../test/helpers/otlp-receiver.ts';
import { loadConfig } from '../config/index.ts';
import { MonoClock } from '../telemetry/clock.ts';
import { InternalMetrics } from '../telemetry/internal.ts';
import { DbMetrics } from '../telemetry/db.ts';
import { createGenaiMetrics } from '../telemetry/genai.ts';
import { MessagingMetrics } from '../telemetry/messaging.ts';
import { RedMetrics } from '../telemetry/metrics.ts';
import { OBI_TS_VERSION } from '../version.ts';
import { createOtlpExport } from './otlp.ts';
import { TEST_SERVICE, testSpan } from '../../test/helpers/otlp-testing.ts';

const quiet = { info: () => {}, warn: () => {} };

function build(env: Record<string, string>) {
  const config = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '8080', ...env } });
  const registry = new ScrapableStore();
  const metrics = new RedMetrics(registry);
  const internal = new InternalMetrics(registry);
  const otlp = createOtlpExport({ config, metrics, internal, store: registry, clock: new MonoClock(), log: quiet, hostName: 'testhost', hostId: 'machine-1', dbInstrumentations: ['sql', 'redis', 'memcached'], messagingInstrumentations: ['kafka', 'amqp', 'nats', 'mqtt'] });
  return { otlp, metrics, registry, config };
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('OTLP export from configuration to a real receiver', () => {
  let rx: OtlpReceiver;
  before(async () => {
    rx = await OtlpReceiver.start();
  });
  after(async () => {
    await rx.close();
  });

  test('no endpoint: no exporter', () => {
    assert.equal(build({ OTEL_EBPF_TRACE_PRINTER: 'json' }).otlp, undefined);
  });

  for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
    test(`traces and metrics over ${protocol}, with headers, resource and scope`, async () => {
      rx.clear();
      const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${rx.grpcPort}` : `http://127.0.0.1:${rx.httpPort}`;
      const { otlp, metrics } = build({
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cret,x-tenant=t%201',
        OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '10ms',
        OTEL_EBPF_METRICS_INTERVAL: '50ms',
      });
      assert.ok(otlp?.traces && otlp.metrics);
      otlp.start();
      const spans = [
        testSpan({ name: 'GET /a', parentSpanId: 'aa'.repeat(8), attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'server.port': 8080 } }),
        testSpan({ name: 'POST /b', kind: 'client', status: 'error', attributes: { 'http.request.method': 'POST', 'http.response.status_code': 503 } }),
      ];
      metrics.recordAll(spans);
      otlp.offer(spans);
      const got = await rx.waitSpans(2);
      assert.deepEqual(got.map((s) => [s.protocol, s.name, s.kind, s.status.code, s.traceId, s.spanId, s.parentSpanId]), [
        [protocol, 'GET /a', 2, 0, spans[0].traceId, spans[0].spanId, 'aa'.repeat(8)],
        [protocol, 'POST /b', 3, 2, spans[1].traceId, spans[1].spanId, ''],
      ]);
      assert.equal(got[0].attributes['http.response.status_code'], 200);
      assert.equal(got[0].attributes['server.port'], 8080);
      assert.equal(got[0].endTimeUnixNano - got[0].startTimeUnixNano, 2_000_000n);
      assert.equal(got[0].scope.name, 'go.opentelemetry.io/obi');
      assert.deepEqual(got[0].resource, {
        'service.name': 'svc',
        'telemetry.sdk.language': 'go',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': OBI_TS_VERSION,
        'telemetry.distro.name': 'obi-ts',
        'telemetry.distro.version': OBI_TS_VERSION,
        'host.name': 'testhost',
        'host.id': 'machine-1',
        'os.type': 'linux',
        'service.namespace': 'ns',
        'service.instance.id': TEST_SERVICE.instanceId,
      });
      const { metric, point } = await rx.waitPoint('http.server.request.duration', (p) => p.count === 1);
      assert.equal(metric.unit, 's');
      assert.equal(metric.type, 'histogram');
      assert.equal(metric.temporality, 2);
      assert.equal(metric.resource['service.name'], 'svc');
      assert.equal(point.attributes['http.response.status_code'], 200);
      assert.equal(point.attributes['service.name'], 'svc');
      assert.equal('job' in point.attributes || 'instance' in point.attributes, false);
      assert.deepEqual(point.explicitBounds, [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
      assert.deepEqual(point.bucketCounts, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      assert.ok(Math.abs(point.sum! - 0.002) < 1e-12);
      const client = await rx.waitPoint('http.client.request.duration', () => true);
      assert.equal(client.point.attributes['http.response.status_code'], 503);
      await otlp.shutdown();
      const traceReq = rx.requests.find((r) => r.signal === 'traces')!;
      assert.equal(traceReq.headers['x-api-key'], 's3cret');
      assert.equal(traceReq.headers['x-tenant'], 't 1');
      assert.equal(traceReq.path, protocol === 'grpc' ? '/opentelemetry.proto.collector.trace.v1.TraceService/Export' : '/v1/traces');
      assert.ok(rx.requests.some((r) => r.signal === 'metrics' && r.headers['x-api-key'] === 's3cret'));
    });
  }

  test('db.client.operation.duration is exported next to the HTTP metrics', async () => {
    rx.clear();
    const { otlp, registry } = build({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${rx.httpPort}/v1/metrics`, OTEL_EBPF_METRICS_INTERVAL: '1h' });
    const db = new DbMetrics(registry);
    otlp!.addDbMetrics(db);
    const redis = (ms: number) =>
      testSpan({ protocol: 'redis', kind: 'client', startNs: 0, endNs: ms * 1e6, attributes: { 'db.system.name': 'redis', 'db.operation.name': 'GET', 'server.address': '127.0.0.1', 'server.port': 6379 } });
    db.recordAll([redis(1), redis(2), redis(30)]);
    await otlp!.shutdown();
    const [{ metric, point }] = rx.latestPoints('db.client.operation.duration');
    assert.equal(metric.unit, 's');
    assert.equal(metric.resource['service.name'], 'svc');
    assert.equal(point.count, 3);
    assert.deepEqual(point.bucketCounts, [0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(point.attributes, { 'db.operation.name': 'GET', 'db.system.name': 'redis', 'error.type': '', 'server.address': '127.0.0.1', 'service.name': 'svc', 'service.namespace': 'ns' });
  });

  test('gen_ai.client.operation.duration and gen_ai.client.token.usage: semconv bounds, empty attributes left out, only with genai listed', async () => {
    rx.clear();
    const env = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${rx.httpPort}/v1/metrics`, OTEL_EBPF_METRICS_INTERVAL: '1h' };
    const off = build({ ...env, OTEL_EBPF_METRICS_INSTRUMENTATIONS: 'http' });
    const none = createGenaiMetrics(off.registry);
    off.otlp!.addGenaiMetrics(none); // neither `genai` nor `*` in otel_metrics_export.instrumentations: not exported
    const { otlp, registry } = build({ ...env, OTEL_EBPF_METRICS_INSTRUMENTATIONS: 'http,genai' });
    const m = createGenaiMetrics(registry);
    otlp!.addGenaiMetrics(m);
    const call = (ms: number, input: number, output: number | undefined, error?: string) =>
      testSpan({
        protocol: 'http',
        category: 'genai',
        kind: 'client',
        startNs: 0,
        endNs: ms * 1e6,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          ...(error === undefined ? { 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18' } : { 'error.type': error }),
          'gen_ai.usage.input_tokens': input,
          ...(output === undefined ? {} : { 'gen_ai.usage.output_tokens': output }),
          'server.address': 'api.openai.com',
          'server.port': 443,
        },
      });
    const spans = [call(15, 10, 100), call(300, 20, 3000), call(5, 7, undefined, 'invalid_request_error')];
    for (const r of [none.duration, none.tokens, m.duration, m.tokens]) r.recordAll(spans);
    await off.otlp!.shutdown();
    assert.equal(rx.latestPoints('gen_ai.client.operation.duration').length, 0);
    await otlp!.shutdown();
    const dur = rx.latestPoints('gen_ai.client.operation.duration');
    assert.equal(dur.length, 2);
    const ok = dur.find((d) => d.point.attributes['error.type'] === undefined)!;
    assert.equal(ok.metric.unit, 's');
    assert.equal(ok.point.count, 2);
    assert.deepEqual(ok.point.explicitBounds, [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]);
    assert.deepEqual(ok.point.bucketCounts, [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ok.point.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'server.address': 'api.openai.com',
      'server.port': 443,
      'service.name': 'svc',
      'service.namespace': 'ns',
    });
    const err = dur.find((d) => d.point.attributes['error.type'] !== undefined)!;
    assert.equal(err.point.attributes['error.type'], 'invalid_request_error');
    assert.equal(err.point.attributes['gen_ai.response.model'], undefined);
    const tokens = rx.latestPoints('gen_ai.client.token.usage');
    const of = (type: string) => tokens.filter((t) => t.point.attributes['gen_ai.token.type'] === type);
    assert.equal(tokens[0].metric.unit, '{token}');
    assert.deepEqual(tokens[0].point.explicitBounds, [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]);
    assert.equal(of('input').reduce((a, t) => a + t.point.count, 0), 3);
    assert.equal(of('input').reduce((a, t) => a + (t.point.sum ?? 0), 0), 37);
    assert.equal(of('output').reduce((a, t) => a + t.point.count, 0), 2);
    assert.equal(of('output').reduce((a, t) => a + (t.point.sum ?? 0), 0), 3100);
  });

  test('messaging.client.operation.duration and messaging.process.duration are exported', async () => {
    rx.clear();
    const { otlp, registry } = build({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${rx.httpPort}/v1/metrics`, OTEL_EBPF_METRICS_INTERVAL: '1h' });
    const pub = new MessagingMetrics(registry, 'client');
    const proc = new MessagingMetrics(registry, 'process');
    otlp!.addMessagingMetrics(pub);
    otlp!.addMessagingMetrics(proc);
    const attributes = { 'messaging.system': 'nats', 'messaging.operation.type': 'publish', 'messaging.operation.name': 'publish', 'messaging.destination.name': 'a.b', 'server.address': '127.0.0.1' };
    const spans = [
      testSpan({ protocol: 'nats', kind: 'producer', startNs: 0, endNs: 1e6, attributes }),
      testSpan({ protocol: 'nats', kind: 'producer', startNs: 0, endNs: 30e6, attributes }),
      testSpan({ protocol: 'nats', kind: 'consumer', startNs: 0, endNs: 2e6, attributes: { ...attributes, 'messaging.operation.type': 'process', 'messaging.operation.name': 'process' } }),
    ];
    pub.recordAll(spans);
    proc.recordAll(spans);
    await otlp!.shutdown();
    const [{ metric, point }] = rx.latestPoints('messaging.client.operation.duration');
    assert.equal(metric.unit, 's');
    assert.equal(point.count, 2);
    assert.deepEqual(point.bucketCounts, [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(point.attributes, {
      'messaging.destination.name': 'a.b',
      'messaging.operation.name': 'publish',
      'messaging.system': 'nats',
      'server.address': '127.0.0.1',
      'service.name': 'svc',
      'service.namespace': 'ns',
    });
    const [processed] = rx.latestPoints('messaging.process.duration');
    assert.equal(processed.point.count, 1);
    assert.equal(processed.point.attributes['messaging.operation.name'], 'process');
  });

  test('exponential histograms arrive as OTLP ExponentialHistogram points', async () => {
    rx.clear();
    const { otlp, metrics } = build({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${rx.httpPort}/v1/metrics`,
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      OTEL_EBPF_METRICS_INTERVAL: '1h',
    });
    assert.equal(otlp?.traces, undefined);
    for (const ms of [1, 2, 4, 1000]) metrics.record(testSpan({ startNs: 0, endNs: ms * 1e6 }));
    await otlp!.shutdown(); // the final round
    const [{ metric, point }] = rx.latestPoints('http.server.request.duration');
    assert.equal(metric.type, 'exponentialHistogram');
    assert.equal(point.count, 4);
    assert.equal(point.positive.bucketCounts.reduce((a, b) => a + b, 0), 4);
    assert.ok(point.scale >= 0 && point.scale <= 20);
    assert.equal(point.min, 0.001);
    assert.equal(point.max, 1);
  });

  test('shutdown with a collector that never answers is bounded by shutdown_timeout', async () => {
    const port = await freePort();
    // the library retries a refused connection within its per-request timeout: 1.5 s here
    // (not the default 10 s, which would only keep this test process alive longer)
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '1500';
    const { otlp } = build({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EBPF_SHUTDOWN_TIMEOUT: '300ms',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '1h',
    });
    delete process.env.OTEL_EXPORTER_OTLP_TIMEOUT;
    otlp!.offer([testSpan()]);
    const t0 = performance.now();
    await otlp!.shutdown();
    const took = performance.now() - t0;
    // without the bound it would wait for the library's retries (1.5 s here, 10 s by default)
    assert.ok(took >= 290 && took < 1200, `shutdown took ${took} ms`);
  });

  test('collector down, then up: queued spans are delivered once it is back, drops counted', async () => {
    const port = await freePort();
    process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '300';
    const { otlp, registry } = build({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
      OTEL_EBPF_OTLP_TRACES_MAX_QUEUE_SIZE: '30',
      OTEL_EBPF_OTLP_TRACES_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '10ms',
      OTEL_EBPF_BACKOFF_INITIAL_INTERVAL: '20ms',
      OTEL_EBPF_BACKOFF_MAX_INTERVAL: '50ms',
      OTEL_EBPF_BACKOFF_MAX_ELAPSED_TIME: '0s',
    });
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
    const traces = otlp!.traces!;
    const spans = Array.from({ length: 100 }, () => testSpan());
    otlp!.offer(spans.slice(0, 10));
    while (traces.stats().errors < 2) await new Promise((r) => setTimeout(r, 5));
    otlp!.offer(spans.slice(10));
    // 10 pending + 30 queued kept, 60 dropped
    assert.equal(traces.stats().droppedQueueFull, 60);
    const up = await OtlpReceiver.start({ httpPort: port, grpcPort: false });
    try {
      const got = await up.waitSpans(40);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(up.spans.length, 40);
      assert.deepEqual(new Set(got.map((s) => s.spanId)), new Set([...spans.slice(0, 10), ...spans.slice(10, 40)].map((s) => s.spanId)));
      const text = await registry.metrics();
      assert.match(text, /obi_spans_dropped_total\{reason="queue_full"\} 60/);
      assert.match(text, /obi_otel_trace_exports_total 40/);
      assert.match(text, /obi_otel_trace_export_errors_total\{error="ECONNREFUSED"\} [1-9]/);
    } finally {
      await otlp!.shutdown();
      await up.close();
    }
  });
});
