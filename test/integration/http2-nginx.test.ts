/**
 * nginx (Debian) and HTTP/2 on the real kernel:
 * - `listen ... ssl http2`: h2 over TLS negotiated by ALPN, nginx's plaintext from the libssl
 *   uprobes; curl (libssl, nghttp2) as the client: nginx server spans and curl client spans;
 * - `grpc_pass` in front of a @grpc/grpc-js server: a grpc-js client calls nginx (h2c), nginx calls
 *   the backend over its own HTTP/2 connection. Both hops are seen: client → nginx (client and
 *   nginx server spans) and nginx → backend (nginx client spans and backend server spans).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { grpcApp, makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

describe('HTTP/2 and gRPC through nginx', () => {
  let agent: TestAgent;
  let gate: Gate;
  let nginx: Nginx;
  let backend: GatedServer;
  let tls: { dir: string; cert: string; key: string };
  let cfgDir: string;
  let tlsPort: number;
  let grpcPort: number;
  let backendPort: number;

  before(async () => {
    tls = await makeCert('obi-h2-nginx-');
    gate = createGate();
    tlsPort = await freePort();
    grpcPort = await freePort();
    backendPort = await freePort();
    const plainPort = await freePort();
    nginx = await startNginx(plainPort, {
      extraServer: `
  server { listen 127.0.0.1:${tlsPort} ssl http2; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key};
    location / { return 404; } location = /index.html { default_type text/html; return 200 "hello from nginx over h2\\n"; } location = /teapot { return 418; } }
  server { listen 127.0.0.1:${grpcPort} http2; location / { grpc_pass grpc://127.0.0.1:${backendPort}; } }`,
    });
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-h2-nginx-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, `discovery:\n  instrument:\n    - open_ports: "${tlsPort},${grpcPort}"\n    - exe_path: "${gate.exe}"\n`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: cfg });
    for (const p of [nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(p);
    await waitFor('nginx maps an instrumented libssl', () => agent.agent.tlsLibraries().some((l) => l.kind === 'openssl' && nginx.workerPids().every((w) => l.users.includes(w))), 15_000);
    backend = await startGatedServer(agent, gate, nodeBin, [grpcApp, 'server', String(backendPort)], /listening/, { OTEL_SERVICE_NAME: 'grpc-backend' });
  });

  after(async () => {
    backend?.stop();
    await agent?.stop();
    await nginx?.stop();
    gate?.cleanup();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const ofPids = (pids: number[]) => (s: SpanJSON) => pids.includes(s.service.pid);

  test('nginx http2 over TLS (ALPN h2): server spans from libssl, curl client spans', async () => {
    const base = `https://localhost:${tlsPort}`;
    const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', 'curl', '-s', '--http2', '--cacert', tls.cert, '-w', '%{http_code} %{http_version}\\n', '-K', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SERVICE_NAME: 'curl-nginx-h2' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    await agent.waitTracked(child.pid!);
    child.stdin.write('go\n');
    await waitFor('curl maps an instrumented libssl', () => agent.agent.tlsLibraries().some((l) => l.kind === 'openssl' && l.users.includes(child.pid!)));
    child.stdin.end([`${base}/index.html`, `${base}/missing`, `${base}/teapot`, `${base}/index.html`].map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
    assert.equal(await exited, 0, output);
    assert.equal(output, '200 2\n404 2\n418 2\n200 2\n');
    const expected = [
      ['GET /index.html', 200, '2', 'https'],
      ['GET /missing', 404, '2', 'https'],
      ['GET /teapot', 418, '2', 'https'],
      ['GET /index.html', 200, '2', 'https'],
    ];
    const client = await agent.waitSpans(4, (s) => s.service.pid === child.pid);
    assert.deepEqual(client.map((s) => [s.attributes['url.full'], s.attributes['http.response.status_code']]), [
      [`${base}/index.html`, 200],
      [`${base}/missing`, 404],
      [`${base}/teapot`, 418],
      [`${base}/index.html`, 200],
    ]);
    const server = await agent.waitSpans(4, (s) => s.kind === 'server' && s.attributes['server.port'] === tlsPort);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans((s) => s.kind === 'server' && s.attributes['server.port'] === tlsPort).length, 4);
    assert.deepEqual(server.map((s) => [s.attributes['url.path'], s.attributes['http.response.status_code'], s.attributes['network.protocol.version'], s.attributes['url.scheme']]), expected.map((e) => [String(e[0]).slice(4), e[1], e[2], e[3]]));
    assert.equal(server[0].attributes['http.response.body.size'], 'hello from nginx over h2\n'.length);
  });

  test('grpc_pass: both hops (client → nginx, nginx → backend) as gRPC spans', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${grpcPort}`, 'kinds'], { env: { OTEL_SERVICE_NAME: 'grpc-via-nginx' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { ok: { code: 0, res: 'echo:ping' }, missing: { code: 5 }, serverStream: 100, clientStream: '5', bidi: 4, slow: 4 });
    const names = (spans: SpanJSON[]): string[][] => spans.map((s) => [s.name, String(s.attributes['rpc.response.status_code'])]).sort((a, b) => a.join().localeCompare(b.join()));
    const all = [
      ['/test.Svc/Bidi', 'OK'],
      ['/test.Svc/ClientStream', 'OK'],
      ['/test.Svc/ServerStream', 'OK'],
      ['/test.Svc/Slow', 'DEADLINE_EXCEEDED'],
      ['/test.Svc/Unary', 'NOT_FOUND'],
      ['/test.Svc/Unary', 'OK'],
    ];
    // hop 1: the client's spans and nginx's server spans
    assert.deepEqual(names(await agent.waitSpans(6, (s) => s.service.pid === r.pid)), all);
    const workers = nginx.workerPids();
    const ngServer = await agent.waitSpans(6, (s) => ofPids(workers)(s) && s.kind === 'server' && s.attributes['server.port'] === grpcPort);
    assert.deepEqual(names(ngServer).filter((n) => n[0] !== '/test.Svc/Slow'), all.filter((n) => n[0] !== '/test.Svc/Slow'));
    // hop 2: nginx's client spans to the backend and the backend's server spans
    const ngClient = await agent.waitSpans(5, (s) => ofPids(workers)(s) && s.kind === 'client' && s.attributes['server.port'] === backendPort);
    assert.deepEqual(names(ngClient).filter((n) => n[0] !== '/test.Svc/Slow'), all.filter((n) => n[0] !== '/test.Svc/Slow'));
    // the backend's Slow span does not always come (1 run in 5 on main too): nginx cancels the upstream
    // call when its client gives up, and a stream still open when its connection ends makes no record
    // (counted dropped), so it is not waited for
    const be = await agent.waitSpans(5, (s) => s.service.pid === backend.pid && s.name !== '/test.Svc/Slow');
    assert.deepEqual(names(be).filter((n) => n[0] !== '/test.Svc/Slow'), all.filter((n) => n[0] !== '/test.Svc/Slow'));
    assert.ok(ngServer.every((s) => s.attributes['rpc.system.name'] === 'grpc'));
    // one trace per call through nginx (docs/devdocs/correlation.md, HTTP/2): each nginx server stream is
    // the child of the client's stream (both ends), nginx's upstream stream of its downstream stream
    // (event policy: one stream open on the downstream connection at a time), the backend's stream of
    // nginx's (both ends)
    const key = (s: SpanJSON): string => `${s.name} ${String(s.attributes['rpc.response.status_code'])}`;
    const cli = agent.spans((s) => s.service.pid === r.pid);
    for (const [name, code] of all.filter((n) => n[0] !== '/test.Svc/Slow')) {
      const k = `${name} ${code}`;
      const one = (spans: SpanJSON[]): SpanJSON => {
        const found = spans.filter((s) => key(s) === k);
        assert.equal(found.length, 1, k);
        return found[0];
      };
      const [c, ns, nc, b] = [one(cli), one(ngServer), one(ngClient), one(be)];
      assert.equal(ns.parentSpanId, c.spanId, `${k}: nginx server stream, child of the client's`);
      assert.equal(nc.parentSpanId, ns.spanId, `${k}: nginx upstream stream, child of its downstream stream`);
      assert.equal(b.parentSpanId, nc.spanId, `${k}: backend stream, child of nginx's`);
      assert.ok([ns, nc, b].every((s) => s.traceId === c.traceId), k);
    }
  });
});
