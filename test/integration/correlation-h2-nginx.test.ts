/**
 * nginx with an HTTP/2 downstream and an HTTP/1 upstream (docs/devdocs/correlation.md, "HTTP/2 and
 * gRPC: per stream"): a Go client (x/net/http2) speaks h2c with prior knowledge to nginx
 * (`listen ... http2`) on one connection; nginx proxies each stream to a Go server over HTTP/1.1 (a
 * new upstream connection per request). (curl 7.88 cannot reuse an h2c prior-knowledge connection:
 * its second transfer fails with error 16, with or without the agent.)
 * - one stream at a time on the downstream connection: every request is one trace, Go client →
 *   nginx server stream (both ends, per stream id) → nginx upstream request (event policy: the one
 *   stream open on its connection) → Go server span (both ends);
 * - 8 streams at once on the connection: each nginx upstream request is the child of its own
 *   stream or of nothing (counted `ambiguous`), never of another stream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, run, type SpanJSON } from '../helpers/harness.ts';
import { createGate, type Gate } from '../helpers/db-servers.ts';
import { makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

const root = join(import.meta.dirname, '../..');
const binDir = join(root, 'build/test-go');
const goEnv = { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' };

describe('nginx: HTTP/2 downstream streams, HTTP/1 upstream', () => {
  let agent: TestAgent;
  let gate: Gate;
  let nginx: Nginx;
  let upstream: GatedServer;
  let cfgDir: string;
  let tls: { dir: string; cert: string; key: string };
  let h2Port: number;

  before(async () => {
    mkdirSync(binDir, { recursive: true });
    await run('go', ['build', '-o', join(binDir, 'h2server'), join(root, 'test/helpers/apps/h2server/main.go')], { env: goEnv });
    await run('go', ['build', '-o', join(binDir, 'h2client'), join(root, 'test/helpers/apps/h2client/main.go')], { env: goEnv });
    tls = await makeCert('obi-h2-nginx-corr-');
    gate = createGate();
    h2Port = await freePort();
    const upPort = await freePort();
    const plainPort = await freePort();
    nginx = await startNginx(plainPort, { extraServer: `server { listen 127.0.0.1:${h2Port} http2; location / { proxy_pass http://127.0.0.1:${upPort}; } }` });
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-h2-nginx-corr-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, `discovery:\n  instrument:\n    - open_ports: "${h2Port}"\n    - exe_path: "${gate.exe}"\n`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: cfg });
    for (const p of [nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(p);
    const tlsPort = await freePort();
    upstream = await startGatedServer(agent, gate, join(binDir, 'h2server'), [String(upPort), String(tlsPort), tls.cert, tls.key], /listening/, { OTEL_SERVICE_NAME: 'go-upstream' });
  });

  after(async () => {
    upstream?.stop();
    await agent?.stop();
    await nginx?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  /** run the Go client: 1 + n requests tagged `tag` on one h2c connection to nginx; its pid */
  const goClient = async (tag: string, n: number, sequential: boolean): Promise<number> => {
    const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', join(binDir, 'h2client'), `http://127.0.0.1:${h2Port}`, String(n)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SERVICE_NAME: 'go-h2-client', H2_TAG: tag, H2_SEQUENTIAL: sequential ? '1' : '0' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    await agent.waitTracked(child.pid!);
    child.stdin.end('go\n');
    assert.equal(await exited, 0, output);
    assert.equal(output, `${n + 1}\n`);
    return child.pid!;
  };

  /** the query of a span's request (`i=<tag><i>`) */
  const query = (s: SpanJSON): string => (s.kind === 'server' ? String(s.attributes['url.query']) : String(s.attributes['url.full']).split('?')[1]);

  /** the client's, nginx's (server and upstream) and the upstream's spans of the requests tagged `tag` */
  const spansOf = async (pid: number, tag: string, n: number): Promise<{ cli: SpanJSON[]; ngSrv: SpanJSON[]; ngCli: SpanJSON[]; up: SpanJSON[] }> => {
    const workers = nginx.workerPids();
    const mine = (s: SpanJSON): boolean => query(s).startsWith(`i=${tag}`);
    const cli = await agent.waitSpans(n, (s) => s.service.pid === pid);
    const ngSrv = await agent.waitSpans(n, (s) => workers.includes(s.service.pid) && s.kind === 'server' && mine(s));
    const ngCli = await agent.waitSpans(n, (s) => workers.includes(s.service.pid) && s.kind === 'client' && mine(s));
    const up = await agent.waitSpans(n, (s) => s.service.pid === upstream.pid && mine(s));
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans((s) => (s.service.pid === pid || workers.includes(s.service.pid) || s.service.pid === upstream.pid) && mine(s)).length, 4 * n);
    return { cli, ngSrv, ngCli, up };
  };
  const by = (spans: SpanJSON[], q: string): SpanJSON => {
    const found = spans.filter((s) => query(s) === q);
    assert.equal(found.length, 1, q);
    return found[0];
  };

  test('one stream at a time: each request one trace, client → nginx stream → nginx upstream → Go server', async () => {
    const pid = await goClient('s', 4, true);
    const { cli, ngSrv, ngCli, up } = await spansOf(pid, 's', 5);
    for (let i = 0; i <= 4; i++) {
      const q = `i=s${i}`;
      const [c, ns, nc, u] = [by(cli, q), by(ngSrv, q), by(ngCli, q), by(up, q)];
      assert.equal(ns.parentSpanId, c.spanId, `${q}: nginx's stream, child of the client's`);
      assert.equal(nc.parentSpanId, ns.spanId, `${q}: nginx's upstream request, child of its stream`);
      assert.equal(u.parentSpanId, nc.spanId, `${q}: the upstream's span, child of nginx's request`);
      assert.ok([ns, nc, u].every((s) => s.traceId === c.traceId), q);
    }
  });

  test('8 streams at once on one connection: an upstream request is the child of its own stream or of none (counted), never of another', async () => {
    const ambiguous = (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0;
    const pid = await goClient('p', 8, false);
    const { cli, ngSrv, ngCli, up } = await spansOf(pid, 'p', 9);
    let unlinked = 0;
    for (let i = 0; i <= 8; i++) {
      const q = `i=p${i}`;
      const [c, ns, nc, u] = [by(cli, q), by(ngSrv, q), by(ngCli, q), by(up, q)];
      assert.equal(ns.parentSpanId, c.spanId, `${q}: nginx's stream, child of the client's (both ends, per stream id)`);
      assert.equal(u.parentSpanId, nc.spanId, `${q}: the upstream's span, child of nginx's request`);
      if (nc.parentSpanId === undefined) unlinked++;
      else assert.equal(nc.parentSpanId, ns.spanId, `${q}: never another stream's child`);
    }
    assert.equal(((await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0) - ambiguous, unlinked);
    console.log(`# 1 + 8 concurrent streams: ${9 - unlinked} upstream requests linked, ${unlinked} counted ambiguous`);
  });
});
