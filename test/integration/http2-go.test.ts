/**
 * Plain HTTP/2 end to end on the real kernel: a Go server built here from Debian's Go toolchain
 * and golang.org/x/net (GOPATH mode, no module download) serving h2c and h2 over TLS, and curl
 * (libcurl + nghttp2, OpenSSL) as the traced client:
 * - h2c with prior knowledge: four requests on one connection, one of them a 2 MiB body followed
 *   by trailers (the kernel follows the frames, so the trailers' HPACK insertions are seen and
 *   the next request on the connection decodes); spans on both sides, HTTP metrics;
 * - h2c by `Upgrade: h2c` (curl --http2 on http://);
 * - h2 over TLS by ALPN (curl --http2 on https://): curl's side from the OpenSSL uprobes, the Go
 *   server's from the uprobes on its crypto/tls (bpf/probes/go_tls.h), a 2 MiB body with trailers
 *   among the requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestAgent, freePort, run, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';

const root = join(import.meta.dirname, '../..');
/** the span's connection was TLS (the printer's `conn` field) */
const onTls = (s: SpanJSON): boolean => (s as unknown as { conn?: { tls?: boolean } }).conn?.tls === true;
const src = join(root, 'test/helpers/apps/h2server/main.go');

const summary = (spans: SpanJSON[]): unknown[] =>
  spans.map((s) => [s.name, s.kind, s.attributes['http.response.status_code'], s.attributes['network.protocol.version'], s.attributes['http.response.body.size']]);

