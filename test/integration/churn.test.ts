/**
 * Process churn, end to end on the real kernel (issue 14, items 1-3 in a shorter run):
 * hundreds of short-lived clients, each started after the agent and sending its request
 * within a millisecond of exec, selected by executable path (a copy of curl under a name of
 * its own, so other users' curl runs on the machine do not count) and by language (python3):
 *
 * - every request has its client span (exact count: exec admission in the kernel, no first
 *   request lost), over plain HTTP and over HTTPS (libssl attached once, shared by all);
 * - selectors without a fixed base name are admitted at exec too, with exact counts: a glob
 *   whose last segment is `*<suffix>` (`*\/bin/*-obi<pid>`) and one ending in `<prefix>*`;
 * - afterwards no per-process state is left: not in the lifecycle (tracked, allowed, revoked),
 *   the TLS instrumenter, the connection tracker, nor in the kernel maps `pids`, `conns`,
 *   `ssl_fds` and `h2_conns` (read back from the kernel), and libssl is still attached for the
 *   server that keeps using it; the identities kept for late records of exited processes are
 *   bounded (lifecycle.ts MAX_EXITED);
 * - the agent's RSS after the last batch is within 10 MB of its value after the first (the
 *   first batch warms up: JIT, TLS attachment, metric series).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TestAgent, freePort, run, sleep, startProcess, waitFor, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';

const CURLS = Number(process.env.OBI_CHURN_CURLS ?? 120);
const PYTHONS = Number(process.env.OBI_CHURN_PYTHONS ?? 12);
const GLOBS = Number(process.env.OBI_CHURN_GLOBS ?? 6);

const PY_TLS = `
import http.server, ssl, sys
port = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = b'ok\\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

const PY_CLIENT = `
import sys, urllib.request
urllib.request.urlopen(sys.argv[1]).read()
`;

const exec = (cmd: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** RSS after a full collection (the agent runs in this process) */
const rssMb = (): number => {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};

