import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { InternalMetrics } from './internal.ts';

async function lines(reg: ScrapableStore, prefix: string): Promise<string[]> {
  return (await reg.metrics()).split('\n').filter((l) => l.startsWith(prefix));
}

test('families, help texts and types', async () => {
  const reg = new ScrapableStore();
  new InternalMetrics(reg);
  const text = await reg.metrics();
  const meta = text.split('\n').filter((l) => l.startsWith('# '));
  assert.deepEqual(meta, [
    '# HELP obi_ebpf_events_read_total Events read from the eBPF ring buffers',
    '# TYPE obi_ebpf_events_read_total counter',
    '# HELP obi_ebpf_events_dropped_total Events lost before the agent read them: the eBPF programs could not submit them (ring buffer full, counted in the kernel), or the agent had no memory to hold them',
    '# TYPE obi_ebpf_events_dropped_total counter',
    '# HELP obi_metrics_exited_series_evicted_total Application metric series of exited processes removed before their ttl because more than 1024 exited processes kept theirs (oldest exit first)',
    '# TYPE obi_metrics_exited_series_evicted_total counter',
    '# HELP obi_ebpf_bytes_read_total Bytes read from the eBPF ring buffers (records and their captured payload)',
    '# TYPE obi_ebpf_bytes_read_total counter',
    '# HELP obi_agent_stage_seconds_total Wall time the agent spent per pipeline stage, timed per ring-buffer drain: ingest (decode, per-connection streams, protocol parsers, record to span), process (span filters, metrics, printers, export queueing)',
    '# TYPE obi_agent_stage_seconds_total counter',
    '# HELP obi_agent_cpu_yields_total Times the agent gave its CPU to other threads in the middle of a drain (sched_yield every 0.25 ms of work, not when the drain is behind the ring), so that the application never waits long behind it',
    '# TYPE obi_agent_cpu_yields_total counter',
    '# HELP obi_ingest_bytes_lost_total Payload bytes that crossed a socket but were not captured (gaps past the captured prefix)',
    '# TYPE obi_ingest_bytes_lost_total counter',
    '# HELP obi_ingest_malformed_records_total Ring-buffer records whose type or length made no sense (skipped)',
    '# TYPE obi_ingest_malformed_records_total counter',
    '# HELP obi_ingest_connections_opened_total Connections of traced processes seen',
    '# TYPE obi_ingest_connections_opened_total counter',
    '# HELP obi_ingest_connections_evicted_total Connections forgotten, oldest first, because the tracked-connection cap was reached',
    '# TYPE obi_ingest_connections_evicted_total counter',
    '# HELP obi_ingest_connections_expired_total Connections flushed after ebpf.max_transaction_time without an event',
    '# TYPE obi_ingest_connections_expired_total counter',
    '# HELP obi_ingest_connections_unrecognized_total Connections whose first segments no registered protocol recognised (ignored)',
    '# TYPE obi_ingest_connections_unrecognized_total counter',
    '# HELP obi_ingest_connections_muted_total Unrecognized connections muted in the kernel: their further socket reads and writes are neither copied nor submitted',
    '# TYPE obi_ingest_connections_muted_total counter',
    '# HELP obi_ingest_connections Connections tracked now',
    '# TYPE obi_ingest_connections gauge',
    '# HELP obi_ingest_tls_segments_total TLS segments by outcome: ciphertext ignored (plaintext comes from the library), held and paired late, dropped unpaired, read after close',
    '# TYPE obi_ingest_tls_segments_total counter',
    '# HELP obi_parser_errors_total Protocol parser errors by wire protocol and kind; each invalid_frame resynchronises the stream',
    '# TYPE obi_parser_errors_total counter',
    '# HELP obi_parser_bytes_dropped_total Wire bytes a protocol parser discarded: buffer caps, resynchronisation skips, partial frames at close',
    '# TYPE obi_parser_bytes_dropped_total counter',
    '# HELP obi_ebpf_tracer_flushes Length of the groups of traces flushed from the eBPF tracer to the next pipeline stage',
    '# TYPE obi_ebpf_tracer_flushes histogram',
    '# HELP obi_instrumented_processes Total number of instrumented processes by process name',
    '# TYPE obi_instrumented_processes gauge',
    '# HELP obi_avoided_services Services avoided due to existing OpenTelemetry instrumentation',
    '# TYPE obi_avoided_services gauge',
    '# HELP obi_instrumentation_errors_total Total number of instrumentation errors by process name and error type',
    '# TYPE obi_instrumentation_errors_total counter',
    '# HELP obi_spans_dropped_total Spans dropped before export, by reason',
    '# TYPE obi_spans_dropped_total counter',
    '# HELP obi_prometheus_http_requests_total Requests towards the Prometheus Scrape endpoint',
    '# TYPE obi_prometheus_http_requests_total counter',
    '# HELP obi_http2_streams_events_total HTTP/2 parser events: partial (a stream whose headers were only partly decoded: HPACK table unknown), unreported (of those, not reported: no method/path), header_block_lost (a header block not decodable: not captured, malformed, over the cap), desync (protocol violation or loss of frame sync), dropped (a stream dropped: cap, or open at close)',
    '# TYPE obi_http2_streams_events_total counter',
  ]);
});

