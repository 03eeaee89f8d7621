/**
 * Redis end to end on the real kernel: a real redis-server (7, from Debian) on loopback;
 * redis-cli (RESP2 and RESP3 via `-3` / HELLO 3) and Node ioredis (pipeline, MULTI/EXEC,
 * SELECT) as traced clients. Exact client spans, error types, db.namespace, masked
 * db.query.text and db_client_operation_duration_seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, startRedis, type Gate, type SimpleServer } from '../helpers/db-servers.ts';

const ioredisClient = join(import.meta.dirname, '../helpers/apps/ioredis-client.mjs');

describe('Redis: redis-cli and ioredis against redis-server', () => {
  let agent: TestAgent;
  let redis: SimpleServer;
  let gate: Gate;
  let cfgDir: string;

  before(async () => {
    redis = await startRedis();
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-redis-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    // SELECT n → db.namespace needs OBI's Redis DB cache, disabled by default
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\nebpf:\n  redis_db_cache:\n    enabled: true\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    await redis?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;

  test('redis-cli: commands, errors (ERR, WRONGTYPE, NOSCRIPT), SELECT → db.namespace, masked query text', async () => {
    const script = [
      'SET obi rocks',
      'GET obi',
      'HSET h f v',
      'HGETALL h',
      'INVALID_COMMAND',
      'LPUSH obi x',
      'EVALSHA ffffffffffffffffffffffffffffffffffffffff 0',
      'SELECT 1',
      'SET k1 v1',
      'GET k1',
      '',
    ].join('\n');
    const r = await runGated(agent, gate, 'redis-cli', ['-p', String(redis.port)], { input: script, env: { OTEL_SERVICE_NAME: 'redis-cli-app' } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /WRONGTYPE/);
    // redis-cli first asks for COMMAND DOCS (a reply far larger than the captured prefix)
    const spans = await agent.waitSpans(11, of(r.pid));
    assert.equal(spans.length, 11);
    assert.deepEqual(
      spans.map((s) => s.name),
      ['COMMAND', 'SET', 'GET', 'HSET', 'HGETALL', 'INVALID_COMMAND', 'LPUSH', 'EVALSHA', 'SELECT', 'SET', 'GET'],
    );
    for (const s of spans) {
      assert.equal(s.kind, 'client');
      assert.equal(s.service.name, 'redis-cli-app');
      assert.equal(s.attributes['db.system.name'], 'redis');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], redis.port);
      assert.equal(s.attributes['db.operation.name'], s.name);
      assert.ok(s.durationNs >= 0 && s.durationNs < 5e9);
    }
    assert.deepEqual(
      spans.map((s) => s.attributes['db.query.text']),
      ['COMMAND DOCS', 'SET obi ?', 'GET obi', 'HSET h ? ?', 'HGETALL h', 'INVALID_COMMAND', 'LPUSH obi ?', 'EVALSHA ffffffffffffffffffffffffffffffffffffffff ?', 'SELECT 1', 'SET k1 ?', 'GET k1'],
    );
    const errs = spans.filter((s) => s.status === 'error');
    assert.deepEqual(
      errs.map((s) => [s.name, s.attributes['error.type'], s.attributes['db.response.status_code']]),
      [
        ['INVALID_COMMAND', 'ERR', 'ERR'],
        ['LPUSH', 'WRONGTYPE', 'WRONGTYPE'],
        ['EVALSHA', 'NOSCRIPT', 'NOSCRIPT'],
      ],
    );
    assert.equal(agent.spans(of(r.pid)).find((s) => s.name === 'LPUSH')?.attributes['error.type'], 'WRONGTYPE');
    assert.deepEqual(
      spans.map((s) => s.attributes['db.namespace'] ?? ''),
      ['', '', '', '', '', '', '', '', '', '1', '1'],
    );
    const labels = { service_name: 'redis-cli-app', db_system_name: 'redis' };
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'SET', error_type: '' }), 2);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'LPUSH', error_type: 'WRONGTYPE' }), 1);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'GET', server_address: '127.0.0.1' }), 2);
  });

  test('redis-cli -3 (HELLO 3): RESP3 replies (maps, sets, nulls) stay paired', async () => {
    const script = ['HSET h3 a 1 b 2', 'HGETALL h3', 'SADD s3 x y', 'SMEMBERS s3', 'GET missing', 'EXISTS h3', 'INCRBYFLOAT f 1.5', ''].join('\n');
    const r = await runGated(agent, gate, 'redis-cli', ['-3', '-p', String(redis.port)], { input: script, env: { OTEL_SERVICE_NAME: 'redis-cli-resp3' } });
    assert.equal(r.code, 0, r.output);
    const spans = await agent.waitSpans(9, of(r.pid));
    assert.deepEqual(
      spans.map((s) => s.name),
      ['HELLO', 'COMMAND', 'HSET', 'HGETALL', 'SADD', 'SMEMBERS', 'GET', 'EXISTS', 'INCRBYFLOAT'],
    );
    assert.equal(spans[0].attributes['db.query.text'], 'HELLO ?');
    assert.ok(spans.every((s) => s.status === 'unset'));
  });

  test('ioredis: pipeline, MULTI/EXEC, WRONGTYPE, SELECT 2 then db.namespace "2"', async () => {
    const r = await runGated(agent, gate, nodeBin, [ioredisClient, String(redis.port)], { env: { OTEL_SERVICE_NAME: 'ioredis-app' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { piped: unknown[]; wrongType: string };
    assert.deepEqual(out.piped, ['OK', 'OK', 'a', 1, 1]);
    assert.equal(out.wrongType, 'WRONGTYPE');
    // ioredis announces itself first (CLIENT SETINFO lib-name / lib-ver)
    const expected = ['CLIENT', 'CLIENT', 'SET', 'SET', 'SET', 'GET', 'INCR', 'HSET', 'MULTI', 'SET', 'INCR', 'EXEC', 'LPUSH', 'SELECT', 'SET', 'QUIT'];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    assert.deepEqual(
      spans.map((s) => s.attributes['db.query.text']),
      ['CLIENT SETINFO LIB-NAME ?', 'CLIENT SETINFO LIB-VER ?', 'SET greeting ?', 'SET p1 ?', 'SET p2 ?', 'GET p1', 'INCR cnt', 'HSET ph ? ?', 'MULTI', 'SET t1 ?', 'INCR tcnt', 'EXEC', 'LPUSH greeting ?', 'SELECT 2', 'SET db2key ?', 'QUIT'],
    );
    assert.deepEqual(
      spans.map((s) => s.attributes['db.namespace'] ?? ''),
      ['', '', '', '', '', '', '', '', '', '', '', '', '', '', '2', '2'],
    );
    const lpush = spans.find((s) => s.name === 'LPUSH')!;
    assert.equal(lpush.status, 'error');
    assert.equal(lpush.attributes['error.type'], 'WRONGTYPE');
    assert.equal(
      await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'ioredis-app', db_operation_name: 'SET', db_system_name: 'redis', error_type: '' }),
      5,
    );
  });
});
