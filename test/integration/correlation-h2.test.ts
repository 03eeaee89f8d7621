/**
 * Connected traces over HTTP/2 on one host (docs/devdocs/correlation.md, "HTTP/2 and gRPC"): the
 * ids of each stream are decided when its HEADERS start it, and the server stream is the child of
 * the client stream with the same id on the same connection (4-tuple), whichever end is seen first.
 * - gRPC (h2c) between Python grpcio (Debian's python3-grpcio, the gRPC C core) and Node grpc-js,
 *   both directions, every RPC kind (unary, unary failing, server, client and bidi streaming, a
 *   deadline exceeded): each server span's parent is its client span, one trace per call; the
 *   service graph counts the edges exactly;
 * - plain HTTP/2 between a Go client (x/net/http2) and a Go server (x/net/http2/h2c), 1 + 16
 *   requests on ONE connection, 16 of them concurrent streams: h2c with prior knowledge, and h2
 *   over TLS by ALPN (both sides' plaintext from the uprobes on Go's crypto/tls); Go's client
 *   spans keep their own trace (counted `go_runtime`), its server spans join them; with a
 *   `traceparent` header sent, the server streams continue it instead (counted `remote_parent`);
 * - a grpcio server whose handler calls a Python `http.server` (urllib): the gRPC C core reads the
 *   streams on its own poller thread and the handlers run on a ThreadPoolExecutor, so the
 *   handler's HTTP/1 call is NOT linked to its stream (never a wrong link), each one is counted
 *   `multiplexed_server`; the downstream server spans still join the handler's client spans.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { grpcApp, makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';

const root = join(import.meta.dirname, '../..');
const pyApp = join(root, 'test/helpers/apps/grpc_app.py');
const relayApp = join(root, 'test/helpers/apps/grpc_relay.py');
const python = '/usr/bin/python3';
const binDir = join(root, 'build/test-go');
const goEnv = { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' };
const CONCURRENT = 16;

/** a gRPC span's key: method and status (Unary is called twice, once failing) */
const rpcKey = (s: SpanJSON): string => `${s.name} ${String(s.attributes['rpc.response.status_code'])}`;

