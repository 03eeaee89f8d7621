// Over 400 lines: one block per obi-compat §8 scenario, all sharing one agent set-up.
/**
 * Conformance with OBI's documented behaviour: scenarios 1, 3, 5, 13 and 15 of docs/devdocs/obi-compat.md
 * §8, adapted to the servers available here (a Node.js HTTP server for OBI's Go "testserver",
 * Python http.server, an unselected Node.js server), with OBI's integration-test configuration
 * (`routes.patterns: [/basic/:rnd]`, `filter.application.url_path.not_match: /metrics`,
 * `attributes.select."*".include: ["*"]`, span metrics and service graph on, internal metrics on
 * their own port). A real Prometheus scrapes the agent; every check is an exact value.
 *
 * Layout: one agent and one traffic run (`before`), then one `describe` per scenario whose
 * `test`s read what arrived at a backend: the Prometheus server, and the OTLP receiver the same
 * agent exports traces and metrics to (http/protobuf, 100 ms metric interval, 50 ms trace batch
 * timeout). On OTLP the names are the OTel ones (`http.server.request.duration`, unit `s`),
 * the service identity is the resource, and counters are cumulative monotonic Sums.
 *
 * Adaptations: clients use source address 127.0.0.2 (`curl --interface`), because OBI counts an
 * edge whose two ends have the same address as a self reference and a loopback test would have
 * nothing else; the Python server binds 127.0.0.4 and the unselected server 127.0.0.3 for the
 * same reason. `telemetry_sdk_language` is `nodejs` (OBI's test server is Go).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { OtlpReceiver, type Attrs, type ReceivedDataPoint, type ReceivedMetric, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { PrometheusServer, type PromSample } from '../helpers/prometheus.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-server.mjs');
const one = (s: PromSample[]): number | undefined => (s.length === 1 ? s[0].value : undefined);
/** OBI's test client address, and the addresses the servers bind */
const CLIENT = '127.0.0.2';
const UNSELECTED_ADDR = '127.0.0.3';
const PY_ADDR = '127.0.0.4';
/**
 * `host.id` given to the agent (OTEL_EBPF_HOST_ID): the machine's own id depends on the machine
 * (debian:bookworm-slim and most containers have no /etc/machine-id); resolution from the files
 * is tested in src/export/otlp/host.test.ts.
 */
const HOST_ID = 'obi-conformance-host';

interface Env {
  prom: PrometheusServer;
  rx: OtlpReceiver;
  agent: TestAgent;
  ports: { test: number; py: number; unselected: number; app: number; internal: number };
  pids: { test: number; py: number; unselected: number };
}

const env = {} as Env;
const procs: Proc[] = [];

/** curl from OBI's test-client address */
const curl = async (url: string, from = CLIENT): Promise<void> => {
  await run('curl', ['-s', '-o', '/dev/null', '--interface', from, url]);
};

