/**
 * OTLP export end to end on the real kernel: a Node.js server traced by the agent, curl
 * clients, and the test OTLP receiver decoding the real protobuf / JSON / gRPC requests. One
 * agent per protocol (http/protobuf, http/json, grpc), each exporting traces and metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readHostId } from '../../src/export/otlp/host.ts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, sleep, startProcess, waitForPort, type Proc } from '../helpers/harness.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-server.mjs');
/** the agent's own resolution (host.test.ts tests it); '' on a machine without any id, then omitted */
const machineId = readHostId();
const DURATION_BOUNDS = [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const SIZE_BOUNDS = [0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

describe('OTLP export: traces and metrics from the agent to a real OTLP receiver', () => {
  let rx: OtlpReceiver;
  let srv: Proc;
  let port: number;

  before(async () => {
    rx = await OtlpReceiver.start();
    port = await freePort();
    // the service names itself the OpenTelemetry way; the agent must honour it
    srv = startProcess(nodeBin, [app, String(port)], {
      env: { ...process.env, OTEL_SERVICE_NAME: 'orders', OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop,deployment.environment.name=ci' },
    });
    await waitForPort(port);
  });

  after(async () => {
    await srv?.kill();
    await rx?.close();
  });

  for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
    test(`over ${protocol}`, async () => {
      rx.clear();
      const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${rx.grpcPort}` : `http://127.0.0.1:${rx.httpPort}`;
      const agent = await TestAgent.start({
        OTEL_EBPF_OPEN_PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_HEADERS: `x-obi-test=${encodeURIComponent(protocol)}`,
        OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
        OTEL_EBPF_METRICS_INTERVAL: '200ms',
      });
      try {
        await agent.waitTracked(srv.pid);
        const t0 = BigInt(Date.now()) * 1_000_000n;
        const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
        const parents = ['00f067aa0ba902b1', '00f067aa0ba902b2', '00f067aa0ba902b3'];
        for (const p of parents) await run('curl', ['-sf', '-o', '/dev/null', '-H', `traceparent: 00-${trace}-${p}-01`, `http://127.0.0.1:${port}/hello`]);
        for (let i = 0; i < 2; i++) await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/status/503`]);
        await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/proxy?port=${port}&path=/users/7`]);

        // 3 + 2 + proxy (server) + its fetch (client) + /users/7 (server) = 8 spans, exactly once each
        const spans = await rx.waitSpans(8, () => true, 15_000);
        await sleep(300);
        assert.equal(rx.spans.length, 8, JSON.stringify(rx.spans.map((s) => s.name)));
        const t1 = BigInt(Date.now()) * 1_000_000n;
        assert.equal(new Set(spans.map((s) => s.spanId)).size, 8);
        for (const s of spans) {
          assert.equal(s.protocol, protocol);
          assert.equal(s.scope.name, 'go.opentelemetry.io/obi');
          assert.deepEqual(s.resource, {
            'service.name': 'orders',
            'telemetry.sdk.language': 'nodejs',
            'telemetry.sdk.name': 'opentelemetry',
            'telemetry.sdk.version': '0.1.0',
            'telemetry.distro.name': 'obi-ts',
            'telemetry.distro.version': '0.1.0',
            'host.name': hostname(),
            ...(machineId ? { 'host.id': machineId } : {}),
            'os.type': 'linux',
            'service.namespace': 'shop',
            'service.instance.id': `${hostname()}:${srv.pid}`,
            'deployment.environment.name': 'ci',
          });
          assert.ok(s.startTimeUnixNano >= t0 - 1_000_000n && s.endTimeUnixNano <= t1, `span times ${s.startTimeUnixNano}..${s.endTimeUnixNano} not in ${t0}..${t1}`);
          assert.ok(s.endTimeUnixNano >= s.startTimeUnixNano);
          assert.match(s.traceId, /^[0-9a-f]{32}$/);
          assert.match(s.spanId, /^[0-9a-f]{16}$/);
        }

        const hello = spans.filter((s) => s.name === 'GET /hello');
        assert.equal(hello.length, 3);
        assert.deepEqual(hello.map((s) => s.parentSpanId).sort(), parents);
        for (const s of hello) {
          assert.equal(s.kind, 2); // SERVER
          assert.equal(s.traceId, trace);
          assert.equal(s.flags & 0xff, 1);
          assert.deepEqual(s.status, { code: 0, message: '' });
          assert.equal(s.attributes['http.request.method'], 'GET');
          assert.equal(s.attributes['http.response.status_code'], 200);
          assert.equal(s.attributes['url.path'], '/hello');
          assert.equal(s.attributes['url.scheme'], 'http');
          assert.equal(s.attributes['http.route'], '/hello');
          assert.equal(s.attributes['server.port'], port);
          assert.equal(s.attributes['client.address'], '127.0.0.1');
          assert.equal(s.attributes['http.response.body.size'], 12);
        }
        const failed = spans.filter((s) => s.name === 'GET /status/*');
        assert.equal(failed.length, 2);
        for (const s of failed) {
          assert.equal(s.kind, 2);
          assert.equal(s.status.code, 2); // ERROR
          assert.equal(s.attributes['http.response.status_code'], 503);
          assert.equal(s.parentSpanId, '');
          assert.notEqual(s.traceId, trace);
        }
        const byKind = (name: string, kind: number): ReceivedSpan[] => spans.filter((s) => s.name === name && s.kind === kind);
        assert.equal(byKind('GET /proxy', 2).length, 1);
        const [client] = byKind('GET /users/*', 3);
        assert.ok(client, 'client span');
        assert.equal(client.attributes['url.full'], `http://127.0.0.1:${port}/users/7`);
        assert.equal(client.attributes['server.port'], port);
        assert.equal(client.attributes['http.response.status_code'], 200);
        assert.equal(byKind('GET /users/*', 2).length, 1);

        // metrics: cumulative histograms with OTel names, units and OBI's default buckets
        const helloDur = await rx.waitPoint('http.server.request.duration', (p) => p.attributes['http.route'] === '/hello' && p.count === 3);
        assert.equal(helloDur.metric.unit, 's');
        assert.equal(helloDur.metric.type, 'histogram');
        assert.equal(helloDur.metric.temporality, 2);
        assert.equal(helloDur.metric.scope.name, 'go.opentelemetry.io/obi');
        assert.equal(helloDur.metric.resource['service.name'], 'orders');
        assert.equal(helloDur.metric.resource['service.instance.id'], `${hostname()}:${srv.pid}`);
        assert.deepEqual(helloDur.point.explicitBounds, DURATION_BOUNDS);
        assert.equal(helloDur.point.bucketCounts.length, DURATION_BOUNDS.length + 1);
        assert.equal(sum(helloDur.point.bucketCounts), 3);
        assert.ok(helloDur.point.sum! > 0 && helloDur.point.sum! < 3);
        assert.deepEqual(helloDur.point.attributes, {
          'http.request.method': 'GET',
          'http.response.status_code': 200,
          'http.route': '/hello',
          'server.address': '127.0.0.1',
          'server.port': port,
          'service.name': 'orders',
          'service.namespace': 'shop',
          'url.scheme': 'http',
        });
        const helloSize = await rx.waitPoint('http.server.response.body.size', (p) => p.attributes['http.route'] === '/hello' && p.count === 3);
        assert.equal(helloSize.metric.unit, 'By');
        assert.deepEqual(helloSize.point.explicitBounds, SIZE_BOUNDS);
        assert.deepEqual(helloSize.point.bucketCounts, [0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // 12 B each: (0, 32]
        assert.equal(helloSize.point.sum, 36);
        const err = await rx.waitPoint('http.server.request.duration', (p) => p.attributes['http.response.status_code'] === 503);
        assert.equal(err.point.count, 2);
        assert.equal(err.point.attributes['http.route'], '/status/*');
        const cl = await rx.waitPoint('http.client.request.duration', () => true);
        assert.equal(cl.point.count, 1);
        assert.equal(cl.point.attributes['server.port'], port);
        assert.equal(cl.metric.resource['service.name'], 'orders');

        for (const r of rx.requests) assert.equal(r.headers['x-obi-test'], protocol);
        assert.ok(rx.requests.some((r) => r.signal === 'traces') && rx.requests.some((r) => r.signal === 'metrics'));
        assert.equal(await agent.metricValue('obi_otel_trace_exports_total', {}), 8);
        assert.ok((await agent.metricValue('obi_otel_metric_exports_total', {}))! >= 4);
        assert.equal(await agent.metricValue('obi_otel_trace_export_errors_total', {}), undefined);
      } finally {
        await agent.stop();
      }
    });
  }
});
