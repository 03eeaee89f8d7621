/**
 * The collector is down while traffic is traced, then comes up on the same port: the agent's
 * span queue stays within its bound (queue + one batch), the excess is dropped and counted,
 * failed requests are counted by error type, and export resumes by itself (the retained
 * spans, then new ones; cumulative metrics include everything).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, sleep, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-server.mjs');
const fetchClient = join(import.meta.dirname, '../helpers/apps/fetch-client.mjs');
const QUEUE = 100;
const BATCH = 50;
const REQUESTS = 400;

describe('OTLP: collector down for a while, then up', () => {
  let srv: Proc;
  let port: number;
  let collectorPort: number;
  let agent: TestAgent;
  let rx: OtlpReceiver | undefined;

  before(async () => {
    port = await freePort();
    collectorPort = await freePort(); // nothing listens there yet
    srv = startProcess(nodeBin, [app, String(port)]);
    await waitForPort(port);
    // per-request timeout of the OTLP library (standard env var, read when the exporter is built):
    // a refused connection then fails in milliseconds instead of after 10 s of in-request retries
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '300';
    try {
      agent = await TestAgent.start({
        OTEL_EBPF_OPEN_PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EBPF_OTLP_TRACES_MAX_QUEUE_SIZE: String(QUEUE),
        OTEL_EBPF_OTLP_TRACES_MAX_EXPORT_BATCH_SIZE: String(BATCH),
        OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '1s', // the first batch leaves full (BATCH spans arrive well within 1 s)
        OTEL_EBPF_BACKOFF_INITIAL_INTERVAL: '100ms',
        OTEL_EBPF_BACKOFF_MAX_INTERVAL: '300ms',
        OTEL_EBPF_BACKOFF_MAX_ELAPSED_TIME: '0s',
        OTEL_EBPF_METRICS_INTERVAL: '200ms',
        // the order spans are offered to the queue is asserted below: keep the Node.js context
        // linker (which may hold a span for its report and let later ones pass) out of this test
        OTEL_EBPF_NODEJS_ENABLED: 'false',
      });
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_TIMEOUT;
    }
    await agent.waitTracked(srv.pid);
  });

  after(async () => {
    await agent?.stop();
    await srv?.kill();
    await rx?.close();
  });

  test('bounded queue, counted drops and errors, then export resumes', async () => {
    const urls = Array.from({ length: REQUESTS }, (_, i) => `http://127.0.0.1:${port}/users/${i}`);
    const out = await run(nodeBin, [fetchClient, ...urls]);
    assert.equal(out.trim().split(' ').length, REQUESTS);
    await agent.waitSpans(REQUESTS, (s) => s.kind === 'server' && s.name === 'GET /users/*', 15_000);

    // down: one batch is held for retry, the queue holds QUEUE more, the rest is dropped
    await waitFor('failed trace and metric exports', async () =>
      ((await agent.metricValue('obi_otel_trace_export_errors_total', { error: 'ECONNREFUSED' })) ?? 0) >= 2 &&
      ((await agent.metricValue('obi_otel_metric_export_errors_total', { error: 'ECONNREFUSED' })) ?? 0) >= 1, 10_000);
    assert.equal(await agent.metricValue('obi_spans_dropped_total', { reason: 'queue_full' }), REQUESTS - QUEUE - BATCH);
    assert.equal(await agent.metricValue('obi_otel_trace_exports_total', {}), 0);
    assert.equal(await agent.metricValue('obi_otel_metric_exports_total', {}), 0);
    const rss = process.memoryUsage().rss;
    await sleep(500); // still down: retries go on, nothing grows
    assert.equal(await agent.metricValue('obi_spans_dropped_total', { reason: 'queue_full' }), REQUESTS - QUEUE - BATCH);
    assert.ok(process.memoryUsage().rss - rss < 32 * 1024 * 1024);

    // up on the same port: the retained spans arrive, exactly once, by the agent's own retries
    rx = await OtlpReceiver.start({ httpPort: collectorPort, grpcPort: false });
    const got = await rx.waitSpans(QUEUE + BATCH, () => true, 10_000);
    await sleep(300);
    assert.equal(rx.spans.length, QUEUE + BATCH);
    assert.equal(new Set(got.map((s) => s.spanId)).size, QUEUE + BATCH);
    assert.ok(got.every((s) => s.name === 'GET /users/*' && s.kind === 2));
    // the oldest spans were kept (the newest dropped): the first BATCH + QUEUE paths, in order
    assert.deepEqual(got.map((s) => s.attributes['url.path']), urls.slice(0, QUEUE + BATCH).map((u) => new URL(u).pathname));
    assert.equal(await agent.metricValue('obi_otel_trace_exports_total', {}), QUEUE + BATCH);

    // metrics are cumulative: every request is in them, dropped spans or not
    const { point } = await rx.waitPoint('http.server.request.duration', (p) => p.attributes['http.route'] === '/users/*' && p.count === REQUESTS, 5_000);
    assert.equal(point.bucketCounts.reduce((a, b) => a + b, 0), REQUESTS);

    // and new traffic flows straight through
    rx.clear();
    for (let i = 0; i < 3; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/hello`]);
    const fresh = await rx.waitSpans(3, (s) => s.name === 'GET /hello', 5_000);
    assert.equal(fresh.length, 3);
    assert.equal(await agent.metricValue('obi_spans_dropped_total', { reason: 'queue_full' }), REQUESTS - QUEUE - BATCH);
    assert.equal(await agent.metricValue('obi_spans_dropped_total', { reason: 'export_failed' }), undefined);
  });
});