async function startAll(): Promise<void> {
  const ports = { test: await freePort(), py: await freePort(), unselected: await freePort(), app: await freePort(), internal: await freePort() };
  env.ports = ports;
  const dir = mkdtempSync(join(tmpdir(), 'obi-conf-'));
  writeFileSync(join(dir, 'index.html'), 'python says hi\n');
  const test = startProcess(nodeBin, [app, String(ports.test)]);
  const py = startProcess('python3', ['-m', 'http.server', String(ports.py), '--bind', PY_ADDR, '--directory', dir]);
  const unselected = startProcess(nodeBin, [app, String(ports.unselected), UNSELECTED_ADDR]);
  procs.push(test, py, unselected);
  env.pids = { test: test.pid, py: py.pid, unselected: unselected.pid };
  await waitForPort(ports.test);
  await waitForPort(ports.py, PY_ADDR);
  await waitForPort(ports.unselected, UNSELECTED_ADDR);
  // Prometheus first: its target discovery takes ~5 s, which the agent start and the traffic overlap
  env.rx = await OtlpReceiver.start({ grpcPort: false });
  env.prom = await PrometheusServer.start([
    { name: 'obi-app', port: ports.app },
    { name: 'obi-internal', port: ports.internal, path: '/internal/metrics' },
  ]);
  const config = join(dir, 'obi.yaml');
  writeFileSync(
    config,
    `discovery:
  instrument:
    - open_ports: ${ports.test}
      name: testserver
      namespace: integration-test
    - exe_path: "*python3*"
      open_ports: ${ports.py}
      name: pyserver
      namespace: integration-test-py
    # matches the Python server too: the first selector wins, the process is instrumented once
    - open_ports: ${ports.py}
      name: pyserver-duplicate
routes:
  patterns: [/basic/:rnd]
  unmatched: heuristic
filter:
  application:
    url_path:
      not_match: /metrics
attributes:
  select:
    "*":
      include: ["*"]
metrics:
  features: [application, application_span, application_service_graph]
internal_metrics:
  prometheus:
    port: ${ports.internal}
`,
  );
  const agentEnv = {
    OTEL_EBPF_CONFIG_PATH: config,
    OTEL_EBPF_PROMETHEUS_PORT: String(ports.app),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${env.rx.httpPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EBPF_METRICS_INTERVAL: '100ms',
    OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
    OTEL_EBPF_HOST_ID: HOST_ID,
  };
  env.agent = await TestAgent.start(agentEnv);
  await env.agent.waitTracked(test.pid);
  await env.agent.waitTracked(py.pid);
}

/** All scenarios' traffic, once. */
async function traffic(): Promise<void> {
  const { test, py, unselected } = env.ports;
  const t = `http://127.0.0.1:${test}`;
  // scenario 1 (and 5): 4 × /basic/<n>?delay=30ms&status=404
  for (let i = 0; i < 4; i++) await curl(`${t}/basic/7?delay=30ms&status=404`);
  // scenario 5: the same from the server's own address is a self reference
  for (let i = 0; i < 3; i++) await curl(`${t}/basic/8`, '127.0.0.1');
  // scenario 3: /metrics is filtered out
  for (let i = 0; i < 2; i++) await curl(`${t}/metrics`);
  // scenario 15: routes heuristic
  for (const p of ['/users/fdklsd/j4elk/23993/job/2', '/v1/products/22', '/api/hello.world']) await curl(`${t}${p}`);
  // scenario 13: each selected service, the unselected one, and calls between them
  for (let i = 0; i < 2; i++) await curl(`http://${PY_ADDR}:${py}/index.html`, '127.0.0.1');
  await curl(`http://${UNSELECTED_ADDR}:${unselected}/dont-instrument`);
  await curl(`${t}/proxy?host=${PY_ADDR}&port=${py}&path=/index.html`);
  await curl(`${t}/proxy?host=${UNSELECTED_ADDR}&port=${unselected}&path=/dont-instrument`);
  // every span printed (server spans of the selected services, client spans of the proxies)
  await env.agent.waitSpans(4 + 3 + 3 + 2 + 2 + 2 + 1, (s) => s.service.pid === env.pids.test || s.service.pid === env.pids.py);
}

before(async () => {
  await startAll();
  await traffic();
});

after(async () => {
  await env.prom?.stop();
  await env.agent?.stop();
  await env.rx?.close();
  for (const p of procs) await p.kill();
});

const testSpans = (f: (s: SpanJSON) => boolean): SpanJSON[] => env.agent.spans((s) => s.service.pid === env.pids.test && f(s));

// --- OTLP side ---
const HOST = hostname();
const instance = (pid: number): string => `${HOST}:${pid}`;
/** OTLP spans received from the service with this pid */
const otlpSpans = (pid: number, f: (s: ReceivedSpan) => boolean = () => true): ReceivedSpan[] =>
  env.rx.spans.filter((s) => s.resource['service.instance.id'] === instance(pid) && f(s));
/** latest point of every series of `name` matching `attrs` (a subset), from any service */
const otlpPoints = (name: string, attrs: Attrs = {}): { metric: ReceivedMetric; point: ReceivedDataPoint }[] =>
  env.rx.latestPoints(name, (p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
/** wait until exactly one series of `name` matches `attrs` and `done` holds for its latest point */
async function otlpPoint(name: string, attrs: Attrs, done: (p: ReceivedDataPoint) => boolean): Promise<{ metric: ReceivedMetric; point: ReceivedDataPoint }> {
  await env.rx.waitPoint(name, (p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v) && done(p));
  const all = otlpPoints(name, attrs);
  assert.equal(all.length, 1, `${name} ${JSON.stringify(attrs)}: ${all.length} series`);
  return all[0];
}
/** the resource OBI gives a service instrumented here */
function assertResource(resource: Attrs, name: string, namespace: string, pid: number, language: string): void {
  assert.equal(resource['service.name'], name);
  assert.equal(resource['service.namespace'], namespace);
  assert.equal(resource['service.instance.id'], instance(pid));
  assert.equal(resource['telemetry.sdk.language'], language);
  assert.equal(resource['telemetry.sdk.name'], 'opentelemetry');
  assert.equal(resource['telemetry.distro.name'], 'obi-ts');
  assert.equal(resource['host.name'], HOST);
  assert.equal(resource['host.id'], HOST_ID);
  assert.equal(resource['os.type'], 'linux');
}
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

describe('scenario 1: HTTP server RED metrics (routes /basic/:rnd, namespace integration-test)', () => {
  const labels = (): string =>
    `http_request_method="GET",http_response_status_code="404",service_name="testserver",service_namespace="integration-test",server_port="${env.ports.test}",http_route="/basic/:rnd",url_path="/basic/7"`;

  test('Prometheus: http_server_request_duration_seconds count 4, sum 0.12–1 s, client_address and server_port labels', async () => {
    const count = await env.prom.waitQuery(`http_server_request_duration_seconds_count{${labels()}}`, (s) => one(s) === 4);
    assert.equal(count[0].metric.client_address, CLIENT);
    assert.equal(count[0].metric.server_port, String(env.ports.test));
    const sum = one(await env.prom.query(`http_server_request_duration_seconds_sum{${labels()}}`))!;
    assert.ok(sum > 0.12 && sum < 1.0, `sum ${sum}`);
    assert.equal(one(await env.prom.query(`http_server_request_duration_seconds_bucket{${labels()},le="0.025"}`)), 0);
    assert.equal(one(await env.prom.query(`http_server_request_duration_seconds_bucket{${labels()},le="+Inf"}`)), 4);
  });

  test('Prometheus: request and response body size histograms with the same labels, count 4', async () => {
    assert.equal(one(await env.prom.waitQuery(`http_server_request_body_size_bytes_count{${labels()}}`, (s) => one(s) === 4)), 4);
    assert.equal(one(await env.prom.waitQuery(`http_server_response_body_size_bytes_count{${labels()}}`, (s) => one(s) === 4)), 4);
    assert.equal(one(await env.prom.query(`http_server_response_body_size_bytes_sum{${labels()}}`)), 4 * 'basic\n'.length);
  });

  test('spans: GET /basic/:rnd, server, status unset for a 404', () => {
    const spans = testSpans((s) => s.attributes['url.path'] === '/basic/7');
    assert.equal(spans.length, 4);
    for (const s of spans) {
      assert.equal(s.name, 'GET /basic/:rnd');
      assert.equal(s.kind, 'server');
      assert.equal(s.status, 'unset');
      assert.equal(s.attributes['http.route'], '/basic/:rnd');
      assert.equal(s.attributes['http.response.status_code'], 404);
      assert.equal(s.attributes['client.address'], CLIENT);
      assert.equal(s.attributes['server.port'], env.ports.test);
      assert.equal(s.service.name, 'testserver');
      assert.equal(s.service.namespace, 'integration-test');
      // delay=30ms; libuv timers run on a millisecond loop clock and may fire up to 1 ms early
      assert.ok(s.durationNs >= 29e6 && s.durationNs < 1e9, `duration ${s.durationNs}`);
    }
  });

  const attrs = (): Attrs => ({
    'http.request.method': 'GET',
    'http.response.status_code': 404,
    'service.name': 'testserver',
    'service.namespace': 'integration-test',
    'server.port': env.ports.test,
    'http.route': '/basic/:rnd',
    'url.path': '/basic/7',
  });

  test('OTLP: http.server.request.duration (s) count 4, sum 0.12–1 s, under the testserver resource', async () => {
    const { metric, point } = await otlpPoint('http.server.request.duration', attrs(), (p) => p.count === 4);
    assert.equal(metric.unit, 's');
    assert.equal(metric.type, 'histogram');
    assert.equal(metric.temporality, 2);
    assert.equal(metric.scope.name, 'go.opentelemetry.io/obi');
    assertResource(metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    assert.equal(point.attributes['client.address'], CLIENT);
    assert.equal(point.attributes['url.scheme'], 'http');
    assert.equal('job' in point.attributes || 'instance' in point.attributes, false);
    assert.ok(point.sum! > 0.12 && point.sum! < 1.0, `sum ${point.sum}`);
    assert.deepEqual(point.explicitBounds, [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    // ≤ 0.025 s: none; all 4 between 30 ms and 1 s
    assert.equal(point.bucketCounts.slice(0, 4).reduce((a, b) => a + b, 0), 0);
    assert.equal(point.bucketCounts.slice(4, 11).reduce((a, b) => a + b, 0), 4);
  });

  test('OTLP: request and response body size histograms (By) with the same attributes, count 4', async () => {
    const req = await otlpPoint('http.server.request.body.size', attrs(), (p) => p.count === 4);
    assert.equal(req.metric.unit, 'By');
    const resp = await otlpPoint('http.server.response.body.size', attrs(), (p) => p.count === 4);
    assert.equal(resp.metric.unit, 'By');
    assert.equal(resp.point.sum, 4 * 'basic\n'.length);
  });

  test('OTLP: 4 server spans GET /basic/:rnd with OBI attributes and resource', async () => {
    await env.rx.waitSpans(4, (s) => s.attributes['url.path'] === '/basic/7');
    const spans = otlpSpans(env.pids.test, (s) => s.attributes['url.path'] === '/basic/7');
    assert.equal(spans.length, 4);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 4);
    for (const s of spans) {
      assert.equal(s.name, 'GET /basic/:rnd');
      assert.equal(s.kind, SPAN_KIND_SERVER);
      assert.equal(s.status.code, 0);
      assert.equal(s.parentSpanId, '');
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.equal(s.scope.name, 'go.opentelemetry.io/obi');
      assertResource(s.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
      assert.equal(s.attributes['http.request.method'], 'GET');
      assert.equal(s.attributes['http.response.status_code'], 404);
      assert.equal(s.attributes['http.route'], '/basic/:rnd');
      assert.equal(s.attributes['url.scheme'], 'http');
      assert.equal(s.attributes['client.address'], CLIENT);
      assert.equal(s.attributes['server.port'], env.ports.test);
      const ns = s.endTimeUnixNano - s.startTimeUnixNano;
      assert.ok(ns >= 29_000_000n && ns < 1_000_000_000n, `duration ${ns}`);
    }
  });
});

describe('scenario 3: filter.application.url_path.not_match /metrics', () => {
  test('no span and no series for /metrics; the two requests were seen and dropped', async () => {
    assert.equal(env.agent.spans((s) => s.attributes['url.path'] === '/metrics').length, 0);
    const dropped = await env.prom.waitQuery('obi_spans_dropped_total{reason="filtered"}', (s) => one(s) === 2);
    assert.equal(dropped[0].metric.job, 'obi-internal');
    assert.deepEqual(await env.prom.query('{url_path="/metrics"}'), []);
    assert.deepEqual(await env.prom.query('traces_spanmetrics_calls_total{span_name="GET /metrics"}'), []);
  });

  test('OTLP: no span and no data point for /metrics', async () => {
    // what arrived for the other requests of the same server proves the exports ran
    await otlpPoint('http.server.request.duration', { 'url.path': '/basic/7' }, (p) => p.count === 4);
    await env.rx.waitSpans(4, (s) => s.attributes['url.path'] === '/basic/7');
    assert.deepEqual(env.rx.spans.filter((s) => s.attributes['url.path'] === '/metrics' || s.name === 'GET /metrics'), []);
    const tagged = env.rx.metrics.flatMap((m) => m.dataPoints.filter((p) => p.attributes['url.path'] === '/metrics' || p.attributes['span.name'] === 'GET /metrics' || p.attributes['http.route'] === '/metrics'));
    assert.deepEqual(tagged, []);
  });
});

describe('scenario 5: span metrics and service graph', () => {
  const svc = 'service_name="testserver",service_namespace="integration-test"';

  test('Prometheus: traces_spanmetrics_latency_count and traces_spanmetrics_calls_total = 4 for GET /basic/:rnd', async () => {
    const sel = `span_kind="SPAN_KIND_SERVER",span_name="GET /basic/:rnd",${svc}`;
    // 4 from the client address + 3 self-referencing ones: span metrics count every span
    const lat = await env.prom.waitQuery(`traces_spanmetrics_latency_count{${sel}}`, (s) => one(s) === 7);
    assert.equal(lat[0].metric.status_code, 'STATUS_CODE_UNSET');
    assert.equal(lat[0].metric.source, 'obi');
    assert.equal(lat[0].metric.job, 'integration-test/testserver');
    assert.equal(one(await env.prom.query(`traces_spanmetrics_calls_total{${sel}}`)), 7);
  });

  test('Prometheus: traces_target_info with the SDK language', async () => {
    const info = await env.prom.waitQuery(`traces_target_info{${svc}}`, (s) => one(s) === 1);
    assert.equal(info[0].metric.telemetry_sdk_language, 'nodejs');
    assert.equal(info[0].metric.instance, `${info[0].metric.host_name}:${env.pids.test}`);
    assert.equal(info[0].metric.host_id, HOST_ID);
  });

  test('Prometheus: traces_service_graph_request_server_seconds_count for the server namespace; no self references', async () => {
    // 4 × /basic/7, 3 routes of scenario 15 and 2 proxies, all from 127.0.0.2 (one edge)
    const edge = `client="${CLIENT}",server="testserver",server_service_namespace="integration-test"`;
    const srv = await env.prom.waitQuery(`traces_service_graph_request_server_seconds_count{server_service_namespace="integration-test"}`, (s) => one(s) === 9);
    assert.equal(srv[0].metric.client, CLIENT);
    assert.equal(one(await env.prom.query(`traces_service_graph_request_total{${edge}}`)), 9);
    assert.deepEqual(await env.prom.query(`traces_service_graph_request_failed_total{${edge}}`), []);
    // the 3 requests from 127.0.0.1 to 127.0.0.1 made spans and RED metrics but no service-graph series
    assert.equal(one(await env.prom.query(`http_server_request_duration_seconds_count{${svc},url_path="/basic/8"}`)), 3);
    assert.deepEqual(await env.prom.query('{__name__=~"traces_service_graph_.*",client="127.0.0.1",server="testserver"}'), []);
  });

  test('Prometheus: client edges — to an uninstrumented server a virtual_node counted on the client; to an instrumented one counted on its server', async () => {
    const virtual = `client="testserver",client_service_namespace="integration-test",server="${UNSELECTED_ADDR}",connection_type="virtual_node"`;
    assert.equal(one(await env.prom.waitQuery(`traces_service_graph_request_client_seconds_count{${virtual}}`, (s) => one(s) === 1)), 1);
    assert.equal(one(await env.prom.query(`traces_service_graph_request_total{${virtual}}`)), 1);
    const toPy = `client="testserver",server="pyserver",server_service_namespace="integration-test-py"`;
    const c = await env.prom.waitQuery(`traces_service_graph_request_client_seconds_count{${toPy}}`, (s) => one(s) === 1);
    assert.equal(c[0].metric.connection_type, undefined);
    // counted once, by the Python side, under testserver's name (both ends joined on this host,
    // docs/devdocs/correlation.md); its 2 direct ones (curl, not instrumented) by address
    assert.equal(one(await env.prom.query(`traces_service_graph_request_total{${toPy}}`)), 1);
    assert.equal(one(await env.prom.query('traces_service_graph_request_total{client="127.0.0.1",server="pyserver",server_service_namespace="integration-test-py"}')), 2);
  });

  const spanAttrs = { 'span.kind': 'SPAN_KIND_SERVER', 'span.name': 'GET /basic/:rnd', 'service.name': 'testserver', 'service.namespace': 'integration-test' };

  test('OTLP: traces_spanmetrics_latency (s) count 7 and traces_spanmetrics_calls_total (monotonic Sum) 7 for GET /basic/:rnd', async () => {
    const lat = await otlpPoint('traces_spanmetrics_latency', spanAttrs, (p) => p.count === 7);
    assert.equal(lat.metric.unit, 's');
    assert.equal(lat.metric.type, 'histogram');
    assertResource(lat.metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    assert.deepEqual(lat.point.attributes, {
      ...spanAttrs,
      'status.code': 'STATUS_CODE_UNSET',
      'service.instance.id': instance(env.pids.test),
      source: 'obi',
      'host.id': HOST_ID,
    });
    const calls = await otlpPoint('traces_spanmetrics_calls_total', spanAttrs, (p) => p.value === 7);
    assert.equal(calls.metric.type, 'sum');
    assert.equal(calls.metric.monotonic, true);
    assert.equal(calls.metric.temporality, 2);
    assert.equal(calls.metric.resource['service.instance.id'], instance(env.pids.test));
    // the client spans of the proxies are counted too, under their own span kind and names
    const clientNames = testSpans((s) => s.kind === 'client').map((s) => s.name);
    assert.equal(clientNames.length, 2);
    for (const name of new Set(clientNames)) {
      const n = clientNames.filter((x) => x === name).length;
      await otlpPoint('traces_spanmetrics_calls_total', { 'service.name': 'testserver', 'span.kind': 'SPAN_KIND_CLIENT', 'span.name': name }, (p) => p.value === n);
    }
  });

  test('OTLP: traces_target_info gauge 1 per instrumented service with the SDK language', async () => {
    const info = await otlpPoint('traces_target_info', { 'service.name': 'testserver' }, (p) => p.value === 1);
    assert.equal(info.metric.type, 'gauge');
    assertResource(info.metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    assert.deepEqual(info.point.attributes, {
      'service.name': 'testserver',
      'service.instance.id': instance(env.pids.test),
      'service.namespace': 'integration-test',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      source: 'obi',
      'os.type': 'linux',
      'host.id': HOST_ID,
    });
    const py = await otlpPoint('traces_target_info', { 'service.name': 'pyserver' }, (p) => p.value === 1);
    assert.equal(py.point.attributes['telemetry.sdk.language'], 'python');
    assert.deepEqual(otlpPoints('traces_target_info').map((x) => x.point.attributes['service.name']).sort(), ['pyserver', 'testserver']);
  });

  test('OTLP: service-graph server histogram count 9 and request_total 9 on the server side; no failed, no self references', async () => {
    const edge = { client: CLIENT, client_service_namespace: '', server: 'testserver', server_service_namespace: 'integration-test', source: 'obi' };
    const srv = await otlpPoint('traces_service_graph_request_server', { server_service_namespace: 'integration-test' }, (p) => p.count === 9);
    assert.equal(srv.metric.unit, 's');
    assert.deepEqual(srv.point.attributes, edge);
    assertResource(srv.metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    const total = await otlpPoint('traces_service_graph_request_total', edge, (p) => p.value === 9);
    assert.equal(total.metric.type, 'sum');
    assert.equal(total.metric.monotonic, true);
    assert.deepEqual(otlpPoints('traces_service_graph_request_failed_total', { server: 'testserver' }), []);
    const selfRefs = env.rx.metrics.filter((m) => m.name.startsWith('traces_service_graph_')).flatMap((m) => m.dataPoints.filter((p) => p.attributes.client === '127.0.0.1' && p.attributes.server === 'testserver'));
    assert.deepEqual(selfRefs, []);
  });

  test('OTLP: client edges — virtual_node counted on the client (testserver resource); to pyserver counted on the pyserver side', async () => {
    const virtual = { client: 'testserver', client_service_namespace: 'integration-test', server: UNSELECTED_ADDR, connection_type: 'virtual_node' };
    const c = await otlpPoint('traces_service_graph_request_client', virtual, (p) => p.count === 1);
    assertResource(c.metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    await otlpPoint('traces_service_graph_request_total', virtual, (p) => p.value === 1);
    const toPy = { client: 'testserver', server: 'pyserver', server_service_namespace: 'integration-test-py' };
    const cp = await otlpPoint('traces_service_graph_request_client', toPy, (p) => p.count === 1);
    assert.equal('connection_type' in cp.point.attributes, false);
    // counted once, on the pyserver side, under testserver's name (both ends joined on this host)
    const joined = await otlpPoint('traces_service_graph_request_total', toPy, (p) => p.value === 1);
    assertResource(joined.metric.resource, 'pyserver', 'integration-test-py', env.pids.py, 'python');
    const pyTotal = await otlpPoint('traces_service_graph_request_total', { client: '127.0.0.1', server: 'pyserver' }, (p) => p.value === 2);
    assertResource(pyTotal.metric.resource, 'pyserver', 'integration-test-py', env.pids.py, 'python');
  });
});

describe('scenario 13: several selected services, one unselected', () => {
  test('each series carries the configured service name and namespace; one process, no double counts', async () => {
    const py = await env.prom.waitQuery(`http_server_request_duration_seconds_count{server_port="${env.ports.py}"}`, (s) => one(s) === 3);
    assert.equal(py[0].metric.service_name, 'pyserver');
    assert.equal(py[0].metric.service_namespace, 'integration-test-py');
    assert.equal(py[0].metric.job, 'integration-test-py/pyserver');
    assert.deepEqual(await env.prom.query('{service_name="pyserver-duplicate"}'), []);
    const pySpans = env.agent.spans((s) => s.service.pid === env.pids.py);
    assert.equal(pySpans.length, 3);
    assert.ok(pySpans.every((s) => s.service.name === 'pyserver' && s.name === 'GET /index.html'));
  });

  test('the unselected process produces no series and no spans; its callers still see it as a peer', async () => {
    assert.deepEqual(await env.prom.query(`http_server_request_duration_seconds_count{server_port="${env.ports.unselected}"}`), []);
    assert.deepEqual(await env.prom.query('{url_path="/dont-instrument"}'), []);
    assert.equal(env.agent.spans((s) => s.service.pid === env.pids.unselected).length, 0);
    const client = await env.prom.waitQuery(`http_client_request_duration_seconds_count{service_name="testserver",server_port="${env.ports.unselected}"}`, (s) => one(s) === 1);
    assert.equal(client[0].metric.server_address, UNSELECTED_ADDR);
  });

  test('OTLP: each service under its own resource with the configured name and namespace; no double counts', async () => {
    const py = await otlpPoint('http.server.request.duration', { 'server.port': env.ports.py }, (p) => p.count === 3);
    assertResource(py.metric.resource, 'pyserver', 'integration-test-py', env.pids.py, 'python');
    assert.equal(py.point.attributes['service.name'], 'pyserver');
    assert.equal(py.point.attributes['service.namespace'], 'integration-test-py');
    await env.rx.waitSpans(3, (s) => s.resource['service.name'] === 'pyserver');
    const spans = otlpSpans(env.pids.py);
    assert.equal(spans.length, 3);
    assert.ok(spans.every((s) => s.name === 'GET /index.html' && s.kind === SPAN_KIND_SERVER && s.resource['service.name'] === 'pyserver'));
    const names = new Set([...env.rx.spans.map((s) => s.resource['service.name']), ...env.rx.metrics.map((m) => m.resource['service.name'])]);
    assert.deepEqual([...names].sort(), ['pyserver', 'testserver']);
  });

  test('OTLP: nothing from the unselected process; the proxy client spans carry the ids the agent gave them', async () => {
    assert.deepEqual(otlpSpans(env.pids.unselected), []);
    assert.deepEqual(env.rx.spans.filter((s) => s.attributes['url.path'] === '/dont-instrument'), []);
    const client = await otlpPoint('http.client.request.duration', { 'service.name': 'testserver', 'server.port': env.ports.unselected }, (p) => p.count === 1);
    assert.equal(client.point.attributes['server.address'], UNSELECTED_ADDR);
    assertResource(client.metric.resource, 'testserver', 'integration-test', env.pids.test, 'nodejs');
    await env.rx.waitSpans(2, (s) => s.kind === SPAN_KIND_CLIENT);
    const clients = otlpSpans(env.pids.test, (s) => s.kind === SPAN_KIND_CLIENT);
    // the same spans the printer showed: ids, trace ids, parents and names
    const key = (id: string, trace: string, parent: string | undefined, name: string, port: unknown): string => `${id} ${trace} ${parent ?? ''} ${name} ${String(port)}`;
    assert.deepEqual(
      clients.map((c) => key(c.spanId, c.traceId, c.parentSpanId, c.name, c.attributes['server.port'])).sort(),
      testSpans((s) => s.kind === 'client').map((s) => key(s.spanId, s.traceId, s.parentSpanId, s.name, s.attributes['server.port'])).sort(),
    );
    assert.deepEqual(clients.map((c) => c.attributes['server.port']).sort(), [env.ports.py, env.ports.unselected].sort());
  });

  test('obi_instrumented_processes reflects the selection', async () => {
    await env.prom.waitQuery('obi_instrumented_processes{process_name="testserver"}', (s) => one(s) === 1);
    await env.prom.waitQuery('obi_instrumented_processes{process_name="pyserver"}', (s) => one(s) === 1);
    const all = await env.prom.query('obi_instrumented_processes > 0');
    assert.deepEqual(all.map((s) => s.metric.process_name).sort(), ['pyserver', 'testserver']);
  });
});

describe('scenario 15: routes unmatched: heuristic', () => {
  const routes: [string, string][] = [
    ['/users/fdklsd/j4elk/23993/job/2', '/users/*/j4elk/*/job/*'],
    ['/v1/products/22', '/v1/products/*'],
    ['/api/hello.world', '/api/hello.world'],
  ];
  test('Prometheus: http_route of each path', async () => {
    for (const [path, route] of routes) {
      const s = await env.prom.waitQuery(`http_server_request_duration_seconds_count{service_name="testserver",url_path="${path}"}`, (r) => one(r) === 1);
      assert.equal(s[0].metric.http_route, route, path);
    }
  });
  test('spans: http.route and span names', () => {
    for (const [path, route] of routes) {
      const [s, ...more] = testSpans((x) => x.attributes['url.path'] === path);
      assert.equal(more.length, 0, path);
      assert.equal(s.attributes['http.route'], route);
      assert.equal(s.name, `GET ${route}`);
    }
  });
  test('OTLP: http.route on spans (and their names) and on metric points', async () => {
    for (const [path, route] of routes) {
      const [s, ...more] = await env.rx.waitSpans(1, (x) => x.attributes['url.path'] === path);
      assert.equal(more.length, 0, path);
      assert.equal(s.attributes['http.route'], route);
      assert.equal(s.name, `GET ${route}`);
      const { point } = await otlpPoint('http.server.request.duration', { 'service.name': 'testserver', 'url.path': path }, (p) => p.count === 1);
      assert.equal(point.attributes['http.route'], route);
      await otlpPoint('traces_spanmetrics_calls_total', { 'service.name': 'testserver', 'span.name': `GET ${route}` }, (p) => p.value === 1);
    }
  });
});
