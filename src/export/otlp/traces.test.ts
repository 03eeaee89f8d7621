import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { test } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ScrapableStore } from '../../../test/helpers/metric-store.ts';
import { MonoClock } from '../../telemetry/clock.ts';
import { InternalMetrics } from '../../telemetry/internal.ts';
import { ResourceCache } from './convert.ts';
import { createSampler } from './sampler.ts';
import { OtlpExportMetrics } from './self-metrics.ts';
import { ScriptedSender, testSpan } from '../../../test/helpers/otlp-testing.ts';
import { OtlpTraceExporter } from './traces.ts';
import type { OtlpTraceExporterOptions } from './traces.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const clock = new MonoClock();
const resources = (): ResourceCache => new ResourceCache({ host: { hostName: 'host', hostId: 'mid' }, version: '1.2.3' });

async function until(what: string, fn: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function setup(over: Partial<OtlpTraceExporterOptions> = {}) {
  const sender = new ScriptedSender<ReadableSpan[]>();
  const registry = new ScrapableStore();
  const internal = new InternalMetrics(registry);
  const selfMetrics = new OtlpExportMetrics(registry);
  const exporter = new OtlpTraceExporter({
    sender,
    resources: resources(),
    clock,
    maxQueueSize: 100,
    maxExportBatchSize: 10,
    batchTimeoutMs: 20,
    backoff: { initialMs: 5, maxMs: 20, maxElapsedMs: 0, randomization: 0 },
    internal,
    selfMetrics,
    ...over,
  });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await registry.getSingleMetric(name)!.get();
    const v = m.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  };
  return { sender, exporter, registry, value };
}

test('full batches go out at once, in order, at most one request in flight', async () => {
  const { sender, exporter, value } = setup({ batchTimeoutMs: 60_000 });
  sender.delayMs = 5;
  const spans = Array.from({ length: 35 }, () => testSpan());
  exporter.offer(spans.slice(0, 25));
  exporter.offer(spans.slice(25));
  await until('three full batches', () => exporter.stats().exported === 30);
  assert.deepEqual(sender.sent.map((b) => b.length), [10, 10, 10]);
  assert.equal(sender.maxInFlight, 1);
  assert.deepEqual(sender.sent.flat().map((s) => s.spanContext().spanId), spans.slice(0, 30).map((s) => s.spanId));
  assert.equal(exporter.stats().queued, 5);
  assert.equal(await value('obi_otel_trace_exports_total'), 30);
  await exporter.shutdown();
  assert.equal(exporter.stats().exported, 35);
  assert.equal(sender.shutdowns, 1);
});

test('a partial batch goes out after batch_timeout, not before', async () => {
  const { sender, exporter } = setup({ batchTimeoutMs: 80 });
  const t0 = performance.now();
  exporter.offer([testSpan(), testSpan(), testSpan()]);
  await sleep(30);
  assert.equal(sender.sent.length, 0);
  await until('the timed batch', () => sender.sent.length === 1);
  assert.ok(performance.now() - t0 >= 75);
  assert.equal(sender.sent[0].length, 3);
  await exporter.shutdown();
});

test('a full queue drops the newest spans and counts them', async () => {
  const { sender, exporter, value } = setup({ maxQueueSize: 20, maxExportBatchSize: 10, batchTimeoutMs: 60_000 });
  sender.delayMs = 50;
  exporter.offer(Array.from({ length: 50 }, () => testSpan()));
  // synchronous offer: 20 fit, 30 dropped before any export started
  assert.equal(exporter.stats().queued, 20);
  assert.equal(exporter.stats().droppedQueueFull, 30);
  assert.equal(await value('obi_spans_dropped_total', { reason: 'queue_full' }), 30);
  await exporter.shutdown();
  assert.equal(exporter.stats().exported, 20);
});

test('retryable failures keep the batch and retry with back-off until it goes through', async () => {
  const { sender, exporter, value } = setup({ backoff: { initialMs: 20, maxMs: 40, maxElapsedMs: 0, randomization: 0 } });
  const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  sender.script.push({ ok: false, error: err }, { ok: false, error: err }, { ok: false, error: err });
  const spans = Array.from({ length: 10 }, () => testSpan());
  const t0 = performance.now();
  exporter.offer(spans);
  await until('delivery', () => exporter.stats().exported === 10);
  const elapsed = performance.now() - t0;
  // waits 20, 30, 40 (capped) ms
  assert.ok(elapsed >= 85, `elapsed ${elapsed}`);
  assert.equal(sender.sent.length, 4);
  for (const b of sender.sent) assert.deepEqual(b.map((s) => s.spanContext().spanId), spans.map((s) => s.spanId));
  assert.equal(exporter.stats().errors, 3);
  assert.equal(await value('obi_otel_trace_export_errors_total', { error: 'ECONNREFUSED' }), 3);
  assert.equal(await value('obi_otel_trace_exports_total'), 10);
  assert.equal(exporter.stats().droppedExportFailed, 0);
  await exporter.shutdown();
});

test('a non-retryable answer drops the batch at once, counted as export_failed', async () => {
  const { sender, exporter, value } = setup();
  sender.script.push({ ok: false, error: Object.assign(new Error('Bad Request'), { code: 400 }) });
  exporter.offer(Array.from({ length: 10 }, () => testSpan()));
  await until('the drop', () => exporter.stats().droppedExportFailed === 10);
  assert.equal(sender.sent.length, 1);
  assert.equal(await value('obi_spans_dropped_total', { reason: 'export_failed' }), 10);
  assert.equal(await value('obi_otel_trace_export_errors_total', { error: 'http_400' }), 1);
  exporter.offer(Array.from({ length: 10 }, () => testSpan()));
  await until('the next batch', () => exporter.stats().exported === 10);
  await exporter.shutdown();
});