describe('HTTP/2 and gRPC: both ends of a connection joined per stream', () => {
  let agent: TestAgent;
  let gate: Gate;
  let pyServer: GatedServer;
  let nodeServer: GatedServer;
  let goServer: GatedServer;
  let relay: GatedServer;
  let downstream: GatedServer;
  let pyPort: number;
  let nodePort: number;
  let goPort: number;
  let goTlsPort: number;
  let relayPort: number;
  let tls: { dir: string; cert: string; key: string };

  before(async () => {
    mkdirSync(binDir, { recursive: true });
    await run('go', ['build', '-o', join(binDir, 'h2server'), join(root, 'test/helpers/apps/h2server/main.go')], { env: goEnv });
    await run('go', ['build', '-o', join(binDir, 'h2client'), join(root, 'test/helpers/apps/h2client/main.go')], { env: goEnv });
    tls = await makeCert('obi-h2corr-');
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_METRICS_FEATURES: 'application,application_service_graph' });
    pyPort = await freePort();
    pyServer = await startGatedServer(agent, gate, python, [pyApp, 'server', String(pyPort)], /listening/, { OTEL_SERVICE_NAME: 'grpc-py-server' });
    nodePort = await freePort();
    nodeServer = await startGatedServer(agent, gate, nodeBin, [grpcApp, 'server', String(nodePort)], /listening/, { OTEL_SERVICE_NAME: 'grpc-node-server' });
    goPort = await freePort();
    goTlsPort = await freePort();
    goServer = await startGatedServer(agent, gate, join(binDir, 'h2server'), [String(goPort), String(goTlsPort), tls.cert, tls.key], /listening/, { OTEL_SERVICE_NAME: 'go-h2-server' });
    const downPort = await freePort();
    downstream = await startGatedServer(agent, gate, python, ['-m', 'http.server', '--bind', '127.0.0.1', String(downPort)], /Serving HTTP/, { OTEL_SERVICE_NAME: 'py-downstream', PYTHONUNBUFFERED: '1' });
    relayPort = await freePort();
    relay = await startGatedServer(agent, gate, python, [relayApp, 'server', String(relayPort), `http://127.0.0.1:${downPort}/`], /listening/, { OTEL_SERVICE_NAME: 'grpc-py-relay' });
  });

  after(async () => {
    pyServer?.stop();
    nodeServer?.stop();
    goServer?.stop();
    relay?.stop();
    downstream?.stop();
    await agent?.stop();
    gate?.cleanup();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  /** the client's and the server's spans of the 6 calls, each server span the child of its client span */
  const checkGrpc = async (clientPid: number, serverPid: number): Promise<void> => {
    const cli = await agent.waitSpans(6, (s) => s.service.pid === clientPid);
    const srv = await agent.waitSpans(6, (s) => s.service.pid === serverPid);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(agent.spans((s) => s.service.pid === clientPid).length, 6);
    assert.equal(agent.spans((s) => s.service.pid === serverPid).length, 6);
    const keys = cli.map(rpcKey).sort();
    assert.deepEqual(keys, ['/test.Svc/Bidi OK', '/test.Svc/ClientStream OK', '/test.Svc/ServerStream OK', '/test.Svc/Slow DEADLINE_EXCEEDED', '/test.Svc/Unary NOT_FOUND', '/test.Svc/Unary OK']);
    assert.deepEqual(srv.map(rpcKey).sort(), keys);
    for (const c of cli) {
      const s = srv.find((x) => rpcKey(x) === rpcKey(c))!;
      assert.equal(c.kind, 'client');
      assert.equal(s.kind, 'server');
      assert.equal(s.parentSpanId, c.spanId, `${rpcKey(c)}: the server span is the child of its client span`);
      assert.equal(s.traceId, c.traceId, rpcKey(c));
      assert.equal(c.parentSpanId, undefined, rpcKey(c));
    }
    assert.equal(new Set(cli.map((c) => c.traceId)).size, 6, 'one trace per call');
  };

  test('Python grpcio client → Node grpc-js server: every RPC kind, each server span the child of its client span', async () => {
    const r = await runGated(agent, gate, python, [pyApp, 'client', `127.0.0.1:${nodePort}`], { env: { OTEL_SERVICE_NAME: 'py-grpc-client' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { bidi: 4, clientStream: '5', missing: 5, ok: 'echo:ping', serverStream: 100, slow: 4 });
    await checkGrpc(r.pid, nodeServer.pid);
    assert.equal(await agent.metricValue('traces_service_graph_request_total', { client: 'py-grpc-client', server: 'grpc-node-server' }), 6);
  });

  test('Node grpc-js client → Python grpcio server: the same, the other way', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${pyPort}`, 'kinds'], { env: { OTEL_SERVICE_NAME: 'node-grpc-client' } });
    assert.equal(r.code, 0, r.output);
    await checkGrpc(r.pid, pyServer.pid);
    assert.equal(await agent.metricValue('traces_service_graph_request_total', { client: 'node-grpc-client', server: 'grpc-py-server' }), 6);
  });

  /** run the Go client against `base` once it is instrumented; its pid */
  const goClient = async (name: string, base: string, tlsClient: boolean, env: Record<string, string> = {}): Promise<number> => {
    const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', join(binDir, 'h2client'), base, String(CONCURRENT), tls.cert], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OTEL_SERVICE_NAME: name, ...env },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    const pid = child.pid!;
    await agent.waitTracked(pid);
    child.stdin.write('exec\n');
    // the Go client's crypto/tls is instrumented after exec; h2c needs only the socket probes
    if (tlsClient) await waitFor('the Go client is instrumented', () => agent.agent.tlsLibraries().some((l) => l.kind === 'go' && l.users.includes(pid)));
    else await new Promise((res) => setTimeout(res, 200));
    child.stdin.end('go\n');
    assert.equal(await exited, 0, output);
    assert.equal(output, `${CONCURRENT + 1}\n`);
    return pid;
  };

  const checkGo = async (clientPid: number, scheme: string): Promise<void> => {
    const n = CONCURRENT + 1;
    const query = (s: SpanJSON): string => (s.kind === 'server' ? String(s.attributes['url.query']) : String(s.attributes['url.full']).split('?')[1]);
    const cli = await agent.waitSpans(n, (s) => s.service.pid === clientPid);
    const ofServer = (s: SpanJSON): boolean => s.service.pid === goServer.pid && s.attributes['url.scheme'] === scheme && cli.some((c) => c.spanId === s.parentSpanId);
    const srv = await agent.waitSpans(n, ofServer);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans((s) => s.service.pid === clientPid).length, n);
    assert.equal(agent.spans(ofServer).length, n);
    assert.deepEqual(cli.map(query).sort(), Array.from({ length: n }, (_, i) => `i=${i}`).sort());
    for (const c of cli) {
      const s = srv.find((x) => x.parentSpanId === c.spanId)!;
      assert.equal(query(s), query(c), 'each server stream joined to the client stream of the same request');
      assert.equal(s.traceId, c.traceId);
      assert.equal(s.attributes['network.protocol.version'], '2');
      assert.equal(c.parentSpanId, undefined, 'Go: its client spans keep their own trace');
    }
  };

  test('Go client → Go server, h2c with prior knowledge: 16 concurrent streams on one connection, each joined to its own', async () => {
    const before = (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'go_runtime' })) ?? 0;
    const pid = await goClient('go-h2c-client', `http://127.0.0.1:${goPort}`, false);
    await checkGo(pid, 'http');
    assert.equal((await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'go_runtime' })) ?? 0, before + CONCURRENT + 1);
    assert.equal(await agent.metricValue('traces_service_graph_request_total', { client: 'go-h2c-client', server: 'go-h2-server' }), CONCURRENT + 1);
  });

  test('Go client → Go server, h2 over TLS (Go crypto/tls on both sides): the same', async () => {
    const pid = await goClient('go-h2-tls-client', `https://localhost:${goTlsPort}`, true);
    await checkGo(pid, 'https');
    assert.equal(await agent.metricValue('traces_service_graph_request_total', { client: 'go-h2-tls-client', server: 'go-h2-server' }), CONCURRENT + 1);
  });

  test('an incoming traceparent wins over the join: Go h2c client sending one, the server streams continue it', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const link = async (l: string): Promise<number> => (await agent.metricValue('obi_correlated_spans_total', { link: l })) ?? 0;
    const [joins, remotes] = [await link('connection_join'), await link('remote_parent')];
    const pid = await goClient('go-h2c-tp-client', `http://127.0.0.1:${goPort}`, false, { H2_TRACEPARENT: `00-${trace}-${parent}-01` });
    await agent.waitSpans(CONCURRENT + 1, (s) => s.service.pid === pid);
    const mine = (s: SpanJSON): boolean => s.service.pid === goServer.pid && s.traceId === trace;
    const srv = await agent.waitSpans(CONCURRENT + 1, mine);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans(mine).length, CONCURRENT + 1);
    assert.ok(srv.every((s) => s.parentSpanId === parent && s.kind === 'server'));
    assert.equal(await link('remote_parent'), remotes + CONCURRENT + 1);
    assert.equal(await link('connection_join'), joins, 'the streams were paired, not joined');
  });

  test('grpcio server calling HTTP/1 from its handler: the stream is joined, the handler\'s call is not linked (counted multiplexed_server)', async () => {
    const r = await runGated(agent, gate, python, [relayApp, 'client', `127.0.0.1:${relayPort}`, '3'], { env: { OTEL_SERVICE_NAME: 'py-relay-client' } });
    assert.equal(r.code, 0, r.output);
    const res = JSON.parse(r.output.trim().split('\n').pop()!) as { statuses: string[]; calls: number; tids: number[] };
    assert.deepEqual([res.statuses, res.calls], [['200'], 7]);
    const cli = await agent.waitSpans(7, (s) => s.service.pid === r.pid);
    const srv = await agent.waitSpans(7, (s) => s.service.pid === relay.pid && s.kind === 'server');
    const calls = await agent.waitSpans(7, (s) => s.service.pid === relay.pid && s.kind === 'client');
    const down = await agent.waitSpans(7, (s) => s.service.pid === downstream.pid);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(agent.spans((s) => s.service.pid === relay.pid).length, 14);
    assert.equal(agent.spans((s) => s.service.pid === downstream.pid).length, 7);
    // each gRPC server stream joined to its own client call
    assert.deepEqual(srv.map((s) => s.parentSpanId).sort(), cli.map((c) => c.spanId).sort());
    assert.ok(srv.every((s) => s.name === '/test.Relay/Call' && s.traceId === cli.find((c) => c.spanId === s.parentSpanId)!.traceId));
    // the handler's HTTP/1 calls: no parent (the thread that read the stream is not the handler's), never a wrong one
    assert.deepEqual(calls.map((c) => c.parentSpanId), Array(7).fill(undefined));
    const tidOf = (sp: SpanJSON): number | undefined => (sp as unknown as { conn?: { tid?: number } }).conn?.tid;
    assert.ok(calls.every((c) => res.tids.includes(tidOf(c)!)), `the calls are made on the handler threads ${JSON.stringify(res.tids)}: ${JSON.stringify(calls.map(tidOf))}`);
    assert.ok(calls.every((c) => !srv.some((s) => s.traceId === c.traceId)));
    assert.equal(await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'multiplexed_server' }), 7);
    // the downstream's server spans join the handler's calls (both ends), one per request id
    const id = (s: SpanJSON): string => (s.kind === 'server' ? String(s.attributes['url.query']) : String(s.attributes['url.full']).split('?')[1]);
    for (const d of down) {
      const c = calls.find((x) => x.spanId === d.parentSpanId);
      assert.ok(c !== undefined, `downstream ${id(d)} joined`);
      assert.equal(id(d), id(c));
    }
  });
});
