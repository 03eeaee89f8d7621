/**
 * The entry point as a user runs it: bin/obi-ts as its own process, configured
 * by environment and YAML; clear errors and exit codes for bad input and for
 * missing privileges; one text line per request on stdout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, startProcess, waitFor, waitForPort } from '../helpers/harness.ts';

const bin = join(import.meta.dirname, '../../bin/obi-ts');

function cli(args: string[], env: Record<string, string>, prefix: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cmd = prefix.length ? prefix[0] : bin;
    const argv = prefix.length ? [...prefix.slice(1), bin, ...args] : args;
    const p = spawn(cmd, argv, { env: { PATH: process.env.PATH!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** the arguments of the process `pid` runs (bin/obi-ts execs node in place: same pid) */
function v8Args(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
}

describe('bin/obi-ts', () => {
  test('a bad environment value stops start-up naming the variable', async () => {
    const r = await cli([], { OTEL_EBPF_OPEN_PORT: '8080', OTEL_EBPF_TRACE_PRINTER: 'texts' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /OBI_ERR_CONFIG_INVALID/);
    assert.match(r.stderr, /trace_printer \(env OTEL_EBPF_TRACE_PRINTER\): must be one of disabled, counter, text, json, json_indent; got "texts"/);
  });

  test('an unknown YAML key stops start-up naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obi-cli-'));
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'open_port: 8080\ntrace_printer: text\nprometheus_export:\n  prot: 9400\n');
    const r = await cli(['--config', f], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /prometheus_export\.prot/);
    assert.match(r.stderr, /did you mean "port"\?/);
  });

  test('--print-config shows the effective configuration (env over file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'obi-cli-'));
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'open_port: 8080\ntrace_printer: text\n');
    const r = await cli(['--config', f, '--print-config=json'], { OTEL_EBPF_TRACE_PRINTER: 'json', OTEL_EBPF_PROMETHEUS_PORT: '9999' });
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { open_port: string | number; trace_printer: string; prometheus_export: { port: number } };
    assert.equal(String(c.open_port), '8080');
    assert.equal(c.trace_printer, 'json');
    assert.equal(c.prometheus_export.port, 9999);
  });

  test('unknown arguments are usage errors', async () => {
    const r = await cli(['--frobnicate'], {});
    assert.equal(r.code, 64);
    assert.match(r.stderr, /unknown argument "--frobnicate"/);
  });

  test('without BPF capabilities the agent says so and exits 2', async () => {
    // root stays uid 0 but loses every capability (empty bounding set)
    const r = await cli([], { OTEL_EBPF_OPEN_PORT: '8080', OTEL_EBPF_TRACE_PRINTER: 'text' }, ['setpriv', '--bounding-set=-all', '--inh-caps=-all']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /obi-ts needs root, or the capabilities CAP_BPF, CAP_PERFMON/);
    assert.match(r.stderr, /code=OBI_ERR_NOT_ROOT/);
  });

  test('a real run: one text line per request on stdout, counts on /metrics, clean stop on SIGINT', async () => {
    const port = await freePort();
    const prom = await freePort();
    const srv = startProcess('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1']);
    let running: ReturnType<typeof spawn> | undefined;
    try {
      await waitForPort(port);
      const agent = spawn(bin, [], {
        env: { PATH: process.env.PATH!, OTEL_EBPF_OPEN_PORT: String(port), OTEL_EBPF_TRACE_PRINTER: 'text', OTEL_EBPF_PROMETHEUS_PORT: String(prom) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running = agent;
      let out = '';
      let err = '';
      agent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      agent.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
      await waitFor('agent ready', () => err.includes('obi-ts running'), 15_000);
      // the launcher caps V8's young generation (bin/obi-ts; docs/devdocs/architecture.md, "Memory")
      assert.ok(v8Args(agent.pid!).includes('--max-semi-space-size=8'), v8Args(agent.pid!).join(' '));
      // and gives the old generation a 64 MB starting limit (the same section)
      assert.ok(v8Args(agent.pid!).includes('--initial-old-space-size=64'), v8Args(agent.pid!).join(' '));
      // and sets glibc malloc's arena count, nothing else (bin/obi-ts)
      assert.match(readFileSync(`/proc/${agent.pid}/environ`, 'latin1'), /(^|\0)GLIBC_TUNABLES=glibc\.malloc\.arena_max=2\0/);
      assert.match(err, /msg="kernel features" kernel=\S+ btf=true/);
      assert.match(err, /msg="BPF programs attached" programs=27 /);
      assert.match(err, new RegExp(`msg="instrumenting process" pid=${srv.pid} service=python3`));
      for (let i = 0; i < 3; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
      await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/no/such/file`]);
      await waitFor('4 span lines', () => out.trim().split('\n').filter(Boolean).length >= 4);
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 4);
      assert.equal(lines.filter((l) => / HTTP 200 GET \/ route=\/ /.test(l)).length, 3);
      assert.equal(lines.filter((l) => / HTTP 404 GET \/no\/such\/file route=\/no\/such\/file /.test(l)).length, 1);
      const metrics = await (await fetch(`http://127.0.0.1:${prom}/metrics`)).text();
      assert.match(metrics, new RegExp(`http_server_request_duration_seconds_count\\{[^}]*http_response_status_code="200",http_route="/"[^}]*server_port="${port}"[^}]*\\} 3\\n`));
      assert.match(metrics, /obi_ebpf_events_dropped_total 0\n/);
      agent.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.match(err, /msg=stopped events=\d+ spans=4 kernel_dropped=0/);
    } finally {
      if (running !== undefined && running.exitCode === null) running.kill('SIGKILL'); // a failed assertion leaves it running
      await srv.kill();
    }
  });

  test('a semi-space size in NODE_OPTIONS, and GLIBC_TUNABLES, replace the launcher\'s; the old generation\'s starting limit stays', async () => {
    const port = await freePort();
    const prom = await freePort();
    const agent = spawn(bin, [], {
      env: { PATH: process.env.PATH!, NODE_OPTIONS: '--max-semi-space-size=4', GLIBC_TUNABLES: 'glibc.malloc.arena_max=4', OTEL_EBPF_OPEN_PORT: String(port), OTEL_EBPF_TRACE_PRINTER: 'counter', OTEL_EBPF_PROMETHEUS_PORT: String(prom) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    agent.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
    try {
      await waitFor('agent ready', () => err.includes('obi-ts running'), 15_000);
      const args = v8Args(agent.pid!);
      assert.ok(args[0].endsWith('/node'), args.join(' '));
      assert.equal(args.filter((a) => a.startsWith('--max-semi-space-size')).length, 0, args.join(' '));
      // Node refuses --initial-old-space-size in NODE_OPTIONS: the launcher always passes it
      assert.equal(args.filter((a) => a === '--initial-old-space-size=64').length, 1, args.join(' '));
      const environ = readFileSync(`/proc/${agent.pid}/environ`, 'latin1');
      assert.match(environ, /(^|\0)NODE_OPTIONS=--max-semi-space-size=4\0/);
      assert.match(environ, /(^|\0)GLIBC_TUNABLES=glibc\.malloc\.arena_max=4\0/);
    } finally {
      agent.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});
