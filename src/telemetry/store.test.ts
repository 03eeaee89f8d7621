import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { CounterVec } from './counter.ts';
import { DbMetrics } from './db.ts';
import { DnsMetrics } from './dns.ts';
import { GaugeVec } from './gauge.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import { InternalMetrics } from './internal.ts';
import { HTTP_METRICS, RedMetrics } from './metrics.ts';
import { SpanProcessor } from './processor.ts';
import { SERVICE_GRAPH_NAMES } from './servicegraph.ts';
import { SPAN_METRICS_NAMES } from './spanmetrics.ts';
import { MetricStore, prometheusName } from './store.ts';

test('prometheusName: the OTel compatibility rule', () => {
  assert.equal(prometheusName('http.server.request.duration', 's', 'histogram'), 'http_server_request_duration_seconds');
  assert.equal(prometheusName('http.client.response.body.size', 'By', 'histogram'), 'http_client_response_body_size_bytes');
  assert.equal(prometheusName('traces.span.metrics.calls', '', 'counter'), 'traces_span_metrics_calls_total');
  // already suffixed: not doubled
  assert.equal(prometheusName('traces_service_graph_request_failed_total', '', 'counter'), 'traces_service_graph_request_failed_total');
  assert.equal(prometheusName('latency_seconds', 's', 'histogram'), 'latency_seconds');
  // annotations add nothing; `1` is `ratio` on gauges only; per-units
  assert.equal(prometheusName('gen_ai.client.token.usage', '{token}', 'histogram'), 'gen_ai_client_token_usage');
  assert.equal(prometheusName('queue.fill', '1', 'gauge'), 'queue_fill_ratio');
  assert.equal(prometheusName('queue.items', '1', 'counter'), 'queue_items_total');
  assert.equal(prometheusName('net.rate', 'By/s', 'gauge'), 'net_rate_bytes_per_seconds');
  assert.equal(prometheusName('obi.instrumented.processes', '', 'updowncounter'), 'obi_instrumented_processes');
  // invalid characters, leading digit
  assert.equal(prometheusName('a-b..c', '', 'gauge'), 'a_b_c');
  assert.equal(prometheusName('9lives', '', 'gauge'), '_9lives');
});

