/**
 * Thread correlation in thread-per-request runtimes (docs/devdocs/correlation.md), on the real
 * kernel, under 20 concurrent requests each:
 * - a Java `com.sun.net.httpserver.HttpServer` with a fixed pool of 8 threads (openjdk-17),
 *   calling a Python leaf with HttpURLConnection (keep-alive connections shared by the pool);
 * - the PHP built-in server (`php -S`), each request querying MariaDB (mysqli) and calling the
 *   Python leaf (file_get_contents);
 * - a Python ThreadingHTTPServer whose handler makes its call on a thread it creates for it
 *   (the new thread inherits the request's context: OBI_EV_THREAD from sched_process_fork).
 * Every client span is the child of the server span of its own request (the request's id is in
 * the path), and the leaf's server spans are the children of those client spans (both ends).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { startMariaDb, type MariaDbServer } from '../helpers/db-servers.ts';

const apps = join(import.meta.dirname, '../helpers/apps');
const N = 20;

describe('correlation: Java thread pool and the PHP built-in server, 20 concurrent requests', () => {
  let agent: TestAgent;
  let leaf: Proc;
  let java: Proc;
  let php: Proc;
  let spawner: Proc;
  let db: MariaDbServer;
  const ports = { leaf: 0, java: 0, php: 0, spawner: 0 };

  before(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    db = await startMariaDb();
    await db.sql("CREATE USER 'obi'@'%' IDENTIFIED BY 'obi-pass'; GRANT ALL ON *.* TO 'obi'@'%';");
    leaf = startProcess('/usr/bin/python3', [join(apps, 'chain/hop.py'), String(ports.leaf)], { env: { ...process.env, OTEL_SERVICE_NAME: 'leaf' } });
    java = startProcess('java', [join(apps, 'threads/Hop.java'), String(ports.java), `http://127.0.0.1:${ports.leaf}`], { env: { ...process.env, OTEL_SERVICE_NAME: 'java-hop' } });
    php = startProcess('php', ['-S', `127.0.0.1:${ports.php}`, join(apps, 'threads/router.php')], {
      env: { ...process.env, OTEL_SERVICE_NAME: 'php-hop', NEXT: `http://127.0.0.1:${ports.leaf}`, DB_PORT: String(db.port), DB_USER: 'obi', DB_PASS: 'obi-pass' },
    });
    spawner = startProcess('/usr/bin/python3', [join(apps, 'chain/hop.py'), String(ports.spawner), `http://127.0.0.1:${ports.leaf}`], {
      env: { ...process.env, OTEL_SERVICE_NAME: 'py-spawner', HOP_SPAWN: '1' },
    });
    for (const p of Object.values(ports)) await waitForPort(p, '127.0.0.1', 30_000);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${Object.values(ports).join(',')},${db.port}` });
    for (const pid of [leaf.pid, java.pid, php.pid, spawner.pid]) await agent.waitTracked(pid);
  });

  after(async () => {
    await agent?.stop();
    for (const p of [leaf, java, php, spawner]) await p?.kill();
    await db?.stop();
  });

  const idOf = (s: SpanJSON): string | undefined => /\/[jps]\/\d+$/.exec(String(s.attributes['url.path'] ?? s.attributes['url.full'] ?? ''))?.[0];
  const burst = async (prefix: string, port: number): Promise<void> => {
    const urls = Array.from({ length: N }, (_, i) => `http://127.0.0.1:${port}/${prefix}/${i}`);
    await run('curl', ['-sf', '-Z', '--parallel-max', String(N), ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
  };
  const byId = (spans: SpanJSON[], pid: number, kind: string): Map<string, SpanJSON> => {
    const m = new Map<string, SpanJSON>();
    for (const s of spans) if (s.service.pid === pid && s.kind === kind && s.protocol === 'http') m.set(idOf(s)!, s);
    return m;
  };

  /** the HTTP client span of each request is the child of its server span; the leaf joins it */
  const checkHttp = (spans: SpanJSON[], pid: number): Map<string, SpanJSON> => {
    const srv = byId(spans, pid, 'server');
    const cli = byId(spans, pid, 'client');
    const leafSrv = byId(spans, leaf.pid, 'server');
    assert.equal(srv.size, N);
    assert.equal(cli.size, N);
    assert.equal(leafSrv.size, N);
    for (const [id, c] of cli) {
      assert.equal(c.parentSpanId, srv.get(id)!.spanId, `client call of ${id}: child of its own request`);
      assert.equal(c.traceId, srv.get(id)!.traceId);
      assert.equal(leafSrv.get(id)!.parentSpanId, c.spanId, `leaf request ${id}: child of the client span`);
      assert.equal(leafSrv.get(id)!.traceId, c.traceId);
    }
    return srv;
  };

  test('Java HttpServer, 8 pool threads: each HttpURLConnection call is the child of its own request', async () => {
    await burst('j', ports.java);
    const mine = (s: SpanJSON): boolean => idOf(s)?.startsWith('/j/') === true;
    await agent.waitSpans(3 * N, mine, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const spans = agent.spans(mine);
    assert.equal(spans.length, 3 * N);
    checkHttp(spans, java.pid);
  });

  test('PHP built-in server: the MariaDB query and the HTTP call of each request are its children', async () => {
    await burst('p', ports.php);
    const isSql = (s: SpanJSON): boolean => s.service.pid === php.pid && s.protocol === 'sql';
    const mine = (s: SpanJSON): boolean => idOf(s)?.startsWith('/p/') === true;
    await agent.waitSpans(3 * N, mine, 20_000);
    await agent.waitSpans(N, (s) => isSql(s) && s.name.startsWith('SELECT'), 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const spans = agent.spans(mine);
    assert.equal(spans.length, 3 * N);
    const srv = checkHttp(spans, php.pid);
    const sql = agent.spans(isSql);
    const selects = sql.filter((s) => s.name.startsWith('SELECT'));
    assert.equal(selects.length, N, JSON.stringify(sql.map((s) => s.name)));
    // each query's parent is a request whose interval contains it (the built-in server runs one at a time)
    const bySpanId = new Map([...srv.values()].map((s) => [s.spanId, s]));
    const parents = new Set<string>();
    for (const q of selects) {
      const p = bySpanId.get(q.parentSpanId ?? '');
      assert.ok(p !== undefined, `query ${q.spanId} has a PHP request as parent`);
      assert.equal(q.traceId, p.traceId);
      assert.ok(q.start >= p.start && q.end <= p.end, 'within its request'); // ISO-8601 UTC, µs: ordered as strings
      parents.add(p.spanId);
    }
    assert.equal(parents.size, N, 'one query per request');
  });

  test('Python: a call made on a thread the handler creates is the child of the request (thread inheritance)', async () => {
    await burst('s', ports.spawner);
    const mine = (s: SpanJSON): boolean => idOf(s)?.startsWith('/s/') === true;
    await agent.waitSpans(3 * N, mine, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const spans = agent.spans(mine);
    assert.equal(spans.length, 3 * N);
    checkHttp(spans, spawner.pid);
  });
});
