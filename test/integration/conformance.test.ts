/**
 * Conformance with OBI's documented behaviour: scenarios 1, 3, 5, 13 and 15 of obi-reference.md
 * §8.2, adapted to the servers available here (a Node.js HTTP server for OBI's Go "testserver",
 * Python http.server, an unselected Node.js server), with OBI's integration-test configuration
 * (`routes.patterns: [/basic/:rnd]`, `filter.application.url_path.not_match: /metrics`,
 * `attributes.select."*".include: ["*"]`, span metrics and service graph on, internal metrics on
 * their own port). A real Prometheus scrapes the agent; every check is an exact value.
 *
 * Layout: one agent and one traffic run (`before`), then one `describe` per scenario whose
 * `test`s read what arrived at a backend. Prometheus checks are here; OTLP checks of the same
 * scenarios belong next to them, as more `test`s reading the OTLP receiver (start it in
 * `before` and point OTEL_EXPORTER_OTLP_ENDPOINT at it in `agentEnv`).
 *
 * Adaptations: clients use source address 127.0.0.2 (`curl --interface`), because OBI counts an
 * edge whose two ends have the same address as a self reference and a loopback test would have
 * nothing else; the Python server binds 127.0.0.4 and the unselected server 127.0.0.3 for the
 * same reason. `telemetry_sdk_language` is `nodejs` (OBI's test server is Go).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { PrometheusServer, type PromSample } from '../helpers/prometheus.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-server.mjs');
const one = (s: PromSample[]): number | undefined => (s.length === 1 ? s[0].value : undefined);
/** OBI's test client address, and the addresses the servers bind */
const CLIENT = '127.0.0.2';
const UNSELECTED_ADDR = '127.0.0.3';
const PY_ADDR = '127.0.0.4';

interface Env {
  prom: PrometheusServer;
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
  const agentEnv = { OTEL_EBPF_CONFIG_PATH: config, OTEL_EBPF_PROMETHEUS_PORT: String(ports.app) };
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
  for (const p of procs) await p.kill();
});

const testSpans = (f: (s: SpanJSON) => boolean): SpanJSON[] => env.agent.spans((s) => s.service.pid === env.pids.test && f(s));

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
});

describe('scenario 3: filter.application.url_path.not_match /metrics', () => {
  test('no span and no series for /metrics; the two requests were seen and dropped', async () => {
    assert.equal(env.agent.spans((s) => s.attributes['url.path'] === '/metrics').length, 0);
    const dropped = await env.prom.waitQuery('obi_spans_dropped_total{reason="filtered"}', (s) => one(s) === 2);
    assert.equal(dropped[0].metric.job, 'obi-internal');
    assert.deepEqual(await env.prom.query('{url_path="/metrics"}'), []);
    assert.deepEqual(await env.prom.query('traces_spanmetrics_calls_total{span_name="GET /metrics"}'), []);
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
    assert.deepEqual(await env.prom.query(`traces_service_graph_request_total{${toPy}}`), []);
    // the Python side counts that call (from testserver's address) with its 2 direct ones
    assert.equal(one(await env.prom.query('traces_service_graph_request_total{client="127.0.0.1",server="pyserver",server_service_namespace="integration-test-py"}')), 3);
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
});
