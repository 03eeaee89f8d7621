/**
 * PostgreSQL over TLS end to end on the real kernel: a real PostgreSQL 15 with `ssl=on` and a
 * certificate made by the test (openssl CLI); psql with `sslmode=require` (libpq → libssl, uprobes)
 * and node-postgres with `ssl: { rejectUnauthorized: false }` (PGSSLMODE=no-verify; Node's
 * built-in OpenSSL) against the same server without TLS. Each client's spans (names, tables,
 * db.namespace, masked db.query.text, error types and messages) and metrics must be the same
 * with and without TLS, exactly, with no duplicates and nothing from the encrypted bytes. The
 * server log proves which connections were encrypted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, sleep, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, startPostgres, type Gate, type PostgresServer } from '../helpers/db-servers.ts';

const pgClient = join(import.meta.dirname, '../helpers/apps/pg-client.mjs');
const PSQL = '/usr/lib/postgresql/15/bin/psql';

// libbpf attaches uprobes through the uprobe PMU (CONFIG_UPROBE_EVENTS)
const noUprobes = existsSync('/sys/bus/event_source/devices/uprobe/type') ? false : 'kernel feature missing: uprobes (CONFIG_UPROBE_EVENTS)';

const PSQL_SCRIPT = [
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
/** undoes what the script and pg-client.mjs change, so that each run sees the same rows */
const RESET = 'DELETE FROM accounting.contacts WHERE id >= 50';

const PSQL_SPANS = [
  'SELECT accounting.contacts',
  'INSERT accounting.contacts',
  'SELECT missing_table',
  'COPY accounting.contacts',
  'COPY accounting.contacts',
  'BEGIN obi',
  'UPDATE accounting.contacts',
  'COMMIT obi',
];
const PG_SPANS = [
  'SELECT accounting.contacts',
  'SELECT accounting.contacts',
  'SELECT accounting.contacts',
  'INSERT accounting.contacts',
  'UPDATE accounting.contacts',
  'SELECT no_such_table',
  'INSERT accounting.contacts',
];

/** what must not differ between a client's spans with and without TLS */
function shape(s: SpanJSON): unknown {
  return {
    name: s.name,
    kind: s.kind,
    status: s.status,
    statusMessage: (s as SpanJSON & { statusMessage?: string }).statusMessage,
    attributes: s.attributes,
    service: s.service.name.replace(/-(plain|tls)$/, ''),
  };
}

