/**
 * HTTPS without keys, end to end on the real kernel: uprobes on the TLS
 * libraries give the plaintext of nginx (libssl 3: SSL_read/SSL_write), a
 * Python http.server wrapped with ssl (libssl 3: SSL_read_ex/SSL_write_ex), a
 * Node.js https server and its https.request/fetch client (OpenSSL linked into
 * `node`), curl (libssl) and gnutls-cli (GnuTLS). Certificates are made by the
 * test with the openssl CLI; everything runs on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, run, sleep, startProcess, waitFor, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

const NODE_SERVER = `
import https from 'node:https';
import { readFileSync } from 'node:fs';
const [port, cert, key] = process.argv.slice(2);
const get = (url) => new Promise((resolve, reject) => {
  https.get(url, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); }).on('error', reject);
});
https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, async (req, res) => {
  const u = new URL(req.url, 'https://localhost');
  if (u.pathname === '/proxy') {
    const target = 'https://127.0.0.1:' + u.searchParams.get('port') + u.searchParams.get('path');
    let status;
    if (u.searchParams.get('via') === 'fetch') {
      const r = await fetch(target);
      await r.arrayBuffer();
      status = r.status;
    } else status = await get(target);
    res.end('proxied ' + status);
    return;
  }
  if (u.pathname.startsWith('/status/')) res.statusCode = Number(u.pathname.slice(8));
  res.setHeader('content-type', 'text/plain');
  res.end('hello over tls\\n');
}).listen(Number(port), '127.0.0.1');
`;

const PY_SERVER = `
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        code = 404 if self.path.startswith('/missing') else 200
        body = b'python says hi\\n' if code == 200 else b'nope\\n'
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

/** listens (so it is selected by port), then dlopens each path it reads on stdin */
const PY_DLOPEN = `
import ctypes, socket, sys
s = socket.socket()
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen()
libs = []
for line in sys.stdin:
    libs.append(ctypes.CDLL(line.strip()))
    print('loaded', line.strip(), flush=True)
`;

// libbpf attaches uprobes through the uprobe PMU (CONFIG_UPROBE_EVENTS)
const noUprobes = existsSync('/sys/bus/event_source/devices/uprobe/type') ? false : 'kernel feature missing: uprobes (CONFIG_UPROBE_EVENTS)';

