/**
 * HTTP/1.x end to end on the real kernel: a Node.js http server and a Python
 * http.server, driven by curl and by Node fetch, give exact spans and metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARMUP_PID, WARMUP_SERVICE } from '../../src/pipeline/warmup.ts';
import { TestAgent, freePort, nodeBin, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-server.mjs');
const fetchClient = join(import.meta.dirname, '../helpers/apps/fetch-client.mjs');

describe('HTTP/1.x: Node.js and Python servers, curl and fetch clients', () => {
  let agent: TestAgent;
  let nodeSrv: Proc;
  let pySrv: Proc;
  let nodePort: number;
  let pyPort: number;
  let pyDir: string;

  before(async () => {
    nodePort = await freePort();
    pyPort = await freePort();
    pyDir = mkdtempSync(join(tmpdir(), 'obi-py-'));
    writeFileSync(join(pyDir, 'index.html'), 'x'.repeat(1234));
    // the Node server predates the agent (found by the /proc scan) ...
    nodeSrv = startProcess(nodeBin, [app, String(nodePort)]);
    await waitForPort(nodePort);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${nodePort},${pyPort}` });
    await agent.waitTracked(nodeSrv.pid);
    // ... the Python server starts after it (found by its listen() event), without restarting anything
    pySrv = startProcess('python3', ['-m', 'http.server', String(pyPort), '--bind', '127.0.0.1', '--directory', pyDir]);
    await waitForPort(pyPort);
  });

  after(async () => {
    await agent?.stop();
    await nodeSrv?.kill();
    await pySrv?.kill();
  });

  const server = (port: number) => (s: SpanJSON) => s.kind === 'server' && s.attributes['server.port'] === port;

  test('a process started after the agent is instrumented within one second', async () => {
    const t0 = Date.now();
    await agent.waitTracked(pySrv.pid, 1000);
    assert.ok(Date.now() - t0 <= 1000);
    const p = agent.agent.status().tracked.find((x) => x.pid === pySrv.pid)!;
    assert.equal(p.via, 'listen');
    assert.equal(p.info.language, 'python');
  });

  test('curl, one connection per request: exact counts per status and route', async () => {
    for (let i = 0; i < 5; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/hello`]);
    for (let i = 0; i < 3; i++) await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/status/503`]);
    const spans = await agent.waitSpans(8, server(nodePort));
    assert.equal(spans.length, 8);
    const hello = spans.filter((s) => s.name === 'GET /hello');
    assert.equal(hello.length, 5);
    for (const s of hello) {
      assert.equal(s.attributes['http.request.method'], 'GET');
      assert.equal(s.attributes['http.response.status_code'], 200);
      assert.equal(s.attributes['url.path'], '/hello');
      assert.equal(s.attributes['http.route'], '/hello');
      assert.equal(s.attributes['client.address'], '127.0.0.1');
      assert.equal(s.attributes['http.response.body.size'], 12);
      assert.equal(s.status, 'unset');
      assert.equal(s.service.name, 'node');
      assert.equal(s.service.pid, nodeSrv.pid);
    }
    const err = spans.filter((s) => s.attributes['http.response.status_code'] === 503);
    assert.equal(err.length, 3);
    assert.ok(err.every((s) => s.status === 'error' && s.name === 'GET /status/*'));
    const labels = { service_name: 'node', server_port: String(nodePort), http_request_method: 'GET' };
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { ...labels, http_route: '/hello', http_response_status_code: '200' }), 5);
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { ...labels, http_route: '/status/*', http_response_status_code: '503' }), 3);
    assert.equal(await agent.metricValue('http_server_response_body_size_bytes_sum', { ...labels, http_route: '/hello' }), 60);
  });

  test('keep-alive: curl with many URLs on one connection, and Node fetch', async () => {
    const ids = [101, 102, 103, 104];
    await run('curl', ['-sf', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', ...ids.map((i) => `http://127.0.0.1:${nodePort}/users/${i}`)]);
    const spans = await agent.waitSpans(4, (s) => server(nodePort)(s) && s.name === 'GET /users/*');
    assert.equal(spans.length, 4);
    assert.deepEqual(spans.map((s) => s.attributes['url.path']), ids.map((i) => `/users/${i}`));
    assert.equal(new Set(spans.map((s) => s.attributes['client.port'] ?? '')).size, 1);
    const out = await run(nodeBin, [fetchClient, ...Array.from({ length: 6 }, () => `http://127.0.0.1:${pyPort}/index.html`)]);
    assert.equal(out.trim(), '200 200 200 200 200 200');
    const py = await agent.waitSpans(6, server(pyPort));
    assert.equal(py.length, 6);
    for (const s of py) {
      assert.equal(s.name, 'GET /index.html');
      assert.equal(s.attributes['http.response.body.size'], 1234);
      assert.equal(s.service.name.startsWith('python3'), true);
    }
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { server_port: String(pyPort), http_route: '/index.html', http_response_status_code: '200' }), 6);
  });

  test('a handler that sleeps 50 ms gives a span of at least 50 ms', async () => {
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/sleep`]);
    const [s] = await agent.waitSpans(1, (x) => server(nodePort)(x) && x.name === 'GET /sleep');
    assert.ok(s.durationNs >= 50e6, `duration ${s.durationNs} ns`);
    assert.ok(s.durationNs < 1e9, `duration ${s.durationNs} ns`);
  });

  test('requests and responses larger than the captured prefix, chunked bodies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obi-body-'));
    const body = join(dir, 'body.bin');
    writeFileSync(body, Buffer.alloc(100_000, 97));
    const echoed = await run('curl', ['-sf', '--data-binary', `@${body}`, '-H', 'Content-Type: application/octet-stream', `http://127.0.0.1:${nodePort}/echo`]);
    assert.equal(echoed, '100000');
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/big`]);
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/chunked`]);
    const [echo] = await agent.waitSpans(1, (s) => server(nodePort)(s) && s.name === 'POST /echo');
    assert.equal(echo.attributes['http.request.body.size'], 100_000);
    assert.equal(echo.attributes['http.response.status_code'], 200);
    const [big] = await agent.waitSpans(1, (s) => server(nodePort)(s) && s.name === 'GET /big');
    assert.equal(big.attributes['http.response.body.size'], 200_000);
    const [chunked] = await agent.waitSpans(1, (s) => server(nodePort)(s) && s.name === 'GET /chunked');
    assert.equal(chunked.attributes['http.response.body.size'], 600);
  });

  test('an incoming traceparent is honoured; without one a new trace starts', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await run('curl', ['-sf', '-o', '/dev/null', '-H', `traceparent: 00-${trace}-${parent}-01`, `http://127.0.0.1:${nodePort}/hello?traced=1`]);
    const [s] = await agent.waitSpans(1, (x) => server(nodePort)(x) && x.attributes['url.query'] === 'traced=1');
    assert.equal(s.traceId, trace);
    assert.equal(s.parentSpanId, parent);
    assert.notEqual(s.spanId, parent);
    const others = agent.spans((x) => server(nodePort)(x) && x.name === 'GET /hello' && x.attributes['url.query'] === undefined);
    assert.ok(others.length >= 5);
    assert.ok(others.every((x) => x.parentSpanId === undefined && x.traceId !== trace));
  });

  test('client spans from an instrumented process (Node fetch inside the Node server)', async () => {
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${nodePort}/proxy?port=${pyPort}&path=/index.html`]);
    const [client] = await agent.waitSpans(1, (s) => s.kind === 'client' && s.service.pid === nodeSrv.pid);
    assert.equal(client.name, 'GET /index.html');
    assert.equal(client.attributes['http.request.method'], 'GET');
    assert.equal(client.attributes['http.response.status_code'], 200);
    assert.equal(client.attributes['server.port'], pyPort);
    assert.equal(client.attributes['server.address'], '127.0.0.1');
    assert.equal(client.attributes['url.full'], `http://127.0.0.1:${pyPort}/index.html`);
    const [proxy] = await agent.waitSpans(1, (s) => server(nodePort)(s) && s.name === 'GET /proxy');
    assert.equal(proxy.attributes['http.response.status_code'], 200);
    assert.ok(await agent.metricValue('http_client_request_duration_seconds_count', { service_name: 'node', server_port: String(pyPort) }) === 1);
  });

  test('no events were dropped, and the drop counter is on the metrics endpoint', async () => {
    assert.equal(await agent.metricValue('obi_ebpf_events_dropped_total', {}), 0);
    assert.equal(agent.agent.status().kernelDropped, 0n);
  });

  test('the ingest warm-up at start (pipeline/warmup.ts) left no span, series or connection behind', async () => {
    assert.ok(agent.spans().length > 0);
    assert.equal(agent.spans((s) => JSON.stringify(s).includes(WARMUP_SERVICE)).length, 0);
    assert.ok(!(await agent.metrics()).includes(WARMUP_SERVICE));
    assert.ok(!agent.agent.status().connectionPids.includes(WARMUP_PID));
  });

  test('an exited process leaves no kernel map entries behind', async () => {
    const pid = pySrv.pid;
    assert.ok(agent.agent.kernelPids().includes(pid));
    assert.equal(agent.agent.kernelPidBit(pid), true, 'its bit is set in the fast filter');
    await pySrv.kill();
    await (await import('../helpers/harness.ts')).waitFor('python gone from the kernel maps', () =>
      !agent.agent.kernelPids().includes(pid) && !agent.agent.kernelConnPids().includes(pid) && !agent.agent.status().tracked.some((p) => p.pid === pid));
    assert.equal(agent.agent.kernelPidBit(pid), false, 'its bit is cleared');
  });
});
