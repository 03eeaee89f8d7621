/**
 * gRPC between Python (Debian's python3-grpcio, the gRPC C core) and Node (@grpc/grpc-js), in
 * both directions, on loopback over h2c: a Python server called by a Node client, and a Node
 * server called by a Python client. Every RPC kind; exact spans on both sides of each pair.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { grpcApp, startGatedServer, type GatedServer } from '../helpers/grpc.ts';

const pyApp = join(import.meta.dirname, '../helpers/apps/grpc_app.py');
const python = '/usr/bin/python3';

const EXPECTED = (serverSide: boolean): string[][] => [
  ['/test.Svc/Bidi', 'OK', 'unset'],
  ['/test.Svc/ClientStream', 'OK', 'unset'],
  ['/test.Svc/ServerStream', 'OK', 'unset'],
  ['/test.Svc/Slow', 'DEADLINE_EXCEEDED', 'error'],
  ['/test.Svc/Unary', 'NOT_FOUND', serverSide ? 'unset' : 'error'],
  ['/test.Svc/Unary', 'OK', 'unset'],
];
const names = (spans: SpanJSON[]): string[][] => spans.map((s) => [s.name, String(s.attributes['rpc.response.status_code']), s.status]).sort((a, b) => a.join().localeCompare(b.join()));

describe('gRPC: Python grpcio and Node grpc-js, both directions', () => {
  let agent: TestAgent;
  let gate: Gate;
  let pyServer: GatedServer;
  let nodeServer: GatedServer;
  let pyPort: number;
  let nodePort: number;

  before(async () => {
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
    pyPort = await freePort();
    pyServer = await startGatedServer(agent, gate, python, [pyApp, 'server', String(pyPort)], /listening/, { OTEL_SERVICE_NAME: 'grpc-py-server' });
    nodePort = await freePort();
    nodeServer = await startGatedServer(agent, gate, nodeBin, [grpcApp, 'server', String(nodePort)], /listening/, { OTEL_SERVICE_NAME: 'grpc-node-server' });
  });

  after(async () => {
    pyServer?.stop();
    nodeServer?.stop();
    await agent?.stop();
    gate?.cleanup();
  });

  test('Node client → Python server', async () => {
    const r = await runGated(agent, gate, nodeBin, [grpcApp, 'client', `127.0.0.1:${pyPort}`, 'kinds'], { env: { OTEL_SERVICE_NAME: 'node-to-py' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { ok: { code: 0, res: 'echo:ping' }, missing: { code: 5 }, serverStream: 100, clientStream: '5', bidi: 4, slow: 4 });
    assert.deepEqual(names(await agent.waitSpans(6, (s) => s.service.pid === r.pid)), EXPECTED(false));
    const srv = await agent.waitSpans(6, (s) => s.service.pid === pyServer.pid);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(agent.spans((s) => s.service.pid === pyServer.pid).length, 6);
    assert.deepEqual(names(srv), EXPECTED(true));
    assert.ok(srv.every((s) => s.kind === 'server' && s.service.name === 'grpc-py-server' && s.attributes['server.port'] === pyPort));
    assert.equal(await agent.metricValue('rpc_server_call_duration_seconds_count', { service_name: 'grpc-py-server', rpc_method: '/test.Svc/ServerStream', rpc_response_status_code: 'OK' }), 1);
  });

  test('Python client → Node server', async () => {
    const r = await runGated(agent, gate, python, [pyApp, 'client', `127.0.0.1:${nodePort}`], { env: { OTEL_SERVICE_NAME: 'py-to-node' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { bidi: 4, clientStream: '5', missing: 5, ok: 'echo:ping', serverStream: 100, slow: 4 });
    assert.deepEqual(names(await agent.waitSpans(6, (s) => s.service.pid === r.pid)), EXPECTED(false));
    const srv = await agent.waitSpans(6, (s) => s.service.pid === nodeServer.pid);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(agent.spans((s) => s.service.pid === nodeServer.pid).length, 6);
    assert.deepEqual(names(srv), EXPECTED(true));
    assert.equal(await agent.metricValue('rpc_client_call_duration_seconds_count', { service_name: 'py-to-node', rpc_method: '/test.Svc/Unary', rpc_response_status_code: 'NOT_FOUND' }), 1);
  });
});