test('HTTP/2 parser totals: read at scrape time, counted as deltas', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg);
  const totals = { partial: 2, unreported: 1, desync: 0 };
  im.setHttp2Source(() => totals);
  const read = async (): Promise<string[]> => (await reg.getSingleMetricAsString('obi_http2_streams_events_total')).split('\n').filter((l) => !l.startsWith('#'));
  assert.deepEqual(await read(), ['obi_http2_streams_events_total{event="partial"} 2', 'obi_http2_streams_events_total{event="unreported"} 1']);
  totals.partial = 5;
  totals.desync = 3;
  assert.deepEqual(await read(), ['obi_http2_streams_events_total{event="partial"} 5', 'obi_http2_streams_events_total{event="unreported"} 1', 'obi_http2_streams_events_total{event="desync"} 3']);
});

test('event counters and tracer flushes', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg);
  im.eventsRead(100);
  im.eventsRead(0);
  im.eventsRead(-3);
  im.eventsRead(28);
  im.bytesLost(4096);
  im.bytesRead(1000);
  im.bytesRead(0);
  im.bytesRead(24);
  im.stageTime('ingest', 0.25);
  im.stageTime('ingest', 0.5);
  im.stageTime('process', 0.125);
  im.stageTime('process', 0);
  for (const n of [0, 5, 10, 11, 200, 500]) im.tracerFlush(n);
  assert.deepEqual(await lines(reg, 'obi_ebpf_events_read_total'), ['obi_ebpf_events_read_total 128']);
  assert.deepEqual(await lines(reg, 'obi_ingest_bytes_lost_total'), ['obi_ingest_bytes_lost_total 4096']);
  assert.deepEqual(await lines(reg, 'obi_ebpf_bytes_read_total'), ['obi_ebpf_bytes_read_total 1024']);
  let evicted = 0;
  im.setExitedSeriesSource(() => evicted);
  evicted = 7;
  assert.deepEqual(await lines(reg, 'obi_metrics_exited_series_evicted_total'), ['obi_metrics_exited_series_evicted_total 7']);
  im.cpuYields(0);
  im.cpuYields(3);
  im.cpuYields(2);
  assert.deepEqual(await lines(reg, 'obi_agent_cpu_yields_total'), ['obi_agent_cpu_yields_total 5']);
  assert.deepEqual(await lines(reg, 'obi_agent_stage_seconds_total'), ['obi_agent_stage_seconds_total{stage="ingest"} 0.75', 'obi_agent_stage_seconds_total{stage="process"} 0.125']);
  assert.deepEqual(await lines(reg, 'obi_ebpf_tracer_flushes'), [
    'obi_ebpf_tracer_flushes_bucket{le="0"} 1',
    'obi_ebpf_tracer_flushes_bucket{le="10"} 3',
    'obi_ebpf_tracer_flushes_bucket{le="20"} 4',
    'obi_ebpf_tracer_flushes_bucket{le="40"} 4',
    'obi_ebpf_tracer_flushes_bucket{le="80"} 4',
    'obi_ebpf_tracer_flushes_bucket{le="160"} 4',
    'obi_ebpf_tracer_flushes_bucket{le="320"} 5',
    'obi_ebpf_tracer_flushes_bucket{le="+Inf"} 6',
    'obi_ebpf_tracer_flushes_sum 726',
    'obi_ebpf_tracer_flushes_count 6',
  ]);
});

