/**
 * gRPC over HTTP/2 end to end on the real kernel: a @grpc/grpc-js server and a @grpc/grpc-js
 * client, each a separate traced process, on loopback (h2c with prior knowledge). Every RPC
 * kind (unary OK and NOT_FOUND, server streaming of 100 messages, client streaming, bidirectional,
 * deadline exceeded) and 200 unary calls multiplexed on one connection: exact server and client
 * spans, and rpc_{server,client}_call_duration_seconds counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { linkSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TestAgent, freePort, nodeBin, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { grpcApp, makeCert, startGatedServer, type GatedServer } from '../helpers/grpc.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';

const names = (spans: SpanJSON[]): string[][] => spans.map((s) => [s.name, String(s.attributes['rpc.response.status_code']), s.status]).sort((a, b) => a.join().localeCompare(b.join()));

describe('gRPC: grpc-js server and client over h2c', () => {
  let agent: TestAgent;
  let gate: Gate;
  let server: GatedServer;
  let tlsServer: GatedServer;
  let port: number;
  let tlsPort: number;
  let tls: { dir: string; cert: string; key: string };

  before(async () => {
    gate = createGate();
    tls = await makeCert('obi-grpc-tls-');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
    port = await freePort();
    server = await startGatedServer(agent, gate, nodeBin, [grpcApp, 'server', String(port)], /listening/, { OTEL_SERVICE_NAME: 'grpc-js-server' });
    tlsPort = await freePort();
    tlsServer = await startGatedServer(agent, gate, nodeBin, [grpcApp, 'server', String(tlsPort), tls.cert, tls.key], /listening/, { OTEL_SERVICE_NAME: 'grpc-js-tls-server' });
  });

  after(async () => {
    server?.stop();
    tlsServer?.stop();
    await agent?.stop();
    gate?.cleanup();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;

  test('every RPC kind: one span per call on each side, OBI names, status codes and metrics', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${port}`, 'kinds'], { env: { OTEL_SERVICE_NAME: 'grpc-js-client' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!);
    assert.deepEqual(out, { ok: { code: 0, res: 'echo:ping' }, missing: { code: 5 }, serverStream: 100, clientStream: '5', bidi: 4, slow: 4 });
    const client = await agent.waitSpans(6, of(r.pid));
    await new Promise((res) => setTimeout(res, 1000)); // nothing more may arrive
    assert.equal(agent.spans(of(r.pid)).length, 6);
    assert.deepEqual(names(client), [
      ['/test.Svc/Bidi', 'OK', 'unset'],
      ['/test.Svc/ClientStream', 'OK', 'unset'],
      ['/test.Svc/ServerStream', 'OK', 'unset'],
      ['/test.Svc/Slow', 'DEADLINE_EXCEEDED', 'error'],
      ['/test.Svc/Unary', 'NOT_FOUND', 'error'],
      ['/test.Svc/Unary', 'OK', 'unset'],
    ]);
    for (const s of client) {
      assert.equal(s.kind, 'client');
      assert.equal(s.service.name, 'grpc-js-client');
      assert.equal(s.attributes['rpc.system.name'], 'grpc');
      assert.equal(s.attributes['rpc.method'], s.name);
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], port);
    }
    const srv = await agent.waitSpans(6, (s) => s.service.pid === server.pid && s.service.name === 'grpc-js-server');
    assert.equal(srv.length, 6);
    // a server span is ERROR only for UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS
    assert.deepEqual(names(srv), [
      ['/test.Svc/Bidi', 'OK', 'unset'],
      ['/test.Svc/ClientStream', 'OK', 'unset'],
      ['/test.Svc/ServerStream', 'OK', 'unset'],
      ['/test.Svc/Slow', 'DEADLINE_EXCEEDED', 'error'],
      ['/test.Svc/Unary', 'NOT_FOUND', 'unset'],
      ['/test.Svc/Unary', 'OK', 'unset'],
    ]);
    for (const s of srv) {
      assert.equal(s.kind, 'server');
      assert.equal(s.attributes['server.port'], port);
      assert.equal(s.attributes['client.address'], '127.0.0.1');
    }
    const ss = srv.find((s) => s.name === '/test.Svc/ServerStream')!;
    assert.ok(ss.durationNs > 0);
    const cl = { service_name: 'grpc-js-client', rpc_system_name: 'grpc' };
    assert.equal(await agent.metricValue('rpc_client_call_duration_seconds_count', { ...cl, rpc_method: '/test.Svc/Unary', rpc_response_status_code: 'OK' }), 1);
    assert.equal(await agent.metricValue('rpc_client_call_duration_seconds_count', { ...cl, rpc_method: '/test.Svc/Unary', rpc_response_status_code: 'NOT_FOUND' }), 1);
    assert.equal(await agent.metricValue('rpc_client_call_duration_seconds_count', { ...cl, rpc_method: '/test.Svc/Slow', rpc_response_status_code: 'DEADLINE_EXCEEDED' }), 1);
    const sv = { service_name: 'grpc-js-server', rpc_system_name: 'grpc', server_port: String(port) };
    assert.equal(await agent.metricValue('rpc_server_call_duration_seconds_count', { ...sv, rpc_method: '/test.Svc/Bidi', rpc_response_status_code: 'OK' }), 1);
    // gRPC is not HTTP: no HTTP series for these services
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { service_name: 'grpc-js-server' }), undefined);
  });

  test('200 unary calls multiplexed on one connection (20 at a time): 200 spans on each side', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${port}`, 'many'], { env: { OTEL_SERVICE_NAME: 'grpc-many' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { ok: 200 });
    const client = await agent.waitSpans(200, of(r.pid), 20_000);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans(of(r.pid)).length, 200);
    assert.ok(client.every((s) => s.name === '/test.Svc/Unary' && s.attributes['rpc.response.status_code'] === 'OK' && s.kind === 'client'));
    assert.equal(await agent.metricValue('rpc_client_call_duration_seconds_count', { service_name: 'grpc-many', rpc_method: '/test.Svc/Unary' }), 200);
    assert.equal(await agent.metricValue('rpc_server_call_duration_seconds_count', { service_name: 'grpc-js-server', rpc_method: '/test.Svc/Unary', rpc_response_status_code: 'OK' }), 201);
  });

  test('a 1 MiB response followed by trailers: the trailers reach the parser, the next call on the connection decodes', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${port}`, 'big'], { env: { OTEL_SERVICE_NAME: 'grpc-big' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { big: 1 << 20, after: { code: 0, res: 'echo:after-big' } });
    const client = await agent.waitSpans(2, of(r.pid), 15_000);
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(names(agent.spans(of(r.pid))), [
      ['/test.Svc/Big', 'OK', 'unset'],
      ['/test.Svc/Unary', 'OK', 'unset'],
    ]);
    assert.equal(client.length, 2);
    // the server wrote the body and the trailers (writev of many frames): its side decodes too
    const big = await agent.waitSpans(1, (s) => s.service.pid === server.pid && s.name === '/test.Svc/Big');
    assert.equal(big[0].attributes['rpc.response.status_code'], 'OK');
    await waitFor('the server span of the call after it', () => agent.spans((s) => s.service.pid === server.pid && s.name === '/test.Svc/Unary' && s.attributes['rpc.response.status_code'] === 'OK').length === 202);
    // no header block was lost, no frame sync either (the kernel followed the frames)
    const events = await agent.metrics();
    assert.doesNotMatch(events, /obi_http2_streams_events_total\{event="(header_block_lost|desync|partial)"\} [1-9]/);
  });

  test('over TLS (ALPN h2, plaintext from the OpenSSL built into node): every RPC kind and a 1 MiB response', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `localhost:${tlsPort}`, 'kinds', tls.cert], { env: { OTEL_SERVICE_NAME: 'grpc-tls-client' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { ok: { code: 0, res: 'echo:ping' }, missing: { code: 5 }, serverStream: 100, clientStream: '5', bidi: 4, slow: 4 });
    const big = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `localhost:${tlsPort}`, 'big', tls.cert], { env: { OTEL_SERVICE_NAME: 'grpc-tls-client' } });
    assert.equal(big.code, 0, big.output);
    const expected = [
      ['/test.Svc/Bidi', 'OK', 'unset'],
      ['/test.Svc/ClientStream', 'OK', 'unset'],
      ['/test.Svc/ServerStream', 'OK', 'unset'],
      ['/test.Svc/Slow', 'DEADLINE_EXCEEDED', 'error'],
      ['/test.Svc/Unary', 'NOT_FOUND', 'error'],
      ['/test.Svc/Unary', 'OK', 'unset'],
    ];
    const client = await agent.waitSpans(6, of(r.pid));
    assert.deepEqual(names(client), expected);
    assert.deepEqual(names(await agent.waitSpans(2, of(big.pid))), [
      ['/test.Svc/Big', 'OK', 'unset'],
      ['/test.Svc/Unary', 'OK', 'unset'],
    ]);
    const srv = await agent.waitSpans(8, (s) => s.service.pid === tlsServer.pid);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(agent.spans((s) => s.service.pid === tlsServer.pid).length, 8);
    assert.deepEqual(names(srv).filter((n) => n[0] !== '/test.Svc/Big' && !(n[0] === '/test.Svc/Unary' && n[1] === 'OK')).length, 5);
    assert.equal(srv.filter((s) => s.name === '/test.Svc/Big').length, 1);
    assert.equal(srv.filter((s) => s.name === '/test.Svc/Unary' && s.attributes['rpc.response.status_code'] === 'OK').length, 2);
  });
});


describe('gRPC: a connection opened before the agent started', () => {
  let agent: TestAgent | undefined;
  let dir: string;
  const procs: { kill(): void }[] = [];

  after(async () => {
    for (const p of procs) p.kill();
    await agent?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('later streams are reported where their headers decode, nothing is guessed, partial streams are counted', async () => {
    // the processes exist before the agent: select them by a unique executable path (a hard link to node)
    dir = mkdtempSync(join(dirname(nodeBin), '.obi-h2-old-'));
    const exe = join(dir, 'node-old-conn');
    try {
      linkSync(nodeBin, exe);
    } catch {
      copyFileSync(nodeBin, exe);
    }
    const port = await freePort();
    const srv = spawn(exe, [grpcApp, 'server', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_SERVICE_NAME: 'grpc-old-server' } });
    procs.push(srv);
    let srvOut = '';
    srv.stdout!.on('data', (d: Buffer) => (srvOut += d.toString()));
    await waitFor('server listening', () => srvOut.includes('listening'), 15_000);
    const cli = spawn(exe, [grpcApp, 'client', `127.0.0.1:${port}`, 'repeat'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OTEL_SERVICE_NAME: 'grpc-old-client' } });
    procs.push(cli);
    let cliOut = '';
    cli.stdout!.on('data', (d: Buffer) => (cliOut += d.toString()));
    await waitFor('first call done', () => cliOut.includes('"ready"'), 15_000);

    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: exe });
    await agent.waitTracked(srv.pid!);
    await agent.waitTracked(cli.pid!);
    cli.stdin!.end('go\n');
    await waitFor('client done', () => cliOut.includes('"again"'), 15_000);
    assert.deepEqual(JSON.parse(cliOut.trim().split('\n').pop()!), { before: { code: 0, res: 'echo:before' }, again: { code: 0, res: 'echo:before' }, other: 3, again2: { code: 0, res: 'echo:x' } });
    // after the agent: the three calls are reported on both sides. Their :path is a literal
    // (nghttp2 does not index it), their :method static; their content-type and trailers
    // (grpc-status 0) are entries of the tables from before: no status is reported (never a
    // guess), and each stream counts as partly decoded. They are gRPC by their request body (a
    // length-prefixed message posted to /service/method).
    await agent.waitSpans(3, (s) => s.service.pid === srv.pid);
    await agent.waitSpans(3, (s) => s.service.pid === cli.pid);
    await new Promise((res) => setTimeout(res, 1000));
    for (const [pid, kind] of [[srv.pid, 'server'], [cli.pid, 'client']] as const) {
      const spans = agent.spans((s) => s.service.pid === pid);
      assert.deepEqual(
        spans.map((s) => [s.name, s.kind, s.attributes['rpc.system.name'], s.attributes['rpc.response.status_code'], s.status]),
        [
          ['/test.Svc/Unary', kind, 'grpc', undefined, 'unset'],
          ['/test.Svc/ServerStream', kind, 'grpc', undefined, 'unset'],
          ['/test.Svc/Unary', kind, 'grpc', undefined, 'unset'],
        ],
      );
    }
    assert.equal(await agent.metricValue('obi_http2_streams_events_total', { event: 'partial' }), 6);
    assert.equal(await agent.metricValue('obi_http2_streams_events_total', { event: 'unreported' }), undefined);
    assert.equal(await agent.metricValue('rpc_server_call_duration_seconds_count', { rpc_method: '/test.Svc/Unary', rpc_response_status_code: '' }), 2);
    assert.equal(await agent.metricValue('obi_http2_streams_events_total', { event: 'desync' }), undefined);
  });
});
