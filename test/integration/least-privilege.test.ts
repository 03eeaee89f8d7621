/**
 * Least privilege, end to end: the agent (bin/obi-ts, a separate process) runs as the
 * unprivileged user `nobody` with exactly the documented capabilities as ambient capabilities
 * (capsh --user=nobody --addamb=...): CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH. The servers and clients run as root (other users' processes: discovery
 * needs CAP_SYS_PTRACE). It must capture plain HTTP (Python server, curl), HTTPS through
 * OpenSSL (Python ssl server, curl) and GnuTLS (gnutls-cli), and a Redis client span
 * (redis-cli). With a capability missing, the agent refuses to start with an error naming the
 * capability and what it blocks, and `obi-ts doctor` says what will not work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, sleep, startProcess, waitFor, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { startRedis, type SimpleServer } from '../helpers/db-servers.ts';
import { projectRoot, uprobeMultiSupported } from '../../src/native/binding.ts';
import { REQUIRED_CAPABILITIES } from '../../src/pipeline/capabilities.ts';

const OBI = join(projectRoot, 'bin', 'obi-ts');
const ALL = REQUIRED_CAPABILITIES.map((c) => c.name.toLowerCase());

const skip = !existsSync('/usr/sbin/capsh')
  ? 'capsh (libcap2-bin) is not installed'
  : !uprobeMultiSupported()
    ? 'kernel feature missing: uprobe_multi links (Linux >= 6.6), needed for TLS uprobes without CAP_SYS_ADMIN'
    : false;

/** `args` run by `nobody` holding exactly `caps` (ambient), through capsh */
function asNobody(caps: readonly string[], args: string[], env: Record<string, string> = {}): Proc {
  const keep = [...caps, 'cap_setuid', 'cap_setgid', 'cap_setpcap'].join(',');
  const cmd = ['exec', ...args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`)].join(' ');
  return startProcess('capsh', [`--caps=${keep}+eip`, '--keep=1', '--user=nobody', `--addamb=${caps.join(',')}`, '--', '-c', cmd], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
}

async function exitOf(p: Proc): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  return await new Promise((r) => p.child.once('exit', (c) => r(c)));
}

const PY_TLS = `
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = b'tls hello\\n'
        self.send_response(200)
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

describe('least privilege: the agent as nobody with the documented capabilities', { skip }, () => {
  let dir: string;
  let cert: string;
  let httpPort: number;
  let httpsPort: number;
  let http: Proc;
  let https: Proc;
  let redis: SimpleServer;
  let agent: Proc;
  let out = '';

  const spans = (): SpanJSON[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as SpanJSON);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'obi-caps-'));
    chmodSync(dir, 0o755);
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    writeFileSync(join(dir, 'index.html'), 'plain hello\n');
    writeFileSync(join(dir, 'tls.py'), PY_TLS);
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    http = startProcess('python3', ['-m', 'http.server', String(httpPort), '--bind', '127.0.0.1', '--directory', dir]);
    https = startProcess('python3', [join(dir, 'tls.py'), String(httpsPort), cert, key]);
    redis = await startRedis();
    await waitForPort(httpPort);
    await waitForPort(httpsPort);
    const cfg = join(dir, 'obi.yaml');
    writeFileSync(cfg, `discovery:
  instrument:
    - open_ports: "${httpPort},${httpsPort}"
    - exe_path: "*/curl"
    - exe_path: "*/gnutls-cli"
    - exe_path: "*/redis-cli"
trace_printer: json
ebpf:
  drain_interval: 5ms
`);
    chmodSync(cfg, 0o644);
    agent = asNobody(ALL, [OBI, '--config', cfg]);
    agent.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('agent running', () => agent.output().includes('obi-ts running') || agent.child.exitCode !== null, 30_000);
    assert.equal(agent.child.exitCode, null, agent.output());
    await waitFor('servers instrumented', () => (agent.output().match(/instrumenting process/g) ?? []).length >= 2, 10_000);
  });

  after(async () => {
    await agent?.kill();
    await http?.kill();
    await https?.kill();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the agent runs as nobody with exactly the five capabilities', () => {
    // capsh execs the agent in place: its pid is the agent's (bin/obi-ts execs node too)
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
    const want = REQUIRED_CAPABILITIES.reduce((a, c) => a | (1n << BigInt(c.bit)), 0n);
    assert.equal(eff.toString(16), want.toString(16));
  });

  test('HTTP, HTTPS (OpenSSL and GnuTLS) and a Redis span', async () => {
    const c1 = await run('curl', ['-sS', `http://127.0.0.1:${httpPort}/index.html`]);
    assert.equal(c1, 'plain hello\n');
    const c2 = await run('curl', ['-sS', '--cacert', cert, `https://127.0.0.1:${httpsPort}/over-openssl`]);
    assert.equal(c2, 'tls hello\n');
    // gnutls-cli: handshake first, then the request from stdin
    const g = startProcess('gnutls-cli', ['--x509cafile', cert, '-p', String(httpsPort), '127.0.0.1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    await waitFor('gnutls handshake', () => g.output().includes('Handshake was completed'), 10_000);
    await sleep(300);
    g.child.stdin!.write(`GET /over-gnutls HTTP/1.1\r\nHost: 127.0.0.1:${httpsPort}\r\nConnection: close\r\n\r\n`);
    await waitFor('gnutls response', () => g.output().includes('tls hello'), 10_000);
    g.child.stdin!.end();
    await g.kill();
    const r = await run('redis-cli', ['-p', String(redis.port), 'SET', 'least', 'privilege']);
    assert.equal(r.trim(), 'OK');

    const find = async (pred: (s: SpanJSON) => boolean): Promise<SpanJSON> => {
      try {
        return await waitFor('span', () => spans().find(pred), 15_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nagent log:\n${agent.output().split('\n').filter((l) => /TLS|WARN|ERROR|gnutls|kernel features/.test(l)).join('\n')}\nspans:\n${spans().filter((x) => x.attributes['server.port'] === httpsPort).map((x) => JSON.stringify(x.attributes)).join('\n')}`);
      }
    };
    const plainClient = await find((s) => s.kind === 'client' && s.attributes['url.full'] === `http://127.0.0.1:${httpPort}/index.html`);
    assert.equal(plainClient.service.name, 'curl');
    assert.equal(plainClient.attributes['http.response.status_code'], 200);
    const plainServer = await find((s) => s.kind === 'server' && s.attributes['url.path'] === '/index.html' && s.attributes['server.port'] === httpPort);
    assert.equal(plainServer.attributes['url.scheme'], 'http');

    const sslClient = await find((s) => s.kind === 'client' && s.attributes['url.full'] === `https://127.0.0.1:${httpsPort}/over-openssl`);
    assert.equal(sslClient.service.name, 'curl');
    assert.equal(sslClient.attributes['url.scheme'], 'https');
    const sslServer = await find((s) => s.kind === 'server' && s.attributes['url.path'] === '/over-openssl');
    assert.equal(sslServer.attributes['url.scheme'], 'https');
    assert.equal(sslServer.attributes['http.response.status_code'], 200);

    const gnutls = await find((s) => s.kind === 'client' && s.attributes['url.full'] === `https://127.0.0.1:${httpsPort}/over-gnutls`);
    assert.equal(gnutls.service.name, 'gnutls-cli');
    await find((s) => s.kind === 'server' && s.attributes['url.path'] === '/over-gnutls');

    const db = await find((s) => s.service.name === 'redis-cli' && s.attributes['db.operation.name'] === 'SET');
    assert.equal(db.attributes['db.system.name'], 'redis');
    assert.equal(db.attributes['server.port'], redis.port);

    assert.doesNotMatch(agent.output(), /TLS library not instrumented|level=ERROR/);
  });

  test('a missing capability: the agent refuses to start and names it and what it blocks', async () => {
    const p = asNobody(['cap_bpf', 'cap_perfmon'], [OBI, '--config', join(dir, 'obi.yaml')]);
    assert.equal(await exitOf(p), 2, p.output());
    assert.match(p.output(), /OBI_ERR_NOT_ROOT|needs root, or the capabilities/);
    assert.match(p.output(), /CAP_DAC_READ_SEARCH missing: no all capture: reading the tracepoint ids in tracefs/);
  });

  test('without CAP_NET_ADMIN the agent starts: context propagation (default tcp) is reported off, with its code', async () => {
    const p = asNobody(
      ALL.filter((c) => c !== 'cap_net_admin'),
      [OBI, '--config', join(dir, 'obi.yaml')],
      { OTEL_EBPF_OPEN_PORT: String(httpPort + 1), OTEL_EBPF_TRACE_PRINTER: 'counter' },
    );
    try {
      await waitFor('the agent running', () => p.output().includes('obi-ts running') || p.child.exitCode !== null, 20_000);
      assert.equal(p.child.exitCode, null, p.output());
      assert.match(p.output(), /context propagation: tcp is not available.*OBI_ERR_PROPAGATION_UNAVAILABLE.*CAP_NET_ADMIN is missing/);
    } finally {
      await p.kill();
    }
  });

  test('doctor as nobody: everything works with the five; without CAP_NET_ADMIN propagation will not', async () => {
    const ok = asNobody(ALL, [OBI, 'doctor', '--json', '--config', join(dir, 'obi.yaml')]);
    assert.equal(await exitOf(ok), 0, ok.output());
    const report = JSON.parse(ok.output().slice(ok.output().indexOf('{')));
    assert.equal(report.uid, 65534);
    assert.deepEqual(report.capabilities.map((c: { name: string; present: boolean }) => [c.name, c.present]), REQUIRED_CAPABILITIES.map((c) => [c.name, true]));
    assert.equal(report.probes.uprobes.ok, true, report.probes.uprobes.detail);
    assert.equal(report.probes.tracepoints.ok, true, report.probes.tracepoints.detail);

    const without = ALL.filter((c) => c !== 'cap_net_admin');
    const bad = asNobody(without, [OBI, 'doctor', '--json', '--config', join(dir, 'obi.yaml')], { OTEL_EBPF_BPF_CONTEXT_PROPAGATION: 'headers' });
    assert.equal(await exitOf(bad), 1, bad.output());
    const r2 = JSON.parse(bad.output().slice(bad.output().indexOf('{')));
    assert.equal(r2.capabilities.find((c: { name: string }) => c.name === 'CAP_NET_ADMIN').present, false);
    const prop = r2.features.find((f: { feature: string }) => f.feature.startsWith('context propagation: headers'));
    assert.equal(prop.required, true);
    assert.equal(prop.works, false);
    assert.match(prop.why, /missing CAP_NET_ADMIN/);
    // what does not need it still works
    assert.equal(r2.features.find((f: { feature: string }) => f.feature.startsWith('TLS')).works, true);
  });
});
