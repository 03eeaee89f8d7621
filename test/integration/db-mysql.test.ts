/**
 * MySQL protocol end to end on the real kernel: a real MariaDB (10.11, from Debian) on loopback;
 * the mysql CLI (COM_QUERY, COM_INIT_DB, an error) and Node mysql2 (prepared statements:
 * COM_STMT_PREPARE / COM_STMT_EXECUTE, errors, USE) as traced clients. Exact client spans,
 * db.namespace, error numbers and SQLSTATEs, masked db.query.text and
 * db_client_operation_duration_seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, startMariaDb, type Gate, type MariaDbServer } from '../helpers/db-servers.ts';

const mysql2Client = join(import.meta.dirname, '../helpers/apps/mysql2-client.mjs');

describe('MySQL protocol: mysql CLI and mysql2 against MariaDB', () => {
  let agent: TestAgent;
  let db: MariaDbServer;
  let gate: Gate;
  let cfgDir: string;

  before(async () => {
    db = await startMariaDb();
    await db.sql(
      "CREATE USER 'obi'@'%' IDENTIFIED BY 'obi-pass'; GRANT ALL ON *.* TO 'obi'@'%'; " +
        'CREATE DATABASE shop; CREATE DATABASE archive; ' +
        'CREATE TABLE shop.customers (id int PRIMARY KEY, name varchar(64)); ' +
        "INSERT INTO shop.customers VALUES (1, 'alice'), (2, 'bob'), (3, 'carol'); " +
        'CREATE TABLE archive.old_orders (id int PRIMARY KEY); INSERT INTO archive.old_orders VALUES (7);',
    );
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-mysql-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    await db?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;
  const statusMessage = (s: SpanJSON): string => String((s as SpanJSON & { statusMessage?: string }).statusMessage ?? '');

  test('mysql CLI: queries, an error, `use` (COM_INIT_DB) changes db.namespace; literals masked', async () => {
    const script = [
      'SELECT * FROM customers WHERE id = 1;',
      "INSERT INTO customers (id, name) VALUES (10, 'secret@example.com');",
      'SELECT * FROM missing_table;',
      'use archive',
      'SELECT id FROM old_orders;',
      '',
    ].join('\n');
    const r = await runGated(agent, gate, 'mysql', ['--no-defaults', '--force', '-h', '127.0.0.1', '-P', String(db.port), '-u', 'obi', '-pobi-pass', 'shop'], {
      input: script,
      env: { OTEL_SERVICE_NAME: 'mysql-cli' },
    });
    assert.match(r.output, /doesn't exist/);
    // the CLI's `use` asks SELECT DATABASE() first, then sends COM_INIT_DB (no span of its own)
    const expected = ['SELECT customers', 'INSERT customers', 'SELECT missing_table', 'SELECT shop', 'SELECT old_orders'];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(agent.spans(of(r.pid)).map((s) => s.name), expected);
    for (const s of spans) {
      assert.equal(s.kind, 'client');
      assert.equal(s.service.name, 'mysql-cli');
      assert.equal(s.attributes['db.system.name'], 'mysql');
      assert.equal(s.attributes['server.port'], db.port);
    }
    assert.deepEqual(spans.map((s) => s.attributes['db.namespace']), ['shop', 'shop', 'shop', 'shop', 'archive']);
    assert.equal(spans[3].attributes['db.query.text'], 'SELECT DATABASE()');
    assert.equal(spans[1].attributes['db.query.text'], 'INSERT INTO customers (id, name) VALUES (?, ?)');
    assert.ok(!JSON.stringify(spans).includes('secret@example.com'));
    const failed = spans[2];
    assert.equal(failed.status, 'error');
    assert.equal(failed.attributes['error.type'], '42S02');
    assert.equal(failed.attributes['db.response.status_code'], '1146');
    assert.equal(statusMessage(failed), "Table 'shop.missing_table' doesn't exist");
    const labels = { service_name: 'mysql-cli', db_system_name: 'mysql', db_operation_name: 'SELECT' };
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, error_type: '' }), 3);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, error_type: '42S02' }), 1);
  });

  test('mysql2: prepared statements are named after their text; errors; USE', async () => {
    const r = await runGated(agent, gate, nodeBin, [mysql2Client, String(db.port), 'obi-pass'], { env: { OTEL_SERVICE_NAME: 'mysql2-app' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { names: string[]; count: number; errors: string[] };
    assert.deepEqual(out, { names: ['alice', 'bob', 'carol'], count: 3, errors: ['1146/42S02', '1062/23000'] });
    const expected = [
      'SELECT customers',
      'SELECT customers',
      'SELECT customers',
      'UPDATE customers',
      'SELECT customers',
      'SELECT no_such_table',
      'INSERT customers',
      'USE shop',
      'SELECT old_orders',
    ];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    for (const s of spans.slice(0, 3)) assert.equal(s.attributes['db.query.text'], 'SELECT name FROM customers WHERE id = ?');
    assert.equal(spans[4].attributes['db.query.text'], 'SELECT COUNT(*) AS n FROM customers WHERE name <> ? AND id < ?');
    assert.deepEqual(
      spans.map((s) => [s.attributes['error.type'] ?? '', s.attributes['db.response.status_code'] ?? '']),
      [['', ''], ['', ''], ['', ''], ['', ''], ['', ''], ['42S02', '1146'], ['23000', '1062'], ['', ''], ['', '']],
    );
    assert.deepEqual(spans.map((s) => s.attributes['db.namespace']), ['shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'shop', 'archive']);
    assert.equal(
      await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'mysql2-app', db_system_name: 'mysql', db_operation_name: 'SELECT', error_type: '' }),
      5,
    );
  });
});