test('OBI names: every family the telemetry stages make keeps its Prometheus name (obi-compat §2)', () => {
  const store = new MetricStore();
  const red = new RedMetrics(store);
  new DbMetrics(store);
  new SpanProcessor(store, red, { features: ['application', 'application_span_otel', 'application_service_graph'] });
  new InternalMetrics(store);
  const legacy = new MetricStore();
  new SpanProcessor(legacy, new RedMetrics(new MetricStore()), { features: ['application_span'] });
  const names = (s: MetricStore) => s.families().map((f) => [f.name, f.unit, f.promName]);
  assert.deepEqual(names(store), [
    ['http.server.request.duration', 's', 'http_server_request_duration_seconds'],
    ['http.server.request.body.size', 'By', 'http_server_request_body_size_bytes'],
    ['http.server.response.body.size', 'By', 'http_server_response_body_size_bytes'],
    ['http.client.request.duration', 's', 'http_client_request_duration_seconds'],
    ['http.client.request.body.size', 'By', 'http_client_request_body_size_bytes'],
    ['http.client.response.body.size', 'By', 'http_client_response_body_size_bytes'],
    ['target_info', '', 'target_info'],
    ['db.client.operation.duration', 's', 'db_client_operation_duration_seconds'],
    ['traces.span.metrics.duration', 's', 'traces_span_metrics_duration_seconds'],
    ['traces.span.metrics.calls', '', 'traces_span_metrics_calls_total'],
    ['traces_service_graph_request_client', 's', 'traces_service_graph_request_client_seconds'],
    ['traces_service_graph_request_server', 's', 'traces_service_graph_request_server_seconds'],
    ['traces_service_graph_request_failed_total', '', 'traces_service_graph_request_failed_total'],
    ['traces_service_graph_request_total', '', 'traces_service_graph_request_total'],
    ['traces_target_info', '', 'traces_target_info'],
    ['obi.ebpf.events.read', '', 'obi_ebpf_events_read_total'],
    ['obi.ebpf.events.dropped', '', 'obi_ebpf_events_dropped_total'],
    ['obi.metrics.exited.series.evicted', '', 'obi_metrics_exited_series_evicted_total'],
    ['obi.ebpf.bytes.read', 'By', 'obi_ebpf_bytes_read_total'],
    ['obi.agent.stage.time', 's', 'obi_agent_stage_seconds_total'],
    ['obi.agent.cpu.yields', '{yield}', 'obi_agent_cpu_yields_total'],
    ['obi.ingest.bytes.lost', 'By', 'obi_ingest_bytes_lost_total'],
    ['obi.ingest.malformed.records', '', 'obi_ingest_malformed_records_total'],
    ['obi.ingest.connections.opened', '', 'obi_ingest_connections_opened_total'],
    ['obi.ingest.connections.evicted', '', 'obi_ingest_connections_evicted_total'],
    ['obi.ingest.connections.expired', '', 'obi_ingest_connections_expired_total'],
    ['obi.ingest.connections.unrecognized', '', 'obi_ingest_connections_unrecognized_total'],
    ['obi.ingest.connections.muted', '', 'obi_ingest_connections_muted_total'],
    ['obi.ingest.connections', '', 'obi_ingest_connections'],
    ['obi.ingest.tls.segments', '', 'obi_ingest_tls_segments_total'],
    ['obi.parser.errors', '', 'obi_parser_errors_total'],
    ['obi.parser.bytes.dropped', 'By', 'obi_parser_bytes_dropped_total'],
    ['obi.ebpf.tracer.flushes', '', 'obi_ebpf_tracer_flushes'],
    ['obi.instrumented.processes', '', 'obi_instrumented_processes'],
    ['obi.avoided.services', '', 'obi_avoided_services'],
    ['obi.instrumentation.errors', '', 'obi_instrumentation_errors_total'],
    ['obi.spans.dropped', '', 'obi_spans_dropped_total'],
    ['obi.prometheus.http.requests', '', 'obi_prometheus_http_requests_total'],
    ['obi.http2.streams.events', '', 'obi_http2_streams_events_total'],
  ]);
  assert.deepEqual(names(legacy), [
    ['traces_spanmetrics_latency', 's', 'traces_spanmetrics_latency'],
    ['traces_spanmetrics_calls_total', '', 'traces_spanmetrics_calls_total'],
    ['traces_target_info', '', 'traces_target_info'],
  ]);
  const dns = new MetricStore();
  new DnsMetrics(dns);
  assert.deepEqual(names(dns), [['dns.lookup.duration', 's', 'dns_lookup_duration_seconds']]);
  // the name tables agree with the store
  for (const def of HTTP_METRICS) assert.equal(store.get(def.otel)?.promName, def.prom);
  for (const n of Object.values(SERVICE_GRAPH_NAMES)) assert.equal(store.get(n.otel)?.promName, n.prom);
  for (const n of Object.values(SPAN_METRICS_NAMES.otel)) assert.equal(store.get(n.otel)?.promName, n.prom);
  for (const n of Object.values(SPAN_METRICS_NAMES.legacy)) assert.equal(legacy.get(n.otel)?.promName, n.prom);
  // attributes: OTel names beside the Prometheus labels
  const dur = store.get('http.server.request.duration')!;
  assert.deepEqual(dur.labelNames.slice(0, 3), ['http_request_method', 'http_response_status_code', 'http_route']);
  assert.deepEqual(dur.attributes.slice(0, 3), ['http.request.method', 'http.response.status_code', 'http.route']);
  assert.equal(store.getByPromName('obi_spans_dropped_total')?.name, 'obi.spans.dropped');
});