test('kernel drops: setter counts deltas and survives a counter restart', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg);
  im.setKernelDropsTotal(10);
  im.setKernelDropsTotal(15);
  im.setKernelDropsTotal(15);
  im.setKernelDropsTotal(3); // kernel counter restarted: 3 new drops
  im.setKernelDropsTotal(Number.NaN);
  assert.deepEqual(await lines(reg, 'obi_ebpf_events_dropped_total'), ['obi_ebpf_events_dropped_total 18']);
});

test('kernel drops: source read at scrape time', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg);
  let kernel = 7;
  im.setKernelDropsSource(() => kernel);
  assert.deepEqual(await lines(reg, 'obi_ebpf_events_dropped_total'), ['obi_ebpf_events_dropped_total 7']);
  kernel = 9;
  assert.deepEqual(await lines(reg, 'obi_ebpf_events_dropped_total'), ['obi_ebpf_events_dropped_total 9']);
  im.setKernelDropsSource(undefined);
  kernel = 100;
  assert.deepEqual(await lines(reg, 'obi_ebpf_events_dropped_total'), ['obi_ebpf_events_dropped_total 9']);
});

test('labelled process, error, drop and scrape counters', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg);
  im.instrumentProcess('nginx');
  im.instrumentProcess('nginx');
  im.instrumentProcess('api');
  im.uninstrumentProcess('nginx');
  im.instrumentationError('java', 'attaching_uprobe');
  im.instrumentationError('java', 'attaching_uprobe');
  im.instrumentationError('node', 'symbol_not_found');
  im.spansDropped('queue_full', 5);
  im.spansDropped('queue_full');
  im.spansDropped('export_failed', 0);
  im.prometheusRequest(9090, '/metrics');
  im.prometheusRequest(9090, '/metrics');
  assert.deepEqual(await lines(reg, 'obi_instrumented_processes'), ['obi_instrumented_processes{process_name="nginx"} 1', 'obi_instrumented_processes{process_name="api"} 1']);
  assert.deepEqual(await lines(reg, 'obi_instrumentation_errors_total'), [
    'obi_instrumentation_errors_total{process_name="java",error_type="attaching_uprobe"} 2',
    'obi_instrumentation_errors_total{process_name="node",error_type="symbol_not_found"} 1',
  ]);
  assert.deepEqual(await lines(reg, 'obi_spans_dropped_total'), ['obi_spans_dropped_total{reason="queue_full"} 6']);
  assert.deepEqual(await lines(reg, 'obi_prometheus_http_requests_total'), ['obi_prometheus_http_requests_total{port="9090",path="/metrics"} 2']);
});

test('prefix option (Beyla naming)', async () => {
  const reg = new ScrapableStore();
  const im = new InternalMetrics(reg, { prefix: 'beyla' });
  im.eventsRead(1);
  assert.deepEqual(await lines(reg, 'beyla_ebpf_events_read_total'), ['beyla_ebpf_events_read_total 1']);
});

test('obi_avoided_services: one series per avoided service instance and signal, removed with the instance', async () => {
  const reg = new ScrapableStore();
  const m = new InternalMetrics(reg);
  m.avoidedService('shop', 'ns', 'h:1', 'traces');
  m.avoidedService('shop', 'ns', 'h:1', 'metrics');
  m.avoidedService('shop', 'ns', 'h:1', 'traces');
  m.avoidedService('web', '', 'web-1', 'traces');
  assert.deepEqual(await lines(reg, 'obi_avoided_services{'), [
    'obi_avoided_services{service_name="shop",service_namespace="ns",service_instance_id="h:1",telemetry_type="traces"} 1',
    'obi_avoided_services{service_name="shop",service_namespace="ns",service_instance_id="h:1",telemetry_type="metrics"} 1',
    'obi_avoided_services{service_name="web",service_namespace="",service_instance_id="web-1",telemetry_type="traces"} 1',
  ]);
  m.removeAvoidedService('h:1');
  assert.deepEqual(await lines(reg, 'obi_avoided_services{'), ['obi_avoided_services{service_name="web",service_namespace="",service_instance_id="web-1",telemetry_type="traces"} 1']);
});