describe('PostgreSQL over TLS: psql (libpq/libssl) and node-postgres (Node OpenSSL), sslmode=require vs disable', { skip: noUprobes }, () => {
  let agent: TestAgent;
  let pg: PostgresServer;
  let gate: Gate;
  let cfgDir: string;
  const holders: ChildProcess[] = [];

  before(async () => {
    pg = await startPostgres({ ssl: true });
    await pg.sql('postgres', 'CREATE DATABASE obi');
    await pg.sql(
      'obi',
      'CREATE SCHEMA accounting; CREATE TABLE accounting.contacts (id int PRIMARY KEY, name text); ' +
        "INSERT INTO accounting.contacts VALUES (1, 'alice'), (2, 'bob'), (3, 'carol');",
    );
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-pgtls-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_CONFIG_PATH: cfg });
    // Selected processes that keep libssl and node mapped, so that their uprobes are in place
    // before a client's first SSL_write. A client selected at exec has its TLS code instrumented
    // only by a re-check of its mappings (src/pipeline/tls.ts) that takes tens of milliseconds
    // (hundreds for the node executable); psql and node-postgres, connecting at once, outrun it
    // and their first plaintext (startup message, first Parse) would be lost.
    holders.push(await hold('python3 -c "import ssl, sys; sys.stdin.read()"', (path) => /\/libssl\.so\.3$/.test(path)));
    holders.push(await hold(`${nodeBin} -e "process.stdin.resume()"`, (path) => path === nodeBin));
  });

  async function hold(command: string, lib: (path: string) => boolean): Promise<ChildProcess> {
    const p = spawn(gate.exe, ['-c', `read _ ; exec ${command}`], { stdio: ['pipe', 'ignore', 'inherit'] });
    const pid = p.pid!;
    await agent.waitTracked(pid);
    p.stdin!.write('go\n');
    await waitFor(`${command}: TLS code instrumented`, () => agent.agent.tlsLibraries().some((l) => lib(l.path) && l.users.includes(pid)), 10_000);
    return p;
  }

  after(async () => {
    for (const h of holders) h.kill('SIGKILL');
    await agent?.stop();
    await pg?.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;
  /** `connection authorized` lines of the server log for database obi: [total, with SSL] */
  const authorized = (): [number, number] => {
    const lines = readFileSync(pg.logFile, 'utf8').split('\n').filter((l) => /connection authorized: user=postgres database=obi/.test(l));
    return [lines.length, lines.filter((l) => / SSL enabled /.test(l)).length];
  };
  /** spans of one traced client run, checked to be exactly `expected` and not to grow afterwards */
  async function spansOf(pid: number, expected: readonly string[]): Promise<SpanJSON[]> {
    await agent.waitSpans(expected.length, of(pid)).catch(() => undefined); // the assertion below says what is missing
    await sleep(300); // late spans (duplicates, garbage from ciphertext) would show up by now
    const spans = agent.spans(of(pid));
    assert.deepEqual(spans.map((s) => s.name), expected);
    return spans;
  }
  const count = (service: string, op: string, errorType: string): Promise<number | undefined> =>
    agent.metricValue('db_client_operation_duration_seconds_count', { service_name: service, db_system_name: 'postgresql', db_operation_name: op, error_type: errorType });

  test('psql: the same spans and metrics with sslmode=require as with sslmode=disable', async () => {
    const runs: Record<string, SpanJSON[]> = {};
    for (const mode of ['disable', 'require'] as const) {
      await pg.sql('obi', RESET);
      const service = mode === 'require' ? 'psql-tls' : 'psql-plain';
      const [n0, ssl0] = authorized();
      const r = await runGated(agent, gate, PSQL, ['-X', '-q', '-f', '-', `host=127.0.0.1 port=${pg.port} user=postgres dbname=obi sslmode=${mode} gssencmode=disable`], {
        input: PSQL_SCRIPT,
        env: { OTEL_SERVICE_NAME: service },
      });
      assert.match(r.output, /relation "missing_table" does not exist/);
      assert.match(r.output, /61\teve/);
      const [n1, ssl1] = authorized();
      assert.equal(n1 - n0, 1, 'one connection');
      assert.equal(ssl1 - ssl0, mode === 'require' ? 1 : 0, 'encrypted only with sslmode=require');
      const spans = await spansOf(r.pid, PSQL_SPANS);
      for (const s of spans) {
        assert.equal(s.kind, 'client');
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
      assert.ok(!JSON.stringify(spans).includes('secret@example.com'));
      assert.deepEqual(spans.map((s) => s.attributes['error.type'] ?? ''), ['', '', '42P01', '', '', '', '', '']);
      assert.equal((spans[2] as SpanJSON & { statusMessage?: string }).statusMessage, 'relation "missing_table" does not exist');
      assert.equal(await count(service, 'SELECT', ''), 1);
      assert.equal(await count(service, 'SELECT', '42P01'), 1);
      assert.equal(await count(service, 'COPY', ''), 2);
      assert.equal(await count(service, 'INSERT', ''), 1);
      assert.equal(await count(service, 'UPDATE', ''), 1);
      runs[mode] = spans;
    }
    assert.deepEqual(runs.require.map(shape), runs.disable.map(shape));
  });

  test('node-postgres: the same spans and metrics with ssl { rejectUnauthorized: false } as without TLS', async () => {
    const runs: Record<string, SpanJSON[]> = {};
    for (const mode of ['disable', 'no-verify'] as const) {
      await pg.sql('obi', RESET);
      const service = mode === 'no-verify' ? 'pg-tls' : 'pg-plain';
      const [n0, ssl0] = authorized();
      const r = await runGated(agent, gate, nodeBin, [pgClient, String(pg.port), 'obi'], { env: { OTEL_SERVICE_NAME: service, PGSSLMODE: mode } });
      assert.equal(r.code, 0, r.output);
      const out = JSON.parse(r.output.trim().split('\n').pop()!) as { names: string[]; errors: string[] };
      assert.deepEqual(out, { names: ['alice', 'bob', 'carol'], errors: ['42P01', '23505'] });
      const [n1, ssl1] = authorized();
      assert.equal(n1 - n0, 1, 'one connection');
      assert.equal(ssl1 - ssl0, mode === 'no-verify' ? 1 : 0, 'encrypted only with PGSSLMODE=no-verify');
      const spans = await spansOf(r.pid, PG_SPANS);
      for (const s of spans.slice(0, 3)) {
        assert.equal(s.attributes['db.query.text'], 'SELECT name FROM accounting.contacts WHERE id = $1');
        assert.equal(s.status, 'unset');
      }
      for (const s of spans) assert.equal(s.attributes['db.namespace'], 'obi');
      assert.deepEqual(spans.map((s) => s.attributes['error.type'] ?? ''), ['', '', '', '', '', '42P01', '23505']);
      assert.match(String((spans[6] as SpanJSON & { statusMessage?: string }).statusMessage), /^duplicate key value violates unique constraint/);
      assert.equal(await count(service, 'SELECT', ''), 3);
      assert.equal(await count(service, 'SELECT', '42P01'), 1);
      assert.equal(await count(service, 'INSERT', ''), 1);
      assert.equal(await count(service, 'INSERT', '23505'), 1);
      assert.equal(await count(service, 'UPDATE', ''), 1);
      runs[mode] = spans;
    }
    assert.deepEqual(runs['no-verify'].map(shape), runs.disable.map(shape));
  });
});
