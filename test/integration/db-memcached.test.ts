/**
 * Memcached end to end on the real kernel: a real memcached (Debian) on loopback; Node memjs
 * (binary protocol) and Node memcached (text protocol, plus a raw connection with noreply) as
 * traced clients. Exact client spans, error types, db.query.text and
 * db_client_operation_duration_seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, startMemcached, type Gate, type SimpleServer } from '../helpers/db-servers.ts';

const memjsClient = join(import.meta.dirname, '../helpers/apps/memjs-client.mjs');
const textClient = join(import.meta.dirname, '../helpers/apps/memcached-client.mjs');

describe('Memcached: memjs (binary) and memcached (text) against memcached', () => {
  let agent: TestAgent;
  let mc: SimpleServer;
  let gate: Gate;
  let cfgDir: string;

  before(async () => {
    mc = await startMemcached();
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-mc-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    await mc?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;

  test('text protocol: storage, retrieval, multi-get, delete, incr, touch, an error, noreply', async () => {
    const r = await runGated(agent, gate, nodeBin, [textClient, String(mc.port)], { env: { OTEL_SERVICE_NAME: 'mc-text' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { one: string; n: number; incrError: boolean; raw: string };
    assert.equal(out.one, 'alice');
    assert.equal(out.n, 42);
    assert.equal(out.incrError, true);
    assert.equal(out.raw, 'VALUE raw:1 0 2\r\nhi\r\nEND\r\n');
    const expected = ['SET', 'SET', 'GET', 'GET', 'DELETE', 'SET', 'INCR', 'TOUCH', 'INCR', 'SET', 'DELETE', 'GET'];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    assert.deepEqual(
      spans.map((s) => s.attributes['db.query.text']),
      ['SET text:1', 'SET text:2', 'GET text:1', 'GET text:1 text:2 text:3', 'DELETE text:2', 'SET text:n', 'INCR text:n', 'TOUCH text:1', 'INCR text:1', 'SET raw:1', 'DELETE raw:2', 'GET raw:1'],
    );
    for (const s of spans) {
      assert.equal(s.kind, 'client');
      assert.equal(s.attributes['db.system.name'], 'memcached');
      assert.equal(s.attributes['db.operation.name'], s.name);
      assert.equal(s.attributes['server.port'], mc.port);
    }
    const failed = spans.filter((s) => s.status === 'error');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].attributes['error.type'], 'CLIENT_ERROR');
    assert.equal(spans[9].durationNs, 0, 'noreply: no answer, no duration');
    assert.equal(spans[10].durationNs, 0);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'mc-text', db_system_name: 'memcached', db_operation_name: 'SET' }), 4);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'mc-text', db_operation_name: 'INCR', error_type: 'CLIENT_ERROR' }), 1);
  });

  test('binary protocol (memjs): set, get hit and miss, delete, incr on a non-number', async () => {
    const r = await runGated(agent, gate, nodeBin, [memjsClient, String(mc.port)], { env: { OTEL_SERVICE_NAME: 'mc-binary' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { hit: string; miss: unknown; incrError: boolean };
    assert.deepEqual(out, { hit: 'hello', miss: null, incrError: true });
    const expected = ['SET', 'GET', 'GET', 'DELETE', 'SET', 'INCR'];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    assert.deepEqual(
      spans.map((s) => s.attributes['db.query.text']),
      ['SET bin:1', 'GET bin:1', 'GET bin:missing', 'DELETE bin:1', 'SET bin:word', 'INCR bin:word'],
    );
    assert.deepEqual(
      spans.map((s) => s.attributes['error.type'] ?? ''),
      ['', '', '', '', '', 'CLIENT_ERROR'],
    );
    assert.match(String((spans[5] as SpanJSON & { statusMessage?: string }).statusMessage), /non-numeric/i);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'mc-binary', db_system_name: 'memcached', db_operation_name: 'GET', error_type: '' }), 2);
  });
});
