/**
 * nginx -> PHP-FPM over FastCGI (Debian `nginx`, `php8.2-fpm`, `php-mysql`, `mariadb-server`),
 * issue 11: one PHP-FPM master with two pools, one listening on a unix socket and one on TCP,
 * nginx passing /unix/ and /tcp/ to them (`fastcgi_pass`) and /kept/ to the unix pool over kept
 * connections (`fastcgi_keep_conn on`, upstream keepalive), the PHP script querying MariaDB.
 * Requests by curl. At the OTLP receiver each request is one trace of four spans:
 *   nginx server (HTTP/1) -> nginx client (FastCGI) -> PHP-FPM server (FastCGI) -> MySQL client
 * each parent correct (event policy in nginx, both ends of the FastCGI connection joined, thread
 * policy in the PHP worker), with method, route, status; a script answering
 * `http_response_code(404)` gives status 404 on both FastCGI spans and on nginx's. The kernel's
 * gate: the same script querying MariaDB over MariaDB's unix socket gives no span and no
 * connection (exact count of `obi_ingest_connections_opened_total`).
 * The FPM pools are `pm = ondemand`: their workers are forked after the agent started, from the
 * master it selected by the TCP pool's port, and are traced from their fork on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { startMariaDb, type MariaDbServer } from '../helpers/db-servers.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';

const FPM = '/usr/sbin/php-fpm8.2';
const N = 5;
/** the workers' service name: the executable's (PHP-FPM rewrites its environment, OTEL_SERVICE_NAME does not reach them) */
const FPM_SERVICE = 'php-fpm8.2';
const SERVER = 2;
const CLIENT = 3;

