/**
 * PostgreSQL end to end on the real kernel: a real PostgreSQL 15 (initdb + pg_ctl) on loopback;
 * psql (simple queries, COPY, a transaction, an error) and node-postgres (named prepared
 * statement, extended protocol, errors) as traced clients. Exact client spans, db.namespace,
 * SQLSTATE error types, masked db.query.text and db_client_operation_duration_seconds.
 * Not covered here: sslmode=require (TLS capture's test).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, startPostgres, type Gate, type PostgresServer } from '../helpers/db-servers.ts';

const pgClient = join(import.meta.dirname, '../helpers/apps/pg-client.mjs');
const PSQL = '/usr/lib/postgresql/15/bin/psql';

describe('PostgreSQL: psql and node-postgres against PostgreSQL 15', () => {
  let agent: TestAgent;
  let pg: PostgresServer;
  let gate: Gate;
  let cfgDir: string;

  before(async () => {
    pg = await startPostgres();
    await pg.sql('postgres', 'CREATE DATABASE obi');
    await pg.sql(
      'obi',
      'CREATE SCHEMA accounting; CREATE TABLE accounting.contacts (id int PRIMARY KEY, name text); ' +
        "INSERT INTO accounting.contacts VALUES (1, 'alice'), (2, 'bob'), (3, 'carol');",
    );
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-pg-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    await pg?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;
  const statusMessage = (s: SpanJSON): string => String((s as SpanJSON & { statusMessage?: string }).statusMessage ?? '');

  test('psql: simple queries, COPY in and out, a transaction, an error; literals masked', async () => {
    const script = [
      'SELECT * FROM accounting.contacts WHERE id = 1;',
      "INSERT INTO accounting.contacts (id, name) VALUES (50, 'secret@example.com');",
      'SELECT * FROM missing_table;',
      'COPY accounting.contacts (id, name) FROM STDIN;',
      '60\tdave',
      '61\teve',
      '\\.',
      'COPY accounting.contacts TO STDOUT;',
      'BEGIN;',
      "UPDATE accounting.contacts SET name = 'erin' WHERE id = 61;",
      'COMMIT;',
      '',
    ].join('\n');
    const r = await runGated(agent, gate, PSQL, ['-X', '-q', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'obi', '-f', '-'], {
      input: script,
      env: { OTEL_SERVICE_NAME: 'psql-app', PGGSSENCMODE: 'disable' },
    });
    assert.match(r.output, /relation "missing_table" does not exist/);
    assert.match(r.output, /61\terin|61\teve/);
    const expected = [
      'SELECT accounting.contacts',
      'INSERT accounting.contacts',
      'SELECT missing_table',
      'COPY accounting.contacts',
      'COPY accounting.contacts',
      'BEGIN obi', // no table: `<OP> <db.namespace>` (obi-compat §3.1)
      'UPDATE accounting.contacts',
      'COMMIT obi',
    ];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    for (const s of spans) {
      assert.equal(s.kind, 'client');
      assert.equal(s.service.name, 'psql-app');
      assert.equal(s.attributes['db.system.name'], 'postgresql');
      assert.equal(s.attributes['db.namespace'], 'obi');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], pg.port);
    }
    assert.deepEqual(
      spans.map((s) => s.attributes['db.collection.name'] ?? ''),
      ['accounting.contacts', 'accounting.contacts', 'missing_table', 'accounting.contacts', 'accounting.contacts', '', 'accounting.contacts', ''],
    );
    assert.equal(spans[1].attributes['db.query.text'], 'INSERT INTO accounting.contacts (id, name) VALUES (?, ?);');
    assert.equal(spans[6].attributes['db.query.text'], 'UPDATE accounting.contacts SET name = ? WHERE id = ?;');
    assert.ok(!JSON.stringify(spans).includes('secret@example.com'));
    const failed = spans.filter((s) => s.status === 'error');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].attributes['error.type'], '42P01');
    assert.equal(failed[0].attributes['db.response.status_code'], '42P01');
    assert.equal(statusMessage(failed[0]), 'relation "missing_table" does not exist');
    const labels = { service_name: 'psql-app', db_system_name: 'postgresql' };
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'SELECT', error_type: '' }), 1);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'SELECT', error_type: '42P01' }), 1);
    assert.equal(await agent.metricValue('db_client_operation_duration_seconds_count', { ...labels, db_operation_name: 'COPY' }), 2);
  });

  test('node-postgres: a named prepared statement executed three times is named after its statement', async () => {
    const r = await runGated(agent, gate, nodeBin, [pgClient, String(pg.port), 'obi'], { env: { OTEL_SERVICE_NAME: 'pg-app' } });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { names: string[]; errors: string[] };
    assert.deepEqual(out, { names: ['alice', 'bob', 'carol'], errors: ['42P01', '23505'] });
    const expected = [
      'SELECT accounting.contacts',
      'SELECT accounting.contacts',
      'SELECT accounting.contacts',
      'INSERT accounting.contacts',
      'UPDATE accounting.contacts',
      'SELECT no_such_table',
      'INSERT accounting.contacts',
    ];
    const spans = await agent.waitSpans(expected.length, of(r.pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    for (const s of spans.slice(0, 3)) {
      assert.equal(s.attributes['db.query.text'], 'SELECT name FROM accounting.contacts WHERE id = $1');
      assert.equal(s.attributes['db.namespace'], 'obi');
      assert.equal(s.status, 'unset');
    }
    assert.equal(spans[4].attributes['db.query.text'], 'UPDATE accounting.contacts SET name = ? WHERE id = ?');
    assert.deepEqual(
      spans.map((s) => s.attributes['error.type'] ?? ''),
      ['', '', '', '', '', '42P01', '23505'],
    );
    assert.equal(spans[6].status, 'error');
    assert.match(statusMessage(spans[6]), /^duplicate key value violates unique constraint/);
    assert.equal(
      await agent.metricValue('db_client_operation_duration_seconds_count', { service_name: 'pg-app', db_system_name: 'postgresql', db_operation_name: 'SELECT', error_type: '' }),
      3,
    );
  });
});
