/** Series of exited processes (exited.ts): bounded under churn, removed by instance, oldest exit first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ExitedInstances, instancePositions, MAX_EXITED_INSTANCES } from './exited.ts';
import { SeriesIndex } from './histogram.ts';
import { RedMetrics } from './metrics.ts';
import { SpanProcessor } from './processor.ts';
import { api, mkSpan, sampleLines } from '../../test/helpers/spans.ts';

test('SeriesIndex.removeWhere removes the series with one value at one position, prunes the trie, reuses the ids', () => {
  const idx = new SeriesIndex(3);
  const a1 = idx.id(['GET', 'h:1', '200']);
  const a2 = idx.id(['POST', 'h:1', '500']);
  const b = idx.id(['GET', 'h:2', '200']);
  const removed: number[] = [];
  idx.onRemove((id) => removed.push(id));
  assert.equal(idx.removeWhere(1, 'h:1'), 2);
  assert.deepEqual(removed.sort(), [a1, a2].sort());
  assert.equal(idx.live, 1);
  assert.equal(idx.has(b), true);
  assert.equal(idx.id(['GET', 'h:2', '200']), b); // untouched
  assert.equal(idx.removeWhere(1, 'h:1'), 0);
  assert.equal(idx.removeWhere(0, 'nothing'), 0);
  const c = idx.id(['PUT', 'h:3', '201']); // a freed id is handed out again
  assert.ok(c === a1 || c === a2);
  assert.equal(idx.removeWhere(2, '201'), 1); // the last position too
  assert.equal(idx.live, 1);
  assert.throws(() => idx.removeWhere(3, 'x'), RangeError);
});

test('ExitedInstances keeps the last `max` exits, drops the oldest first (counted), forgets re-selected and old exits', () => {
  const dropped: string[] = [];
  const ex = new ExitedInstances((id) => (dropped.push(id), 2), 3);
  for (let i = 1; i <= 5; i++) ex.exited(`h:${i}`, i);
  assert.deepEqual(dropped, ['h:1', 'h:2']);
  assert.equal(ex.size, 3);
  assert.equal(ex.evictedInstances, 2);
  assert.equal(ex.evictedSeries, 4);
  ex.exited('h:3', 9); // told again: keeps its first exit, no eviction
  assert.equal(ex.size, 3);
  ex.selected('h:4'); // the instance id is in use again (a reused pid)
  assert.equal(ex.size, 2);
  ex.exited('h:6', 6);
  assert.deepEqual(dropped, ['h:1', 'h:2']);
  ex.expire(5); // exits before 5: h:3 (3); h:5 (5) and h:6 (6) stay
  assert.equal(ex.size, 2);
  ex.exited('h:7', 7);
  ex.exited('h:8', 8);
  assert.deepEqual(dropped, ['h:1', 'h:2', 'h:5']);
  assert.deepEqual(instancePositions(['a', 'instance', 'b', 'service.instance.id']), [1, 3]);
});

const client = (i: number): ServiceIdentity => ({ name: 'curl', namespace: '', instanceId: `host1:${1000 + i}`, pid: 1000 + i, exePath: '/usr/bin/curl', language: 'generic' });

test(`churn: ${MAX_EXITED_INSTANCES + 976} short-lived clients leave the series of the last ${MAX_EXITED_INSTANCES} exited ones, the live server keeps its own`, async () => {
  const reg = new ScrapableStore();
  const p = new SpanProcessor(reg, new RedMetrics(reg), { features: ['application', 'application_span_otel'], ttlMs: 300_000 });
  const n = MAX_EXITED_INSTANCES + 976;
  for (let i = 0; i < n; i++) {
    const svc = client(i);
    p.registerService(svc);
    p.process([mkSpan({ service: svc, kind: 'client' }), mkSpan({ service: api })], i);
    p.removeService(svc); // its exit
  }
  const text = await reg.metrics();
  assert.equal(sampleLines(text, 'http_client_request_duration_seconds_count').length, MAX_EXITED_INSTANCES);
  assert.equal(sampleLines(text, 'http_server_request_duration_seconds_count').length, 1);
  assert.equal(sampleLines(text, 'traces_span_metrics_calls_total').length, MAX_EXITED_INSTANCES + 1);
  // the evicted are the first to exit; the kept are the last
  assert.equal(text.includes('instance="host1:1000"'), false);
  assert.equal(text.includes(`instance="host1:${1000 + n - 1}"`), true);
  assert.equal(p.exited.evictedInstances, 976);
  assert.equal(p.exited.evictedSeries, 976 * 2); // its HTTP client group (3 histograms share it) and its span-metrics series
  // the lifecycle forgetting an identity later (agent.ts onForgotten) does not count an exit again
  for (let i = 0; i < n; i++) p.forgetService(client(i));
  assert.equal(p.exited.size, MAX_EXITED_INSTANCES);
  assert.equal(p.exited.evictedInstances, 976);
  assert.equal(sampleLines(await reg.metrics(), 'http_client_request_duration_seconds_count').length, MAX_EXITED_INSTANCES);
  // ttl still applies to what is kept
  assert.equal(p.expire(n + 300_000), MAX_EXITED_INSTANCES * 2 + 2);
  assert.equal(p.exited.size, 0);
});

test('series without an instance label are shared by the processes of a service and stay (ttl only)', async () => {
  const reg = new ScrapableStore();
  const red = new RedMetrics(reg, { attributes: { 'http.client.request.duration': ['service.name', 'http.request.method'] } });
  const p = new SpanProcessor(reg, red, { features: ['application'], maxExitedInstances: 2 });
  for (let i = 0; i < 10; i++) {
    p.registerService(client(i));
    p.process([mkSpan({ service: client(i), kind: 'client' })], i);
    p.removeService(client(i));
  }
  const text = await reg.metrics();
  assert.equal(sampleLines(text, 'http_client_request_duration_seconds_count').length, 1);
  assert.equal(sampleLines(text, 'http_client_request_duration_seconds_count')[0].endsWith(' 10'), true);
  assert.equal(p.exited.evictedInstances, 8);
});
