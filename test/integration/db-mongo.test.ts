/**
 * MongoDB end to end on the real kernel. No MongoDB server can be installed on these machines
 * (not packaged for Debian; its downloads are not reachable), so the REAL clients — the official
 * `mongodb` npm driver and Debian's pymongo 3.11 — talk to a server peer written for the tests
 * from the public wire-protocol specification (test/helpers/mongo-peer.ts: handshake, OP_MSG
 * CRUD, cursors and exhaust, write errors, unknown commands, zlib compression, and a pre-3.6
 * mode answering only OP_QUERY). The peer runs in the test process (not traced); the clients
 * run behind the exec gate. Exact client spans, error codes, db.namespace, masked
 * db.query.text and db_client_operation_duration_seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { startMongoPeer, type MongoPeer } from '../helpers/mongo-peer.ts';

const nodeClient = join(import.meta.dirname, '../helpers/apps/mongodb-client.mjs');
const pyClient = join(import.meta.dirname, '../helpers/apps/pymongo-client.py');

describe('MongoDB: the mongodb driver and pymongo against a wire-protocol peer', () => {
  let agent: TestAgent;
  let current: MongoPeer;
  let legacy: MongoPeer;
  let gate: Gate;
  let cfgDir: string;

  before(async () => {
    current = await startMongoPeer();
    legacy = await startMongoPeer({ maxWireVersion: 5 });
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-mongo-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    await current?.stop();
    await legacy?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;
  const NODE_NAMES = ['insert users', 'insert users', 'insert users', 'find users', 'getMore users', 'update users', 'delete users', 'count users', 'frobnicate', 'endSessions'];

  for (const compression of ['none', 'zlib']) {
    test(`mongodb driver (${compression === 'zlib' ? 'OP_COMPRESSED zlib' : 'OP_MSG'}): CRUD, cursor getMore, duplicate key, unknown command`, async () => {
      const service = `mongo-node-${compression}`;
      const peer = await startMongoPeer(); // a fresh store: the same documents every run
      after(() => peer.stop());
      const r = await runGated(agent, gate, nodeBin, [nodeClient, String(peer.port), compression], { env: { OTEL_SERVICE_NAME: service } });
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { found: 4, modified: 1, deleted: 1, count: 3, dupCode: 11000, unknownCode: 59 });
      const spans = await agent.waitSpans(NODE_NAMES.length, of(r.pid));
      await new Promise((res) => setTimeout(res, 300));
      const all = agent.spans(of(r.pid));
      assert.deepEqual(all.map((s) => s.name), NODE_NAMES, 'hello (handshake, monitoring) makes no span');
      for (const s of spans) {
        assert.equal(s.kind, 'client');
        assert.equal(s.protocol, 'mongo');
        assert.equal(s.service.name, service);
        assert.equal(s.attributes['db.system.name'], 'mongodb');
        assert.equal(s.attributes['server.address'], '127.0.0.1');
        assert.equal(s.attributes['server.port'], peer.port);
        assert.equal(s.attributes['db.operation.name'], s.name.split(' ')[0]);
      }
      assert.deepEqual(spans.map((s) => s.attributes['db.collection.name'] ?? ''), ['users', 'users', 'users', 'users', 'users', 'users', 'users', 'users', '', '']);
      assert.deepEqual(spans.map((s) => s.attributes['db.namespace']), ['shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'admin']);
      assert.deepEqual(
        spans.filter((s) => s.status === 'error').map((s) => [s.name, s.attributes['db.response.status_code'], s.attributes['error.type'], s.statusMessage]),
        [
          ['insert users', '11000', '11000', 'E11000 duplicate key error collection: shop.users index: _id_ dup key: { _id: 1 }'],
          ['frobnicate', '59', '59', "no such command: 'frobnicate'"],
        ],
      );
      assert.equal(spans[0].attributes['db.query.text'], '{"insert":"users","documents":[{"_id":"?","name":"?","email":"?"}],"ordered":"?"}');
      assert.equal(spans[4].attributes['db.query.text'], '{"getMore":"?","collection":"users","batchSize":"?"}');
      const labels = { service_name: service, db_system_name: 'mongodb' };
      assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'insert', error_type: '' }), 2);
      assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'insert', error_type: '11000' }), 1);
      assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'getMore', error_type: '' }), 1);
    });
  }

  const PY_NAMES = ['insert items', 'insert items', 'find items', 'getMore items', 'update items', 'delete items', 'frobnicate', 'endSessions'];
  for (const [label, wire] of [['OP_MSG, zlib, exhaust cursor', 17], ['pre-3.6 server: OP_QUERY commands', 5]] as const) {
    test(`pymongo (${label})`, async () => {
      const service = `mongo-py-${wire}`;
      const server = wire === 5 ? legacy : current;
      const r = await runGated(agent, gate, '/usr/bin/python3', [pyClient, String(server.port), wire === 5 ? 'none' : 'zlib'], { env: { OTEL_SERVICE_NAME: service } });
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { streamed: 4, dup: 11000, unknown: 59 });
      await agent.waitSpans(PY_NAMES.length, of(r.pid), 20_000);
      await new Promise((res) => setTimeout(res, 300));
      const spans = agent.spans(of(r.pid));
      assert.deepEqual(spans.map((s) => s.name), PY_NAMES);
      assert.ok(spans.every((s) => s.attributes['db.system.name'] === 'mongodb' && s.attributes['server.port'] === server.port));
      assert.deepEqual(spans.map((s) => s.attributes['db.namespace']), ['inventory', 'inventory', 'inventory', 'inventory', 'inventory', 'inventory', 'inventory', 'admin']);
      assert.deepEqual(spans.filter((s) => s.status === 'error').map((s) => [s.name, s.attributes['db.response.status_code']]), [['insert items', '11000'], ['frobnicate', '59']]);
      assert.equal(spans[2].attributes['db.query.text'], '{"find":"items","filter":{}}');
      assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: service, db_system_name: 'mongodb', db_operation_name: 'getMore', error_type: '' }), 1);
    });
  }
});
