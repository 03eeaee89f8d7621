/**
 * A real Prometheus server (Debian package `prometheus`) scrapes the agent every second while
 * curl drives a real nginx; its query API must return OBI's series with exact values:
 * RED metrics with `attributes.select`, span metrics (`application_span_otel`), `target_info`,
 * a numeric `filter.application` condition, the internal `obi_*` metrics on their own
 * endpoint (`internal_metrics.prometheus`), and series that expire after `prometheus_export.ttl`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, run, waitFor } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';
import { PrometheusServer, type PromSample } from '../helpers/prometheus.ts';

const INDEX = 'hello from nginx, scraped\n';
const TTL_S = 5;

const one = (samples: PromSample[]): number | undefined => (samples.length === 1 ? samples[0].value : undefined);

describe('Prometheus scrapes the agent: series and exact values through the query API', () => {
  let nginx: Nginx;
  let agent: TestAgent;
  let prom: PrometheusServer;
  let internalPort: number;
  let promPort: number;
  /** the agent's application endpoint (the harness's own port is overridden here) */
  const appMetrics = async (): Promise<string> => await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text();

  before(async () => {
    const port = await freePort();
    internalPort = await freePort();
    nginx = await startNginx(port, { files: { 'index.html': INDEX } });
    const dir = mkdtempSync(join(tmpdir(), 'obi-scrape-'));
    const config = join(dir, 'obi.yaml');
    writeFileSync(
      config,
      `open_port: ${port}
metrics:
  features: [application, application_span_otel]
prometheus_export:
  ttl: ${TTL_S}s
internal_metrics:
  prometheus:
    port: ${internalPort}
attributes:
  select:
    http_server_request_duration_seconds:
      include: ["*"]
      exclude: [client.address]
filter:
  application:
    http_response_status_code:
      not_equals: 418
`,
    );
    // Prometheus first: it needs ~5 s to discover its targets, time the agent start overlaps
    promPort = await freePort();
    prom = await PrometheusServer.start([
      { name: 'obi-app', port: promPort },
      { name: 'obi-internal', port: internalPort, path: '/internal/metrics' },
    ]);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: config, OTEL_EBPF_PROMETHEUS_PORT: String(promPort) });
    for (const pid of [nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(pid);
  });

  after(async () => {
    await prom?.stop();
    await agent?.stop();
    await nginx?.stop();
  });

  test('RED and span metrics after real traffic: exact counts, sums and buckets', async () => {
    const url = `http://127.0.0.1:${nginx.port}`;
    for (let i = 0; i < 5; i++) await run('curl', ['-sf', '-o', '/dev/null', `${url}/index.html`]);
    for (let i = 0; i < 3; i++) await run('curl', ['-s', '-o', '/dev/null', `${url}/missing`]);
    for (let i = 0; i < 2; i++) await run('curl', ['-s', '-o', '/dev/null', `${url}/teapot`]);
    const sel = `service_name="nginx",server_port="${nginx.port}",http_request_method="GET"`;

    // attributes.select: include "*" minus client.address on the duration histogram …
    const ok = await prom.waitQuery(`http_server_request_duration_seconds_count{${sel},http_response_status_code="200"}`, (s) => one(s) === 5);
    // (service_namespace is empty here: Prometheus stores no empty labels)
    const labels = Object.keys(ok[0].metric).filter((k) => k !== '__name__').sort();
    assert.deepEqual(labels, [
      'http_request_method',
      'http_response_status_code',
      'http_route',
      'instance',
      'job',
      'server_address',
      'server_port',
      'service_name',
      'url_path',
      'url_scheme',
    ]);
    assert.equal(ok[0].metric.url_path, '/index.html');
    assert.equal(ok[0].metric.http_route, '/index.html');
    assert.equal(ok[0].metric.job, 'nginx');
    assert.match(ok[0].metric.instance, /^.+:\d+$/);
    assert.equal(one(await prom.query(`http_server_request_duration_seconds_bucket{${sel},http_response_status_code="200",le="+Inf"}`)), 5);
    assert.equal(one(await prom.waitQuery(`http_server_request_duration_seconds_count{${sel},http_response_status_code="404"}`, (s) => one(s) === 3)), 3);
    const sum = one(await prom.query(`http_server_request_duration_seconds_sum{${sel},http_response_status_code="200"}`))!;
    assert.ok(sum > 0 && sum < 1, `sum ${sum}`);
    // … while the other histograms keep OBI's default labels (no url_path)
    const body = await prom.waitQuery(`http_server_response_body_size_bytes_sum{${sel},http_response_status_code="200"}`, (s) => one(s) === 5 * INDEX.length);
    assert.equal(body[0].metric.url_path, undefined);
    assert.equal(one(await prom.query(`http_server_response_body_size_bytes_bucket{${sel},http_response_status_code="200",le="32"}`)), 5);
    assert.equal(one(await prom.query(`http_server_request_body_size_bytes_count{${sel},http_response_status_code="200"}`)), 5);

    // span metrics, OTel-style names
    const calls = await prom.waitQuery('traces_span_metrics_calls_total{service_name="nginx",span_name="GET /index.html"}', (s) => one(s) === 5);
    assert.deepEqual(
      Object.fromEntries(Object.entries(calls[0].metric).filter(([k]) => ['span_kind', 'status_code', 'source', 'telemetry_sdk_language', 'job'].includes(k))),
      { span_kind: 'SPAN_KIND_SERVER', status_code: 'STATUS_CODE_UNSET', source: 'obi', telemetry_sdk_language: 'generic', job: 'nginx' },
    );
    assert.equal(one(await prom.query('sum(traces_span_metrics_calls_total{service_name="nginx"})')), 8);
    assert.equal(one(await prom.query('sum(traces_span_metrics_duration_seconds_count{service_name="nginx"})')), 8);
    assert.equal(one(await prom.query('count(traces_target_info{service_name="nginx"})')), agent.agent.status().tracked.filter((p) => p.service.name === 'nginx').length);

    // filter.application.http_response_status_code.not_equals 418: no metric, no span
    assert.deepEqual(await prom.query('http_server_request_duration_seconds_count{http_response_status_code="418"}'), []);
    assert.equal(agent.spans((s) => s.attributes['http.response.status_code'] === 418).length, 0);
    assert.equal(agent.spans((s) => s.attributes['http.response.status_code'] === 200).length, 5);
    const dropped = await prom.waitQuery('obi_spans_dropped_total{reason="filtered"}', (s) => one(s) === 2);
    assert.equal(dropped.length, 1);
  });

  test('both endpoints are scraped; application and obi_* metrics are apart', async () => {
    await waitFor('both targets up', async () => {
      const t = await prom.targets();
      return t['obi-app'] === 'up' && t['obi-internal'] === 'up';
    }, 10_000, 200);
    const app = await appMetrics();
    assert.equal(app.includes('obi_'), false);
    const internal = await (await fetch(`http://127.0.0.1:${internalPort}/internal/metrics`)).text();
    assert.match(internal, /^# TYPE obi_instrumented_processes gauge$/m);
    assert.equal(internal.includes('http_server_'), false);
    const tracked = agent.agent.status().tracked.filter((p) => p.service.name === 'nginx').length;
    assert.ok(tracked >= 2, `nginx master and worker tracked, got ${tracked}`);
    const inst = await prom.waitQuery('obi_instrumented_processes{process_name="nginx"}', (s) => one(s) === tracked);
    assert.equal(inst[0].metric.job, 'obi-internal');
    // every scrape of the app endpoint is counted, on the internal endpoint
    const reqs = await prom.waitQuery(`obi_prometheus_http_requests_total{path="/metrics",port="${promPort}"}`, (s) => (one(s) ?? 0) >= 1);
    assert.equal(reqs.length, 1);
    const targets = await prom.waitQuery('count(target_info{service_name="nginx"})', (s) => one(s) === tracked);
    assert.equal(targets.length, 1);
  });

  test(`series not updated for prometheus_export.ttl (${TTL_S}s) disappear from the endpoint and from Prometheus`, async () => {
    const t0 = Date.now();
    await waitFor('RED series expired on the endpoint', async () => !(await appMetrics()).includes('http_server_request_duration_seconds_count{'), 15_000, 200);
    const waited = (Date.now() - t0) / 1000;
    assert.ok(waited <= TTL_S * 2 + 1, `expired after ${waited}s`);
    const text = await appMetrics();
    assert.equal(text.includes('traces_span_metrics_calls_total{'), false);
    assert.match(text, /^target_info\{.*service_name="nginx"/m); // target_info lives as long as the process
    await prom.waitQuery('http_server_request_duration_seconds_count{service_name="nginx"}', (s) => s.length === 0, 10_000);
    await prom.waitQuery('traces_span_metrics_calls_total{service_name="nginx"}', (s) => s.length === 0, 10_000);
    // new traffic brings the series back, counting from zero
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nginx.port}/index.html`]);
    const back = await prom.waitQuery('http_server_request_duration_seconds_count{service_name="nginx",http_response_status_code="200"}', (s) => s.length === 1);
    assert.equal(back[0].value, 1);
  });
});
