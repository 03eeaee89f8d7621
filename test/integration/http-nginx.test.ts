/**
 * nginx (Debian package, master + workers, sendfile on) instrumented by open
 * port: spans come from the worker processes (children of the selected
 * master), body sizes from sendfile(2), exact counts on the metrics endpoint.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestAgent, freePort, run, type SpanJSON } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

describe('HTTP/1.x: nginx with workers, sendfile and keep-alive', () => {
  let agent: TestAgent;
  let early: Nginx;
  let late: Nginx;

  before(async () => {
    early = await startNginx(await freePort(), { workers: 2, files: { 'index.html': 'x'.repeat(600), 'big.bin': Buffer.alloc(300_000, 1) } });
    const latePort = await freePort();
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${early.port},${latePort}` });
    late = await startNginx(latePort, { workers: 1 });
  });

  after(async () => {
    await agent?.stop();
    await early?.stop();
    await late?.stop();
  });

  const on = (port: number) => (s: SpanJSON) => s.kind === 'server' && s.attributes['server.port'] === port;

  test('master and workers started before the agent are all instrumented', async () => {
    for (const pid of [early.proc.pid, ...early.workerPids()]) await agent.waitTracked(pid);
    const svc = agent.agent.status().tracked.filter((p) => p.pid === early.proc.pid || early.workerPids().includes(p.pid));
    assert.equal(svc.length, 3);
    assert.ok(svc.every((p) => p.service.name === 'nginx'));
  });

  test('keep-alive and one connection per request: exact counts, statuses, sizes from sendfile', async () => {
    const urls = (path: string, n: number): string[] => Array.from({ length: n }, () => `http://127.0.0.1:${early.port}${path}`);
    await run('curl', ['-s', ...urls('/index.html', 10).flatMap((u) => ['-o', '/dev/null', u])]);
    for (let i = 0; i < 3; i++) await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${early.port}/missing/${i}`]);
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${early.port}/teapot`]);
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${early.port}/big.bin`]);
    const spans = await agent.waitSpans(15, on(early.port));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(agent.spans(on(early.port)).length, 15);
    const index = spans.filter((s) => s.name === 'GET /index.html');
    assert.equal(index.length, 10);
    assert.ok(index.every((s) => s.attributes['http.response.status_code'] === 200 && s.attributes['http.response.body.size'] === 600));
    assert.ok(index.every((s) => early.workerPids().includes(s.service.pid)), 'served by workers');
    const missing = spans.filter((s) => s.attributes['http.response.status_code'] === 404);
    assert.equal(missing.length, 3);
    assert.ok(missing.every((s) => s.name === 'GET /missing/*' && s.status === 'unset'));
    const [teapot] = spans.filter((s) => s.attributes['http.response.status_code'] === 418);
    assert.equal(teapot.name, 'GET /teapot');
    const [big] = spans.filter((s) => s.name === 'GET /big.bin');
    assert.equal(big.attributes['http.response.body.size'], 300_000);
    const lbl = { service_name: 'nginx', server_port: String(early.port) };
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { ...lbl, http_route: '/index.html', http_response_status_code: '200' }), 10);
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { ...lbl, http_route: '/missing/*', http_response_status_code: '404' }), 3);
    assert.equal(await agent.metricValue('http_server_response_body_size_bytes_sum', { ...lbl, http_route: '/index.html' }), 6000);
  });

  test('nginx started after the agent: master and its worker picked up without restarts', async () => {
    await agent.waitTracked(late.proc.pid, 1000);
    for (const w of late.workerPids()) await agent.waitTracked(w, 1000);
    for (let i = 0; i < 4; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${late.port}/`]);
    const spans = await agent.waitSpans(4, on(late.port));
    assert.equal(spans.length, 4);
    assert.ok(spans.every((s) => s.name === 'GET /' && s.attributes['http.response.status_code'] === 200 && s.attributes['http.response.body.size'] === 17));
  });

  test('stopping nginx clears its pids from the kernel filter', async () => {
    const pids = [late.proc.pid, ...late.workerPids()];
    await late.stop();
    await (await import('../helpers/harness.ts')).waitFor('nginx pids gone', () => pids.every((p) => !agent.agent.kernelPids().includes(p) && !agent.agent.kernelConnPids().includes(p)));
  });
});
