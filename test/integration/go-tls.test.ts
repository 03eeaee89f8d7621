/**
 * Go's crypto/tls end to end on the real kernel: a Go HTTPS server (HTTP/1.1 only) and a Go client,
 * both built here from Debian's Go toolchain and standard library (GOPATH mode, no module
 * download), both traced. Go does not use libssl: the plaintext comes from the uprobes on
 * crypto/tls.(*Conn).Read and Write (entry and each RET; bpf/probes/go_tls.h). One keep-alive
 * connection carries GET /hello x3, a POST with a 10-byte body and a 404; each side must report
 * exactly those five, with sizes, and nothing from the ciphertext.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestAgent, freePort, run, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, type Gate } from '../helpers/db-servers.ts';
import { makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';

const root = join(import.meta.dirname, '../..');
/** the span's connection was TLS (the printer's `conn` field) */
const onTls = (s: SpanJSON): boolean => (s as unknown as { conn?: { tls?: boolean } }).conn?.tls === true;
const src = join(root, 'test/helpers/apps/gotls/main.go');
const binDir = join(root, 'build/test-go');
const bin = join(binDir, 'gotls');

const summary = (spans: SpanJSON[]): unknown[] =>
  spans.map((s) => [s.name, s.kind, s.attributes['http.response.status_code'], s.attributes['http.request.body.size'], s.attributes['http.response.body.size']]);

describe('Go crypto/tls: a Go HTTPS server and a Go client (HTTP/1.1)', () => {
  let agent: TestAgent;
  let gate: Gate;
  let server: GatedServer;
  let tls: { dir: string; cert: string; key: string };
  let port: number;

  before(async () => {
    mkdirSync(binDir, { recursive: true });
    await run('go', ['build', '-o', bin, src], {
      env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' },
    });
    tls = await makeCert('obi-go-tls-');
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
    port = await freePort();
    server = await startGatedServer(agent, gate, bin, ['server', String(port), tls.cert, tls.key], /listening/, { OTEL_SERVICE_NAME: 'go-tls-server' });
  });

  after(async () => {
    server?.stop();
    await agent?.stop();
    gate?.cleanup();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  test('both sides: five requests on one connection, exact spans and metrics', async () => {
    // the client waits for a line on stdin until its crypto/tls is instrumented (the uprobes attach after exec)
    const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', bin, 'client', tls.cert, `https://localhost:${port}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SERVICE_NAME: 'go-tls-client' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    const pid = child.pid!;
    await agent.waitTracked(pid);
    child.stdin.write('exec\n');
    await waitFor('the Go client is instrumented', () => agent.agent.tlsLibraries().some((l) => l.kind === 'go' && l.users.includes(pid)));
    child.stdin.end('go\n');
    assert.equal(await exited, 0, output);
    assert.equal(output, '200 200 200 201 404\n');

    const expected = (kind: string): unknown[] => [
      ['GET /hello', kind, 200, 0, 14],
      ['GET /hello', kind, 200, 0, 14],
      ['GET /hello', kind, 200, 0, 14],
      ['POST /echo', kind, 201, 10, 2],
      ['GET /missing', kind, 404, 0, 19],
    ];
    const client = await agent.waitSpans(5, (s) => s.service.pid === pid);
    assert.deepEqual(summary(client), expected('client'));
    assert.ok(client.every((s) => s.attributes['url.scheme'] === 'https' && s.attributes['user_agent.original'] === 'Go-http-client/1.1' && onTls(s)));
    assert.equal(client[0].attributes['url.full'], `https://localhost:${port}/hello`);
    assert.equal(client[4].status, 'error');

    const srv = await agent.waitSpans(5, (s) => s.service.pid === server.pid);
    assert.deepEqual(summary(srv), expected('server'));
    assert.ok(srv.every((s) => s.attributes['url.scheme'] === 'https' && s.attributes['user_agent.original'] === 'Go-http-client/1.1' && onTls(s)));
    assert.equal(srv[4].status, 'unset');
    // client and server spans pair up by time: each server span lies within its client span
    for (let i = 0; i < 5; i++) assert.ok(Date.parse(srv[i].start) >= Date.parse(client[i].start) - 1, `request ${i}`);

    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { service_name: 'go-tls-server', http_route: '/hello', http_response_status_code: '200', url_scheme: 'https' }), 3);
    assert.equal(await agent.metricValue('http_client_request_duration_seconds_count', { service_name: 'go-tls-client', http_request_method: 'POST', http_response_status_code: '201' }), 1);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans((s) => s.service.pid === pid || s.service.pid === server.pid).length, 10); // nothing from the ciphertext
  });
});