describe('HTTP/2: a Go server (x/net/http2, h2c) and curl', () => {
  let agent: TestAgent;
  let gate: Gate;
  let server: GatedServer;
  let tls: { dir: string; cert: string; key: string };
  let port: number;
  let tlsPort: number;
  const binDir = join(root, 'build/test-go');

  before(async () => {
    mkdirSync(binDir, { recursive: true });
    await run('go', ['build', '-o', join(binDir, 'h2server'), src], {
      env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' },
    });
    tls = await makeCert('obi-h2-go-');
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
    port = await freePort();
    tlsPort = await freePort();
    server = await startGatedServer(agent, gate, join(binDir, 'h2server'), [String(port), String(tlsPort), tls.cert, tls.key], /listening/, { OTEL_SERVICE_NAME: 'go-h2' });
  });

  after(async () => {
    server?.stop();
    await agent?.stop();
    gate?.cleanup();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;
  const ofServer = (scheme: string) => (s: SpanJSON) => s.service.pid === server.pid && s.attributes['url.scheme'] === scheme;

  const curl = async (name: string, args: string[], urls: string[]): Promise<{ pid: number; output: string }> => {
    const out = urls.flatMap(() => ['-o', '/dev/null']);
    const r = await runGated(agent, gate, 'curl', ['-s', ...args, ...out, '-w', '%{http_code} %{size_download} %{num_connects} %{http_version}\\n', ...urls], { env: { OTEL_SERVICE_NAME: name } });
    assert.equal(r.code, 0, r.output);
    return r;
  };

  test('h2 over TLS with ALPN (curl --http2 on https://): curl\'s and the Go server\'s spans, https, version 2', async () => {
    const base = `https://localhost:${tlsPort}`;
    // curl reads its URLs from stdin once its libssl is instrumented (the uprobes attach after exec)
    const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', 'curl', '-s', '--http2', '--cacert', tls.cert, '-w', '%{http_code} %{size_download} %{num_connects} %{http_version}\\n', '-K', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SERVICE_NAME: 'curl-h2-tls' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    await agent.waitTracked(child.pid!);
    child.stdin.write('go\n');
    await waitFor('curl maps an instrumented libssl', () => agent.agent.tlsLibraries().some((l) => l.kind === 'openssl' && l.users.includes(child.pid!))).catch((e) => {
      console.log(child.pid, JSON.stringify(agent.agent.tlsLibraries()), agent.logs.filter((l) => /TLS|tls/.test(l)).join('\n'));
      throw e;
    });
    child.stdin.end([`${base}/hello`, `${base}/big`, `${base}/hello`].map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
    assert.equal(await exited, 0, output);
    const r = { pid: child.pid!, output };
    assert.equal(r.output, '200 13 1 2\n200 2097152 0 2\n200 13 0 2\n');
    const client = await agent.waitSpans(3, of(r.pid));
    assert.deepEqual(summary(client), [
      ['GET /hello', 'client', 200, '2', 13],
      ['GET /big', 'client', 200, '2', 2097152],
      ['GET /hello', 'client', 200, '2', 13],
    ]);
    assert.ok(client.every((s) => s.attributes['url.scheme'] === 'https'));
    assert.equal(client[0].attributes['url.full'], `${base}/hello`);
    // the Go server's side, from the crypto/tls uprobes (bpf/probes/go_tls.h)
    const srv = await agent.waitSpans(3, ofServer('https'));
    assert.deepEqual(summary(srv), [
      ['GET /hello', 'server', 200, '2', 13],
      ['GET /big', 'server', 200, '2', 2097152],
      ['GET /hello', 'server', 200, '2', 13],
    ]);
    assert.ok(srv.every((s) => onTls(s) && s.attributes['user_agent.original'] === client[0].attributes['user_agent.original']));
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { service_name: 'go-h2', http_route: '/big', http_response_status_code: '200', url_scheme: 'https' }), 1);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans(of(server.pid)).length, 3); // nothing from the ciphertext
    assert.ok(agent.agent.tlsLibraries().some((l) => l.kind === 'go' && l.users.includes(server.pid)));
  });

  test('h2c by Upgrade (curl --http2 on http://): four requests on one connection, a 2 MiB body with trailers among them', async () => {
    const base = `http://127.0.0.1:${port}`;
    const r = await curl('curl-h2c', ['--http2'], [`${base}/hello`, `${base}/big`, `${base}/missing`, `${base}/hello`]);
    assert.equal(r.output, '200 13 1 2\n200 2097152 0 2\n404 19 0 2\n200 13 0 2\n'); // one connection, upgraded, reused
    const expected = (kind: string): unknown[] => [
      ['GET /hello', kind, 200, '2', 13],
      ['GET /big', kind, 200, '2', 2097152],
      ['GET /missing', kind, 404, '2', 19],
      ['GET /hello', kind, 200, '2', 13],
    ];
    const client = await agent.waitSpans(4, of(r.pid));
    assert.deepEqual(summary(client), expected('client'));
    assert.equal(client[0].attributes['url.full'], `${base}/hello`);
    const srv = await agent.waitSpans(4, ofServer('http'));
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans(ofServer('http')).length, 4);
    assert.deepEqual(summary(srv), expected('server'));
    assert.equal(srv[2].status, 'unset'); // a server's 404 is not an error
    assert.equal(client[2].status, 'error'); // a client's is
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { service_name: 'go-h2', http_route: '/hello', http_response_status_code: '200', url_scheme: 'http' }), 2);
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { service_name: 'go-h2', http_route: '/big', http_response_status_code: '200', url_scheme: 'http' }), 1);
    assert.equal(await agent.metricValue('http_client_request_duration_seconds_count', { service_name: 'curl-h2c', http_response_status_code: '404' }), 1);
    assert.doesNotMatch(await agent.metrics(), /obi_http2_streams_events_total\{event="(header_block_lost|desync|partial)"\} [1-9]/);
  });

  test('h2c with prior knowledge (curl --http2-prior-knowledge): a 2 MiB body with trailers, a POST with a body', async () => {
    const base = `http://127.0.0.1:${port}`;
    const big = await curl('curl-prior', ['--http2-prior-knowledge'], [`${base}/big`]);
    assert.equal(big.output, '200 2097152 1 2\n');
    const post = await curl('curl-prior', ['--http2-prior-knowledge', '--data-binary', 'abcdefghij'], [`${base}/echo`]);
    assert.equal(post.output, '201 2 1 2\n');
    assert.deepEqual(summary(await agent.waitSpans(1, of(big.pid))), [['GET /big', 'client', 200, '2', 2097152]]);
    const p = await agent.waitSpans(1, of(post.pid));
    assert.deepEqual(summary(p), [['POST /echo', 'client', 201, '2', 2]]);
    assert.equal(p[0].attributes['http.request.body.size'], 10);
    await agent.waitSpans(6, ofServer('http'));
    assert.deepEqual(summary(agent.spans(ofServer('http')).slice(4)), [
      ['GET /big', 'server', 200, '2', 2097152],
      ['POST /echo', 'server', 201, '2', 2],
    ]);
  });

});