test('a batch is given up after backoff_max_elapsed_time', async () => {
  const { sender, exporter } = setup({ backoff: { initialMs: 10, maxMs: 10, maxElapsedMs: 45, randomization: 0 } });
  sender.fallback = { ok: false, error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) };
  exporter.offer(Array.from({ length: 10 }, () => testSpan()));
  await until('the give-up', () => exporter.stats().droppedExportFailed === 10);
  // attempts at ~0, 10, 20, 30, 40, 50 ms: the one past 45 ms gives up
  assert.ok(sender.sent.length >= 5 && sender.sent.length <= 7, `${sender.sent.length} attempts`);
  assert.equal(exporter.stats().pending, 0);
  await exporter.shutdown();
});

test('while the collector is down memory stays bounded: queue + one batch, whatever comes in', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { sender, exporter } = setup({ maxQueueSize: 1000, maxExportBatchSize: 100, backoff: { initialMs: 5, maxMs: 5, maxElapsedMs: 0, randomization: 0 } });
  sender.fallback = { ok: false, error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) };
  const attrs = { 'http.request.method': 'GET', 'url.path': `/${'p'.repeat(200)}` };
  exporter.offer(Array.from({ length: 2000 }, () => testSpan({ attributes: { ...attrs } })));
  await until('a failing batch', () => exporter.stats().errors > 0);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let round = 0; round < 100; round++) {
    exporter.offer(Array.from({ length: 2000 }, () => testSpan({ attributes: { ...attrs } })));
    if (round % 10 === 0) await sleep(1);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  const s = exporter.stats();
  assert.ok(s.queued <= 1000 && s.pending <= 100, JSON.stringify(s));
  // 200 000 spans of ~0.5 kB offered: kept, they would be ~100 MB
  assert.ok(grown < 8 * 1024 * 1024, `heap grew ${grown} bytes`);
  assert.equal(s.droppedQueueFull + s.queued + s.pending, 202_000);
  sender.fallback = { ok: true };
  await exporter.shutdown();
  assert.equal(exporter.stats().exported, 1100);
});

test('shutdown with the collector down gives up after one failed attempt and counts the rest', async () => {
  const { sender, exporter, value } = setup({ backoff: { initialMs: 60_000, maxMs: 60_000, maxElapsedMs: 0 } });
  sender.fallback = { ok: false, error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) };
  exporter.offer(Array.from({ length: 45 }, () => testSpan()));
  await until('first failure', () => exporter.stats().errors === 1);
  const t0 = performance.now();
  await exporter.shutdown();
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(exporter.stats().droppedExportFailed, 45);
  assert.equal(await value('obi_spans_dropped_total', { reason: 'export_failed' }), 45);
  exporter.offer([testSpan()]);
  assert.equal(exporter.stats().droppedQueueFull, 1);
});

test('instrumentations and the sampler select what is exported', async () => {
  const { sender, exporter, value } = setup({ instrumentations: ['http', 'sql'], sampler: createSampler({ name: 'parentbased_always_off' }), maxExportBatchSize: 100 });
  exporter.offer([
    testSpan(), // root, sampler off → out
    testSpan({ parentSpanId: '1'.repeat(16), traceFlags: 1 }), // sampled parent → in
    testSpan({ parentSpanId: '1'.repeat(16), traceFlags: 0 }), // unsampled parent → out
    testSpan({ protocol: 'redis', parentSpanId: '1'.repeat(16) }), // not a selected instrumentation → ignored
    testSpan({ protocol: 'sql', parentSpanId: '2'.repeat(16) }),
  ]);
  await exporter.shutdown();
  assert.deepEqual(sender.sent.flat().map((s) => s.attributes['http.request.method'] ?? ''), ['GET', 'GET']);
  assert.equal(exporter.stats().sampledOut, 2);
  assert.equal(await value('obi_spans_dropped_total', { reason: 'sampled_out' }), 2);
});

test('spans become ReadableSpans with exact epoch times, kinds, status and one resource per service', async () => {
  const { sender, exporter } = setup();
  const other = { name: 'other', namespace: '', instanceId: 'host:7', pid: 7, exePath: '/bin/o', language: 'python' };
  const a = testSpan({ startNs: 5_000_000_123, endNs: 5_250_000_456, status: 'error', statusMessage: 'boom', parentSpanId: 'cd'.repeat(8) });
  const b = testSpan({ kind: 'client', service: other });
  const c = testSpan();
  exporter.offer([a, b, c]);
  await exporter.shutdown();
  const [ra, rb, rc] = sender.sent.flat();
  const start = clock.toEpochNs(a.startNs);
  assert.deepEqual(ra.startTime, [Number(start / 1_000_000_000n), Number(start % 1_000_000_000n)]);
  assert.deepEqual(ra.duration, [0, 250_000_333]);
  assert.equal(ra.kind, 1); // api SpanKind.SERVER
  assert.equal(rb.kind, 2); // CLIENT
  assert.deepEqual(ra.status, { code: 2, message: 'boom' });
  assert.deepEqual(ra.parentSpanContext, { traceId: a.traceId, spanId: 'cd'.repeat(8), traceFlags: 1, isRemote: true });
  assert.equal(rb.parentSpanContext, undefined);
  assert.equal(ra.instrumentationScope.name, 'go.opentelemetry.io/obi');
  assert.equal(ra.resource, rc.resource); // same service, same Resource object
  assert.notEqual(ra.resource, rb.resource);
  assert.equal(rb.resource.attributes['service.name'], 'other');
  assert.equal(rb.resource.attributes['service.namespace'], undefined);
  assert.equal(ra.resource.attributes['service.namespace'], 'ns');
});