describe('FastCGI: nginx -> PHP-FPM (unix socket and TCP) -> MariaDB, one trace per request', () => {
  let rx: OtlpReceiver | undefined;
  let agent: TestAgent | undefined;
  let fpm: Proc | undefined;
  let nginx: Nginx | undefined;
  let db: MariaDbServer | undefined;
  let dir = '';
  const ports = { front: 0, fpm: 0 };

  before(async () => {
    assert.ok(existsSync(FPM), `${FPM} (installed by scripts/install-deps.sh --test)`);
    dir = mkdtempSync(join(tmpdir(), 'obi-fpm-'));
    chmodSync(dir, 0o755); // workers run as nobody
    copyFileSync(join(import.meta.dirname, '../helpers/apps/fastcgi/app.php'), join(dir, 'app.php'));
    chmodSync(join(dir, 'app.php'), 0o644);
    ports.front = await freePort();
    ports.fpm = await freePort();
    db = await startMariaDb();
    await db.sql("CREATE USER 'obi'@'%' IDENTIFIED BY 'obi-pass'; GRANT ALL ON *.* TO 'obi'@'%'; CREATE USER 'obi'@'localhost' IDENTIFIED BY 'obi-pass'; GRANT ALL ON *.* TO 'obi'@'localhost';");
    chmodSync(dirname(db.socket), 0o755); // the workers (nobody) reach MariaDB's unix socket too
    const pool = (name: string, listen: string): string => `
[${name}]
user = nobody
group = nogroup
listen = ${listen}
listen.mode = 0666
pm = ondemand
pm.max_children = 2
pm.process_idle_timeout = 120s
clear_env = no
env[DB_PORT] = ${db!.port}
env[DB_SOCKET] = ${db!.socket}
env[DB_USER] = obi
env[DB_PASS] = obi-pass
`;
    writeFileSync(join(dir, 'fpm.conf'), `[global]\npid = ${dir}/fpm.pid\nerror_log = ${dir}/fpm.log\ndaemonize = no\n${pool('unix', `${dir}/fpm.sock`)}${pool('tcp', `127.0.0.1:${ports.fpm}`)}`);
    fpm = startProcess(FPM, ['-n', '-R', '-y', join(dir, 'fpm.conf'), '-d', 'extension=mysqlnd', '-d', 'extension=mysqli']);
    await waitForPort(ports.fpm, '127.0.0.1', 15_000);
    await waitFor('the FPM unix socket', () => existsSync(join(dir, 'fpm.sock')));
    const params = `include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME ${dir}/app.php;`;
    nginx = await startNginx(await freePort(), {
      workers: 1,
      extraServer: `
  upstream fpm_kept { server unix:${dir}/fpm.sock; keepalive 2; }
  server {
    listen 127.0.0.1:${ports.front};
    location /unix/ { ${params} fastcgi_pass unix:${dir}/fpm.sock; }
    location /kept/ { ${params} fastcgi_keep_conn on; fastcgi_pass fpm_kept; }
    location /tcp/ { ${params} fastcgi_pass 127.0.0.1:${ports.fpm}; }
  }`,
    });
    rx = await OtlpReceiver.start({ grpcPort: false });
    agent = await TestAgent.start({
      OTEL_EBPF_OPEN_PORT: `${ports.front},${ports.fpm}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.httpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
    });
    for (const pid of [nginx.proc.pid, ...nginx.workerPids(), fpm.pid]) await agent.waitTracked(pid);
  });

  after(async () => {
    await agent?.stop();
    await rx?.close();
    await nginx?.stop();
    await fpm?.kill();
    await db?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const svc = (s: ReceivedSpan): string => String(s.resource['service.name']);
  const pathOf = (s: ReceivedSpan): string => String(s.attributes['url.path'] ?? '').replace(/^.*?(\/(unix|tcp|kept)\/)/, '$1') || String(s.attributes['url.full'] ?? '').replace(/^https?:\/\/[^/]*/, '').replace(/\?.*$/, '');

  /** the four spans of each of `paths`, checked: one trace, each parent correct; returns them by path */
  async function chains(paths: string[], status: number): Promise<void> {
    const mine = (s: ReceivedSpan): boolean => paths.includes(pathOf(s));
    const isSelect = (s: ReceivedSpan): boolean => svc(s) === FPM_SERVICE && s.kind === CLIENT && s.name.startsWith('SELECT');
    const summary = (): string => JSON.stringify(rx!.spans.map((s) => [svc(s), s.kind, s.name, pathOf(s), s.spanId, s.parentSpanId, s.attributes['http.response.status_code']]));
    await rx!.waitSpans(3 * paths.length, mine, 20_000).catch((e: Error) => assert.fail(`${e.message}: ${summary()}`));
    await rx!.waitSpans(paths.length, isSelect, 20_000).catch((e: Error) => assert.fail(`${e.message}: ${summary()}`));
    await new Promise((r) => setTimeout(r, 300));
    const spans = rx!.spans.filter(mine);
    assert.equal(spans.length, 3 * paths.length, JSON.stringify(spans.map((s) => [svc(s), s.kind, s.name, pathOf(s)])));
    const selects = rx!.spans.filter(isSelect);
    assert.equal(selects.length, paths.length, `one SELECT per request: ${summary()}`);
    const sql = rx!.spans.filter((s) => svc(s) === FPM_SERVICE && s.kind === CLIENT);
    assert.deepEqual([...new Set(sql.map((s) => s.name))], ['SELECT'], 'the PHP workers\' only client spans are the queries');
    for (const p of paths) {
      const of = (service: string, kind: number): ReceivedSpan => {
        const f = spans.filter((s) => svc(s) === service && s.kind === kind && pathOf(s) === p);
        assert.equal(f.length, 1, `${p}: one ${service} span of kind ${kind}`);
        return f[0];
      };
      const down = of('nginx', SERVER);
      const up = of('nginx', CLIENT);
      const php = of(FPM_SERVICE, SERVER);
      const q = selects.filter((s) => s.parentSpanId === php.spanId);
      assert.equal(q.length, 1, `${p}: one SELECT child of the FPM request`);
      assert.equal(down.parentSpanId, '', `${p}: nginx's request starts the trace`);
      assert.equal(up.parentSpanId, down.spanId, `${p}: the FastCGI request is the child of nginx's request`);
      assert.equal(php.parentSpanId, up.spanId, `${p}: the FPM request is the child of nginx's FastCGI request`);
      for (const s of [up, php, q[0]]) assert.equal(s.traceId, down.traceId, `${p}: one trace`);
      for (const s of [down, up, php]) {
        assert.equal(s.attributes['http.request.method'], 'GET');
        assert.equal(s.attributes['http.response.status_code'], status, `${p}: ${svc(s)} kind ${s.kind} status`);
      }
      assert.equal(php.attributes['url.path'], p);
      // the same route on the three HTTP-shaped spans (`GET /unix/*`, `GET /unix/missing/*`)
      assert.ok(down.name.startsWith(`GET /${p.split('/')[1]}/`), down.name);
      for (const s of [up, php]) assert.equal(s.name, down.name);
      assert.equal(up.status.code, status >= 400 ? 2 : 0);
      assert.equal(php.status.code, 0, 'a 404 is not a server error');
    }
  }

  test('unix: other unix sockets of traced processes are never reported (MySQL over its unix socket gives no span, no connection)', async () => {
    rx!.clear();
    const opened = async (): Promise<number> => (await agent!.metricValue('obi_ingest_connections_opened_total', {})) ?? 0;
    const before = await opened();
    const paths = Array.from({ length: N }, (_, i) => `/unix/local/${i}`);
    for (const p of paths) assert.equal(await run('curl', ['-sf', `http://127.0.0.1:${ports.front}${p}`]), `php-fpm ${p}\n`);
    const mine = (s: ReceivedSpan): boolean => paths.includes(pathOf(s));
    await rx!.waitSpans(3 * N, mine, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rx!.spans.filter(mine).length, 3 * N);
    assert.deepEqual(rx!.spans.filter((s) => svc(s) === FPM_SERVICE && s.kind === CLIENT), [], 'no span from the MariaDB unix socket');
    // per request: curl -> nginx (TCP), and the FastCGI unix connection seen from both ends; the MariaDB one is gated out
    assert.equal((await opened()) - before, 3 * N);
  });

  test('unix, 20 concurrent requests: each FPM request joins its own nginx FastCGI request; nginx links each upstream to its own request or counts it', async () => {
    rx!.clear();
    const C = 20;
    const ambiguous = (await agent!.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0;
    const paths = Array.from({ length: C }, (_, i) => `/unix/c/${i}`);
    await run('curl', ['-sf', '-Z', '--parallel-max', String(C), ...paths.flatMap((p) => ['-o', '/dev/null', `http://127.0.0.1:${ports.front}${p}`])]);
    const mine = (s: ReceivedSpan): boolean => paths.includes(pathOf(s));
    await rx!.waitSpans(3 * C, mine, 20_000);
    await rx!.waitSpans(C, (s) => svc(s) === FPM_SERVICE && s.kind === CLIENT, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const spans = rx!.spans.filter(mine);
    assert.equal(spans.length, 3 * C);
    const selects = rx!.spans.filter((s) => svc(s) === FPM_SERVICE && s.kind === CLIENT);
    assert.equal(selects.length, C);
    let unlinked = 0;
    for (const p of paths) {
      const one = (service: string, kind: number): ReceivedSpan => spans.filter((s) => svc(s) === service && s.kind === kind && pathOf(s) === p)[0];
      const down = one('nginx', SERVER);
      const up = one('nginx', CLIENT);
      const php = one(FPM_SERVICE, SERVER);
      assert.equal(php.parentSpanId, up.spanId, `${p}: joined to its own FastCGI request`);
      assert.equal(selects.filter((q) => q.parentSpanId === php.spanId).length, 1, `${p}: its query`);
      if (up.parentSpanId === '') unlinked++;
      else assert.equal(up.parentSpanId, down.spanId, `${p}: never the child of another request`);
    }
    const counted = ((await agent!.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0) - ambiguous;
    console.log(`# 20 concurrent: ${C - unlinked} nginx upstream spans linked, ${unlinked} not (counted ambiguous: ${counted})`);
    assert.equal(counted, unlinked);
  });

  for (const mode of ['unix', 'tcp', 'kept'] as const) {
    test(`${mode === 'kept' ? 'unix, kept connections (fastcgi_keep_conn)' : mode}: ${N} requests, each nginx -> FastCGI -> PHP-FPM -> MySQL in one trace`, async () => {
      rx!.clear();
      const joins = (await agent!.metricValue('obi_correlated_spans_total', { link: 'connection_join' })) ?? 0;
      const paths = Array.from({ length: N }, (_, i) => `/${mode}/${i}`);
      for (const p of paths) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${ports.front}${p}`]);
      await chains(paths, 200);
      // the FPM requests joined to nginx's FastCGI requests (both ends of each connection), and nothing else
      await waitFor('join count', async () => ((await agent!.metricValue('obi_correlated_spans_total', { link: 'connection_join' })) ?? 0) - joins === N, 5_000);
    });
    test(`${mode === 'kept' ? 'unix, kept connections' : mode}: http_response_code(404) reaches both FastCGI spans as the Status header`, async () => {
      rx!.clear();
      const paths = [`/${mode}/missing/1`];
      const out = join(dir, 'body');
      const code = await run('curl', ['-s', '-o', out, '-w', '%{http_code}', `http://127.0.0.1:${ports.front}${paths[0]}`]);
      assert.equal(code, '404', readFileSync(out, 'utf8'));
      await chains(paths, 404);
    });
  }
});