test('MetricStore: order, lookup, one name per family in each naming, collect callbacks', () => {
  const store = new MetricStore();
  const idx = new SeriesIndex(1);
  let collected = 0;
  const h = new HistogramVec({ name: 'a.b', unit: 's', help: 'h', labelNames: ['k'], buckets: [1], index: idx, collect: () => void collected++ }).registerIn(store);
  const c = new CounterVec({ name: 'a.c', help: 'c', labelNames: ['k'], index: idx }).registerIn(store);
  h.registerIn(store); // same family again: no-op
  assert.deepEqual(
    store.families().map((f) => f.promName),
    ['a_b_seconds', 'a_c_total'],
  );
  assert.equal(store.get('a.c'), c);
  assert.equal(store.get('a_c_total'), undefined);
  assert.equal(store.getByPromName('a_b_seconds'), h);
  assert.throws(() => new CounterVec({ name: 'a.c', help: 'x', labelNames: ['k'], index: idx }).registerIn(store), /already in the store/);
  // another OTel name, same Prometheus name
  assert.throws(() => new CounterVec({ name: 'a_c', help: 'x', labelNames: ['k'], index: idx }).registerIn(store), /a_c_total has already been registered/);
  assert.throws(() => new CounterVec({ name: 'x', help: 'x', labelNames: ['k'], attributes: [], index: idx }), RangeError);
  store.collect();
  store.collect();
  assert.equal(collected, 2);
});

test('GaugeVec: set, add, remove; up-down kind; a gauge without labels always has its series', async () => {
  const store = new ScrapableStore();
  const idx = new SeriesIndex(1);
  const g = new GaugeVec({ name: 'queue.length', help: 'items queued', labelNames: ['queue'], index: idx }).registerIn(store);
  const procs = new GaugeVec({ name: 'procs', help: 'procs', labelNames: [], index: new SeriesIndex(0), upDown: true }).registerIn(store);
  assert.equal(g.kind, 'gauge');
  assert.equal(procs.kind, 'updowncounter');
  const a = idx.id(['a']);
  const b = idx.id(['b']);
  g.set(a, 5);
  g.add(b, -2);
  g.add(b, 1);
  g.set(a, Number.NaN); // ignored
  assert.equal(
    await store.metrics(),
    [
      '# HELP queue_length items queued',
      '# TYPE queue_length gauge',
      'queue_length{queue="a"} 5',
      'queue_length{queue="b"} -1',
      '',
      '# HELP procs procs',
      '# TYPE procs gauge',
      'procs 0',
      '',
    ].join('\n'),
  );
  g.remove(a);
  assert.equal(g.value(a), undefined);
  assert.equal(idx.has(a), false);
  assert.deepEqual(g.series(), [{ id: b, labelValues: ['b'], value: -1 }]);
  // the freed id is handed out again, empty; its new series is listed after the older ones
  assert.equal(idx.id(['c']), a);
  assert.equal(g.value(a), undefined);
  g.set(a, 7);
  assert.deepEqual(
    g.series().map((x) => x.labelValues[0]),
    ['b', 'c'],
  );
  procs.add(0, 2);
  g.reset();
  procs.reset();
  assert.deepEqual(g.series(), []);
  assert.deepEqual(procs.series(), [{ id: 0, labelValues: [], value: 0 }]);
});

test('families without labels are exposed from the start, as prom-client metrics were', async () => {
  const store = new ScrapableStore();
  const none = new SeriesIndex(0);
  new CounterVec({ name: 'x.events', help: 'e', labelNames: [], index: none }).registerIn(store);
  new HistogramVec({ name: 'x.sizes', help: 's', labelNames: [], buckets: [1, 2], index: none }).registerIn(store);
  assert.equal(
    await store.metrics(),
    [
      '# HELP x_events_total e',
      '# TYPE x_events_total counter',
      'x_events_total 0',
      '',
      '# HELP x_sizes s',
      '# TYPE x_sizes histogram',
      'x_sizes_bucket{le="1"} 0',
      'x_sizes_bucket{le="2"} 0',
      'x_sizes_bucket{le="+Inf"} 0',
      'x_sizes_sum 0',
      'x_sizes_count 0',
      '',
    ].join('\n'),
  );
});
