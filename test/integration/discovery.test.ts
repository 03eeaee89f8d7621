/**
 * Discovery against the real /proc: starts a Python and a Node HTTP server, then checks that
 * scanAll() finds them with their exact ports, executables, languages and service names.
 * Needs python3 on PATH (skips naming it otherwise); no BPF and no root needed, as the servers
 * are the test's own children.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { hostname } from 'node:os';
import { after, before, test } from 'node:test';
import { LanguageDetector } from '../../src/discovery/language.ts';
import { Matcher } from '../../src/discovery/match.ts';
import { readNetNs, readProcess, scanAll } from '../../src/discovery/procfs.ts';
import { serviceIdentity } from '../../src/discovery/service.ts';
import type { Selector } from '../../src/common/selector.ts';
import type { ProcessInfo } from '../../src/discovery/types.ts';

const PY_SERVICE = 'obi-ts-discovery-py';

function python(): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, child: ChildProcess, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server for port ${port} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pyExe = python();
const children: ChildProcess[] = [];
let pyPort = 0;
let nodePort = 0;
let py: ChildProcess;
let nd: ChildProcess;
let spawnedAt = 0;
const nodeScript = (port: number): string => `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;

before(async () => {
  assert.ok(pyExe, 'python3 (installed by scripts/install-deps.sh --test)');
  pyPort = await freePort();
  nodePort = await freePort();
  const baseEnv = { ...process.env };
  delete baseEnv.OTEL_SERVICE_NAME;
  delete baseEnv.OTEL_RESOURCE_ATTRIBUTES;
  spawnedAt = Date.now();
  py = spawn(pyExe, ['-m', 'http.server', String(pyPort), '--bind', '127.0.0.1'], {
    env: { ...baseEnv, OTEL_SERVICE_NAME: PY_SERVICE, OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=integration,deployment.environment=test' },
    stdio: 'ignore',
  });
  nd = spawn(process.execPath, ['-e', nodeScript(nodePort)], { env: baseEnv, stdio: 'ignore' });
  children.push(py, nd);
  await Promise.all([waitListening(pyPort, py), waitListening(nodePort, nd)]);
});

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

test('scanAll finds the python and node servers with exact facts', () => {
  const all = scanAll({ languageDetector: new LanguageDetector() });
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const pyInfo = byPid.get(py.pid!);
  const ndInfo = byPid.get(nd.pid!);
  assert.ok(pyInfo, 'python server not found');
  assert.ok(ndInfo, 'node server not found');

  assert.equal(pyInfo.exePath, pyExe);
  assert.deepEqual(pyInfo.listenPorts, [pyPort]);
  assert.equal(pyInfo.language, 'python');
  assert.equal(pyInfo.ppid, process.pid);
  assert.deepEqual(pyInfo.cmdline, [pyExe, '-m', 'http.server', String(pyPort), '--bind', '127.0.0.1']);
  assert.ok(Math.abs(pyInfo.startTimeMs - spawnedAt) < 2000, `start ${pyInfo.startTimeMs} vs spawn ${spawnedAt}`);

  assert.equal(ndInfo.exePath, realpathSync(process.execPath));
  assert.deepEqual(ndInfo.listenPorts, [nodePort]);
  assert.equal(ndInfo.language, 'nodejs');
  assert.equal(ndInfo.ppid, process.pid);
  assert.deepEqual(ndInfo.cmdline, [process.execPath, '-e', nodeScript(nodePort)]);
  assert.equal(ndInfo.netNs, readNetNs('self'));

  // this test runner itself has no listening socket
  assert.deepEqual(byPid.get(process.pid)?.listenPorts, []);
  // no kernel threads
  assert.equal(all.some((p: ProcessInfo) => p.exePath === ''), false);

  // readProcess agrees with the scan
  assert.deepEqual(readProcess(py.pid!), pyInfo);
});

test('open_port selection and service identity', () => {
  const sel: Selector = { openPorts: [{ start: pyPort, end: pyPort }, { start: nodePort, end: nodePort }] };
  const m = new Matcher({ include: [sel], selfPid: process.pid });
  const selected = scanAll().filter((p) => m.match(p) === sel);
  assert.deepEqual(selected.map((p) => p.pid).sort((a, b) => a - b), [py.pid!, nd.pid!].sort((a, b) => a - b));

  const host = hostname();
  const pyInfo = selected.find((p) => p.pid === py.pid)!;
  const ndInfo = selected.find((p) => p.pid === nd.pid)!;
  assert.deepEqual(serviceIdentity(pyInfo, sel, host), {
    name: PY_SERVICE,
    namespace: 'integration',
    instanceId: `${host}:${py.pid}`,
    pid: py.pid,
    exePath: pyExe,
    language: 'python',
  });
  assert.deepEqual(serviceIdentity(ndInfo, sel, host), {
    name: 'node',
    namespace: '',
    instanceId: `${host}:${nd.pid}`,
    pid: nd.pid,
    exePath: realpathSync(process.execPath),
    language: 'nodejs',
  });
  assert.equal(serviceIdentity(pyInfo, { ...sel, name: 'override' }, host).name, 'override');

  // language and exe selectors reach them too
  assert.equal(new Matcher({ include: [{ languages: 'python', openPorts: sel.openPorts }] }).match(pyInfo)?.languages, 'python');
  assert.equal(new Matcher({ include: [{ exePath: '*/node' }] }).match(ndInfo)?.exePath, '*/node');
});

test('scanAll timing', (t) => {
  const cold: number[] = [];
  const warm: number[] = [];
  let n = 0;
  for (let i = 0; i < 5; i++) {
    const det = new LanguageDetector();
    let t0 = performance.now();
    n = scanAll({ languageDetector: det }).length;
    cold.push(performance.now() - t0);
    t0 = performance.now();
    scanAll({ languageDetector: det });
    warm.push(performance.now() - t0);
  }
  const median = (a: number[]): number => a.sort((x, y) => x - y)[a.length >> 1];
  t.diagnostic(`scanAll over ${n} user processes: cold (empty language cache) median ${median(cold).toFixed(2)} ms, warm median ${median(warm).toFixed(2)} ms`);
  assert.ok(n >= 3);
});