describe('HTTPS: TLS plaintext from OpenSSL, Node.js built-in OpenSSL and GnuTLS uprobes', { skip: noUprobes }, () => {
  let dir: string;
  let cert: string;
  let key: string;
  let agent: TestAgent;
  let nginx: Nginx;
  let ngPort: number; // the ssl server of nginx
  let py: Proc;
  let pyPort: number;
  let node: Proc;
  let nodePort: number;
  let dl: Proc;
  let dlPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'obi-tls-'));
    chmodSync(dir, 0o755); // nginx workers run as nobody
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'x'.repeat(700));
    writeFileSync(join(dir, 'node-server.mjs'), NODE_SERVER);
    writeFileSync(join(dir, 'py-server.py'), PY_SERVER);
    writeFileSync(join(dir, 'py-dlopen.py'), PY_DLOPEN);
    // a "TLS library" without the functions we probe (a stripped or foreign build)
    writeFileSync(join(dir, 'fake.c'), 'int not_ssl(void) { return 42; }\n');
    await run('gcc', ['-shared', '-fPIC', '-o', join(dir, 'libssl.so.99'), join(dir, 'fake.c')]);

    [ngPort, pyPort, nodePort, dlPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    // servers started before the agent (found by the /proc scan) ...
    nginx = await startNginx(await freePort(), {
      workers: 1,
      extraServer: `server { listen 127.0.0.1:${ngPort} ssl; ssl_certificate ${cert}; ssl_certificate_key ${key}; root ${www}; location / { } location = /teapot { return 418; } }`,
    });
    node = startProcess(nodeBin, [join(dir, 'node-server.mjs'), String(nodePort), cert, key], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert } });
    await waitForPort(ngPort);
    await waitForPort(nodePort);
    const config = join(dir, 'obi.yaml');
    writeFileSync(config, `discovery:
  instrument:
    - open_ports: "${ngPort},${pyPort},${nodePort},${dlPort}"
    - exe_path: "*/curl"
    - exe_path: "*/gnutls-cli"
`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: config });
    // ... and after it (found by their listen() events)
    py = startProcess('python3', [join(dir, 'py-server.py'), String(pyPort), cert, key]);
    dl = startProcess('python3', [join(dir, 'py-dlopen.py'), String(dlPort)], { stdio: ['pipe', 'pipe', 'pipe'] });
    await waitForPort(pyPort);
    for (const p of [nginx.proc.pid, ...nginx.workerPids(), node.pid, py.pid]) await agent.waitTracked(p);
  });

  after(async () => {
    await agent?.stop();
    await nginx?.stop();
    await node?.kill();
    await py?.kill();
    await dl?.kill();
  });

  const serverOn = (port: number) => (s: SpanJSON) => s.kind === 'server' && s.attributes['server.port'] === port;
  const clientOf = (pid: number) => (s: SpanJSON) => s.kind === 'client' && s.service.pid === pid;
  const libsFor = (pid: number) => agent.agent.tlsLibraries().filter((l) => l.users.includes(pid));

  /** curl (libssl) waiting on its config from stdin: instrumented before it makes a single request */
  async function curl(urls: string[], extra: string[] = []): Promise<{ pid: number; codes: string[] }> {
    const p = startProcess('curl', ['-s', '--cacert', cert, '-w', '%{http_code}\\n', ...extra, '-K', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    await agent.waitTracked(p.pid);
    await waitFor('curl maps an instrumented libssl', () => libsFor(p.pid).some((l) => l.kind === 'openssl'));
    p.child.stdin!.end(urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
    const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
    assert.equal(code, 0, p.output());
    return { pid: p.pid, codes: p.output().trim().split('\n') };
  }

  test('each TLS library file is attached once, shared by the processes that map it', async () => {
    const libs = agent.agent.tlsLibraries();
    const libssl = libs.filter((l) => l.kind === 'openssl' && /libssl\.so\.3$/.test(l.path));
    assert.equal(libssl.length, 1);
    // Debian's libssl 3: SSL_read/_ex and SSL_write/_ex are probed at the internal function each pair calls
    // (it starts with a push, which the kernel emulates): entry+return on each, SSL_shutdown, SSL_free
    assert.equal(libssl[0].links, 6, 'ssl_read_internal, ssl_write_internal entry+return, SSL_shutdown, SSL_free');
    for (const pid of [nginx.proc.pid, ...nginx.workerPids(), py.pid]) assert.ok(libssl[0].users.includes(pid), `pid ${pid} uses libssl`);
    const embedded = libs.filter((l) => l.path === nodeBin);
    assert.equal(embedded.length, 1, 'OpenSSL inside the node executable');
    assert.deepEqual(embedded[0].users, [node.pid]);
    assert.equal(embedded[0].kind, 'openssl');
  });

  test('nginx (libssl 3, SSL_read/SSL_write) server spans and curl (libssl) client spans, keep-alive and not', async () => {
    const base = `https://127.0.0.1:${ngPort}`;
    const a = await curl([`${base}/index.html`, `${base}/index.html`, `${base}/index.html`, `${base}/missing`]);
    assert.deepEqual(a.codes, ['200', '200', '200', '404']);
    const b = await curl([`${base}/teapot`]);
    assert.deepEqual(b.codes, ['418']);
    const spans = await agent.waitSpans(5, serverOn(ngPort));
    await sleep(100);
    assert.equal(agent.spans(serverOn(ngPort)).length, 5, 'one server span per exchange');
    for (const s of spans) {
      assert.equal(s.attributes['url.scheme'], 'https');
      assert.equal(s.attributes['http.request.method'], 'GET');
      assert.equal(s.attributes['client.address'], '127.0.0.1');
      assert.equal(s.service.name, 'nginx');
      assert.ok(nginx.workerPids().includes(s.service.pid));
    }
    const index = spans.filter((s) => s.attributes['url.path'] === '/index.html');
    assert.equal(index.length, 3);
    assert.ok(index.every((s) => s.attributes['http.response.status_code'] === 200 && s.attributes['http.response.body.size'] === 700));
    assert.equal(spans.filter((s) => s.attributes['http.response.status_code'] === 404 && s.attributes['url.path'] === '/missing').length, 1);
    assert.equal(spans.filter((s) => s.attributes['http.response.status_code'] === 418 && s.name === 'GET /teapot').length, 1);
    // the keep-alive exchanges share one client port
    assert.equal(new Set(spans.filter((s) => s.attributes['url.path'] !== '/teapot').map((s) => s.attributes['client.port'])).size, 1);

    const ca = await agent.waitSpans(4, clientOf(a.pid));
    const cb = await agent.waitSpans(1, clientOf(b.pid));
    await sleep(100);
    assert.equal(agent.spans(clientOf(a.pid)).length, 4);
    assert.equal(agent.spans(clientOf(b.pid)).length, 1);
    assert.deepEqual(ca.map((s) => s.attributes['http.response.status_code']), [200, 200, 200, 404]);
    for (const s of [...ca, ...cb]) {
      assert.equal(s.attributes['url.scheme'], 'https');
      assert.equal(s.attributes['server.port'], ngPort);
      assert.equal(s.attributes['server.address'], '127.0.0.1');
    }
    assert.equal(ca[0].attributes['url.full'], `${base}/index.html`);
    assert.equal(cb[0].attributes['url.full'], `${base}/teapot`);
    const lbl = { service_name: 'nginx', server_port: String(ngPort), http_request_method: 'GET' };
    assert.equal(await agent.metricValue('http_server_request_duration_seconds_count', { ...lbl, http_route: '/index.html', http_response_status_code: '200' }), 3);
    assert.equal(await agent.metricValue('http_server_response_body_size_bytes_sum', { ...lbl, http_route: '/index.html' }), 2100);
  });

  test('Python http.server with ssl (libssl 3, SSL_read_ex/SSL_write_ex), started after the agent', async () => {
    const base = `https://127.0.0.1:${pyPort}`;
    const r = await curl([`${base}/a`, `${base}/b`, `${base}/missing/1`]);
    assert.deepEqual(r.codes, ['200', '200', '404']);
    const spans = await agent.waitSpans(3, serverOn(pyPort));
    await sleep(100);
    assert.equal(agent.spans(serverOn(pyPort)).length, 3);
    assert.deepEqual(spans.map((s) => [s.attributes['url.path'], s.attributes['http.response.status_code']]), [['/a', 200], ['/b', 200], ['/missing/1', 404]]);
    for (const s of spans) {
      assert.equal(s.attributes['url.scheme'], 'https');
      assert.equal(s.service.pid, py.pid);
      assert.equal(s.attributes['http.response.body.size'], s.attributes['http.response.status_code'] === 200 ? 15 : 5);
    }
    assert.equal((await agent.waitSpans(3, clientOf(r.pid))).length, 3);
  });

  test('Node.js https server and https.request / fetch clients (OpenSSL linked into node)', async () => {
    const base = `https://127.0.0.1:${nodePort}`;
    const r = await curl([`${base}/hello`, `${base}/status/503`]);
    assert.deepEqual(r.codes, ['200', '503']);
    const direct = await agent.waitSpans(2, (s) => serverOn(nodePort)(s) && s.attributes['url.path'] !== '/proxy');
    assert.deepEqual(direct.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['url.scheme']]), [
      ['GET /hello', 200, 'https'],
      ['GET /status/*', 503, 'https'],
    ]);
    assert.equal(direct[0].attributes['http.response.body.size'], 15);
    assert.equal(direct[1].status, 'error');

    // the Node server calls the Python server over TLS: twice with https.request, twice with fetch
    const before = agent.spans(serverOn(pyPort)).length;
    const q = (via: string, path: string): string => `${base}/proxy?via=${via}&port=${pyPort}&path=${encodeURIComponent(path)}`;
    const p = await curl([q('request', '/r1'), q('request', '/r2'), q('fetch', '/f1'), q('fetch', '/missing/f2')]);
    assert.deepEqual(p.codes, ['200', '200', '200', '200']);
    const clients = await agent.waitSpans(4, clientOf(node.pid));
    await sleep(100);
    assert.equal(agent.spans(clientOf(node.pid)).length, 4, 'one client span per outgoing request');
    assert.deepEqual(clients.map((s) => [s.attributes['url.full'], s.attributes['http.response.status_code']]), [
      [`https://127.0.0.1:${pyPort}/r1`, 200],
      [`https://127.0.0.1:${pyPort}/r2`, 200],
      [`https://127.0.0.1:${pyPort}/f1`, 200],
      [`https://127.0.0.1:${pyPort}/missing/f2`, 404],
    ]);
    assert.ok(clients.every((s) => s.attributes['url.scheme'] === 'https' && s.attributes['server.port'] === pyPort && s.attributes['http.request.method'] === 'GET'));
    const proxied = await agent.waitSpans(4, (s) => serverOn(nodePort)(s) && s.attributes['url.path'] === '/proxy');
    assert.equal(proxied.length, 4);
    assert.equal((await agent.waitSpans(before + 4, serverOn(pyPort))).length, before + 4);
    await sleep(100);
    assert.equal(agent.spans(serverOn(pyPort)).length, before + 4);
    assert.equal(agent.spans(serverOn(nodePort)).length, 6);
  });

  test('gnutls-cli (GnuTLS, gnutls_record_send/recv) client spans, picked up after it started', async () => {
    const g = startProcess('gnutls-cli', ['--x509cafile', cert, '-p', String(ngPort), '127.0.0.1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await agent.waitTracked(g.pid);
      await waitFor('libgnutls instrumented for gnutls-cli', () => libsFor(g.pid).some((l) => l.kind === 'gnutls'), 5000);
      await waitFor('handshake done', () => g.output().includes('Handshake was completed'), 5000);
      for (const [i, path] of ['/index.html', '/gnutls/missing', '/index.html'].entries()) {
        g.child.stdin!.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        await waitFor(`response ${i + 1}`, () => g.output().split('HTTP/1.1 ').length - 1 === i + 1, 5000);
      }
      const spans = await agent.waitSpans(3, clientOf(g.pid));
      await sleep(100);
      assert.equal(agent.spans(clientOf(g.pid)).length, 3);
      assert.deepEqual(spans.map((s) => [s.attributes['url.path'] ?? new URL(String(s.attributes['url.full'])).pathname, s.attributes['http.response.status_code']]), [
        ['/index.html', 200],
        ['/gnutls/missing', 404],
        ['/index.html', 200],
      ]);
      assert.ok(spans.every((s) => s.attributes['url.scheme'] === 'https' && s.attributes['server.port'] === ngPort));
      const srv = agent.spans((s) => serverOn(ngPort)(s) && String(s.attributes['url.path']).startsWith('/gnutls/'));
      assert.equal(srv.length, 1);
    } finally {
      await g.kill();
    }
  });

  test('no exchange is reported twice, nor as plain HTTP, and nothing was dropped', async () => {
    const tlsPorts = new Set([ngPort, pyPort, nodePort]);
    const onTls = agent.spans((s) => tlsPorts.has(Number(s.attributes['server.port'])));
    // nginx: 5 curl + 3 gnutls-cli exchanges; Python: 3 curl + 4 from Node; Node: 2 + 4 proxied; each seen from both ends
    assert.equal(onTls.length, 2 * (8 + 7 + 6));
    assert.ok(onTls.every((s) => s.attributes['url.scheme'] === 'https'));
    // one span per (kind, process, connection, start)
    const ids = onTls.map((s) => `${s.kind}|${s.service.pid}|${s.attributes['client.port'] ?? ''}|${s.start}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(await agent.metricValue('obi_ebpf_events_dropped_total', {}), 0);
  });

  test('a TLS library without its symbols is an instrumentation error; dlopen is picked up', async () => {
    await agent.waitTracked(dl.pid);
    const name = agent.agent.status().tracked.find((p) => p.pid === dl.pid)!.service.name;
    dl.child.stdin!.write(`${join(dir, 'libssl.so.99')}\n`);
    dl.child.stdin!.write('/lib/x86_64-linux-gnu/libgnutls.so.30\n');
    await waitFor('both loaded', () => dl.output().split('loaded').length === 3);
    await waitFor('libgnutls picked up after dlopen', () => libsFor(dl.pid).some((l) => l.kind === 'gnutls'), 3000, 50);
    await waitFor('error counted', async () => (await agent.metricValue('obi_instrumentation_errors_total', { process_name: name, error_type: 'symbol_not_found' })) === 1, 3000, 50);
    assert.ok(agent.logs.some((l) => l.includes('TLS library not instrumented') && l.includes('libssl.so.99') && l.includes('missing SSL_read, SSL_write')));
  });

  test('a library is detached when its last user exits', async () => {
    const gnutls = () => agent.agent.tlsLibraries().filter((l) => l.kind === 'gnutls');
    assert.equal(gnutls().length, 1);
    assert.ok(gnutls()[0].users.includes(dl.pid));
    await dl.kill();
    // curl and gnutls-cli of other users of the machine are selected too: the library stays only
    // while such a process is alive and maps it
    await waitFor('libgnutls released by the exited process', () => !gnutls().some((l) => l.users.includes(dl.pid)));
    await waitFor('libgnutls detached or held by live processes only', () => gnutls().length === 0 || gnutls()[0].users.every((pid) => existsSync(`/proc/${pid}`)));
    const nodeLib = () => agent.agent.tlsLibraries().filter((l) => l.path === nodeBin);
    assert.equal(nodeLib().length, 1);
    await node.kill();
    await waitFor('node executable detached', () => nodeLib().length === 0);
    assert.equal(agent.agent.tlsLibraries().filter((l) => /libssl\.so\.3$/.test(l.path)).length, 1, 'libssl stays: nginx and Python still use it');
  });
});