describe('churn: short-lived selected processes', () => {
  let dir: string;
  let curl: string;
  let suffixCurl: string;
  let prefixCurl: string;
  let cert: string;
  let httpPort: number;
  let httpsPort: number;
  let http: Proc;
  let https: Proc;
  let agent: TestAgent;
  const ours = new Set<number>();
  const rss: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'obi-churn-'));
    chmodSync(dir, 0o755);
    // a name no other process on the machine has
    curl = join(dir, `churncurl${process.pid}`);
    copyFileSync('/usr/bin/curl', curl);
    chmodSync(curl, 0o755);
    // selected by globs without a fixed base name (exec-admission.ts: suffix and prefix facts)
    mkdirSync(join(dir, 'bin'));
    suffixCurl = join(dir, 'bin', `client-obi${process.pid}`);
    prefixCurl = join(dir, `obipre${process.pid}-curl`);
    for (const c of [suffixCurl, prefixCurl]) {
      copyFileSync('/usr/bin/curl', c);
      chmodSync(c, 0o755);
    }
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    writeFileSync(join(dir, 'srv.py'), PY_TLS);
    writeFileSync(join(dir, 'client.py'), PY_CLIENT);
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    http = startProcess('python3', [join(dir, 'srv.py'), String(httpPort)]);
    https = startProcess('python3', [join(dir, 'srv.py'), String(httpsPort), cert, key]);
    await waitForPort(httpPort);
    await waitForPort(httpsPort);
    const cfg = join(dir, 'obi.yaml');
    writeFileSync(cfg, `discovery:
  instrument:
    - open_ports: "${httpPort},${httpsPort}"
    - exe_path: "*/${curl.slice(curl.lastIndexOf('/') + 1)}"
    - languages: python
      cmd_args: "*${join(dir, 'client.py')}*"
    - exe_path: "*/bin/*-obi${process.pid}"
    - exe_path: "*/obipre${process.pid}*"
`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: cfg });
    await agent.waitTracked(https.pid);
  });

  after(async () => {
    await agent?.stop();
    await http?.kill();
    await https?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`${CURLS} curl runs (a quarter over HTTPS) and ${PYTHONS} Python clients: every client span, memory flat`, async () => {
    const batches = 4;
    for (let b = 0; b < batches; b++) {
      for (let i = b * (CURLS / batches); i < (b + 1) * (CURLS / batches); i++) {
        const url = i % 4 === 3 ? `https://127.0.0.1:${httpsPort}/c?i=${i}` : `http://127.0.0.1:${httpPort}/c?i=${i}`;
        const child = execFile(curl, ['-sS', '-o', '/dev/null', '--cacert', cert, url]);
        ours.add(child.pid!);
        await new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`)))));
      }
      await sleep(200);
      rss.push(rssMb());
    }
    for (let i = 0; i < PYTHONS; i++) await exec('python3', [join(dir, 'client.py'), `http://127.0.0.1:${httpPort}/p?i=${i}`]);
    for (let i = 0; i < GLOBS; i++) {
      for (const [c, tag] of [[suffixCurl, 's'], [prefixCurl, 'x']] as const) {
        const child = execFile(c, ['-sS', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/${tag}?i=${i}`]);
        ours.add(child.pid!);
        await new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${c} exited ${code}`)))));
      }
    }

    const clientOf = (prefix: string) => (s: SpanJSON) => s.kind === 'client' && String(s.attributes['url.full']).includes(prefix);
    const curlSpans = await agent.waitSpans(CURLS, clientOf('/c?i='), 30_000);
    const pySpans = await agent.waitSpans(PYTHONS, clientOf('/p?i='), 30_000);
    await agent.waitSpans(GLOBS, clientOf('/s?i='), 30_000);
    await agent.waitSpans(GLOBS, clientOf('/x?i='), 30_000);
    await sleep(500);
    // the first request of every process selected by a suffix or prefix glob
    assert.equal(agent.spans(clientOf('/s?i=')).length, GLOBS, 'one client span per run selected by `*/bin/*-obi<pid>`');
    assert.equal(agent.spans(clientOf('/x?i=')).length, GLOBS, 'one client span per run selected by `*/obipre<pid>*`');
    assert.ok(agent.spans(clientOf('/s?i=')).every((s) => s.service.name === `client-obi${process.pid}`));
    const seen = new Set(agent.spans(clientOf('/c?i=')).map((s) => String(s.attributes['url.full'])));
    assert.equal(seen.size, CURLS, 'one client span per curl run');
    assert.equal(agent.spans(clientOf('/c?i=')).length, CURLS, 'and no duplicates');
    assert.equal(agent.spans(clientOf('/p?i=')).length, PYTHONS, 'one client span per Python client');
    assert.equal(curlSpans.filter((s) => s.attributes['url.scheme'] === 'https').length, CURLS / 4);
    assert.ok(pySpans.every((s) => s.service.language === 'python'));
    // the server side saw every request too
    assert.equal(agent.spans((s) => s.kind === 'server' && String(s.attributes['url.path']) === '/c').length, CURLS);

    const growth = rss[rss.length - 1] - rss[0];
    console.log(`# RSS after each batch of ${CURLS / batches}: ${rss.map((r) => r.toFixed(1)).join(', ')} MB`);
    assert.ok(growth < 10, `RSS grew ${growth.toFixed(1)} MB from the first batch to the last`);
  });

  test('a Python client gone before the agent reads /proc is still selected by cmd_args (argv from the exec event)', async () => {
    // spawnSync blocks this process's event loop, which is the agent's: the exec event is handled
    // only after the client has exited, so /proc/PID/cmdline is gone and only the argv the kernel
    // read at exec can match `cmd_args: *client.py*` (the control script must not match)
    writeFileSync(join(dir, 'other.py'), PY_CLIENT);
    const RUNS = 4;
    for (let i = 0; i < RUNS; i++) {
      for (const [script, tag] of [['client.py', 'g'], ['other.py', 'o']] as const) {
        const r = spawnSync('/usr/bin/python3', [join(dir, script), `http://127.0.0.1:${httpPort}/${tag}?i=${i}`]);
        assert.equal(r.status, 0, String(r.stderr));
        ours.add(r.pid);
      }
    }
    const clientOf = (prefix: string) => (s: SpanJSON) => s.kind === 'client' && String(s.attributes['url.full']).includes(prefix);
    await agent.waitSpans(RUNS, clientOf('/g?i='), 15_000);
    await agent.waitSpans(2 * RUNS, (s) => s.kind === 'server' && /^\/[go]$/.test(String(s.attributes['url.path'])), 15_000);
    await sleep(300);
    assert.equal(agent.spans(clientOf('/g?i=')).length, RUNS, 'one client span per run of client.py');
    assert.ok(agent.spans(clientOf('/g?i=')).every((s) => s.service.language === 'python'));
    assert.equal(agent.spans(clientOf('/o?i=')).length, 0, 'other.py is not selected');
  });

  test('no per-process state left, in user space and in the kernel maps', async () => {
    const alive = (pid: number) => existsSync(`/proc/${pid}`);
    await waitFor('exits processed', () => !agent.agent.status().tracked.some((p) => ours.has(p.pid) || (p.info.exePath === curl && !alive(p.pid))), 15_000);
    const tracked = agent.agent.status().tracked;
    assert.ok(tracked.every((p) => alive(p.pid)), 'every tracked process is alive');
    assert.deepEqual(agent.agent.kernelPids().filter((p) => !alive(p)), [], 'kernel `pids`: only live processes');
    assert.deepEqual(agent.agent.kernelPids().filter((p) => ours.has(p)), []);
    for (const [map, owners] of Object.entries(agent.agent.kernelMapOwners())) {
      assert.deepEqual(owners.filter((p) => ours.has(p) || !alive(p)), [], `kernel \`${map}\`: nothing of exited processes`);
    }
    // user space: only live processes are written into the filter by user space, no revocation
    // is pending for our processes, and the identities kept for late records are bounded
    const lc = agent.agent.status().lifecycle;
    assert.ok(lc.allowed <= tracked.length, `allowed ${lc.allowed} <= tracked ${tracked.length}`);
    assert.ok(lc.exited <= 1024, `exited identities kept: ${lc.exited}`);
    assert.deepEqual(agent.agent.status().connectionPids.filter((p) => ours.has(p) || !alive(p)), [], 'connection tracker: nothing of exited processes');
    const libssl = agent.agent.tlsLibraries().find((l) => /libssl\.so/.test(l.path));
    assert.ok(libssl, 'libssl still attached: the HTTPS server uses it');
    assert.ok(libssl.users.includes(https.pid));
    assert.deepEqual(libssl.users.filter((p) => ours.has(p) || !alive(p)), [], 'no exited process holds a TLS library');
  });
});
