/**
 * `make install` as a user runs it, into a temporary root (DESTDIR): the installed tree
 * (/opt/obi-ts: launcher, compiled JavaScript, BPF object, addon, its own Node, production
 * dependencies only) runs the real agent against a real server, and `systemd-analyze verify`
 * (systemd 252, Debian) accepts the installed unit with no warning: every key known, every value
 * parsed, the ExecStart binary present in that root. The unit is not started (PID 1 here is
 * not systemd).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, startProcess, waitFor, waitForPort } from '../helpers/harness.ts';

const repo = join(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'obi-install-'));
const prefix = join(root, 'opt/obi-ts');
const unit = join(root, 'etc/systemd/system/obi-ts.service');

function runAll(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('make install + systemd unit', () => {
  before(async () => {
    await run(join(repo, 'scripts/install.sh'), [], { env: { ...process.env, DESTDIR: root, NODE: process.execPath } });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the tree under /opt/obi-ts: launcher, compiled agent, BPF object, addon, Node, production dependencies only', () => {
    for (const f of ['bin/obi-ts', 'build/js/src/cli/main.js', 'build/bpf/obi.bpf.o', 'build/native/obi_native.node', '.tools/node/bin/node', 'node_modules/prom-client/package.json']) {
      assert.ok(existsSync(join(prefix, f)), f);
    }
    assert.equal(statSync(join(prefix, 'bin/obi-ts')).mode & 0o111, 0o111);
    // devDependencies pruned, no sources
    for (const f of ['node_modules/typescript', 'node_modules/fast-check', 'node_modules/pg', 'src', 'test']) assert.equal(existsSync(join(prefix, f)), false, f);
    assert.equal(readFileSync(join(root, 'etc/obi-ts/obi-ts.yaml'), 'utf8'), readFileSync(join(repo, 'deploy/default.yaml'), 'utf8'));
  });

  test('systemd-analyze verify: the installed unit, no warning', async () => {
    // the root needs the system's own units (multi-user.target, network-online.target, ...)
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    const ok = await runAll('systemd-analyze', [`--root=${root}`, 'verify', 'obi-ts.service']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr.trim(), '');
    const text = readFileSync(unit, 'utf8');
    assert.match(text, /^ExecStart=\/opt\/obi-ts\/bin\/obi-ts --config \/etc\/obi-ts\/obi-ts\.yaml$/m);
    assert.match(text, /^ProtectSystem=strict$/m);
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_SYS_RESOURCE CAP_CHECKPOINT_RESTORE$/m);
    // and it does fail: without the installed launcher the unit does not verify
    const bin = join(prefix, 'bin/obi-ts');
    rmSync(join(root, 'bin-aside'), { force: true });
    cpSync(bin, join(root, 'bin-aside'));
    rmSync(bin);
    const missing = await runAll('systemd-analyze', [`--root=${root}`, 'verify', 'obi-ts.service']);
    cpSync(join(root, 'bin-aside'), bin);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Command \/opt\/obi-ts\/bin\/obi-ts is not executable/);
  });

  test('the installed agent runs: --version, and a real server traced (3 requests → 3 span lines)', async () => {
    const bin = join(prefix, 'bin/obi-ts');
    const v = await runAll(bin, ['--version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /0\.1\.0/);
    const port = await freePort();
    const srv = startProcess('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1']);
    try {
      await waitForPort(port);
      const agent = spawn(bin, [], {
        env: { PATH: '/usr/bin:/bin', OTEL_EBPF_OPEN_PORT: String(port), OTEL_EBPF_TRACE_PRINTER: 'text' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      agent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      agent.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
      await waitFor('agent ready', () => err.includes('obi-ts running') || agent.exitCode !== null, 20_000);
      assert.match(err, new RegExp(`msg="instrumenting process" pid=${srv.pid} service=python3`), err);
      for (let i = 0; i < 3; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
      await waitFor('3 span lines', () => out.trim().split('\n').filter(Boolean).length >= 3);
      agent.kill('SIGINT');
      assert.equal(await exited, 0);
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines.filter((l) => / HTTP 200 GET \/ route=\/ /.test(l)).length, 3);
      // it ran the compiled JavaScript of the installed tree with the installed Node
      assert.match(err, /msg=stopped events=\d+ spans=3 /);
    } finally {
      await srv.kill();
    }
  });
});
