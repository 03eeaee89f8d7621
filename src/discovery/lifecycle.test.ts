import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessLifecycle, type TrackedProcess } from './lifecycle.ts';

/** a lifecycle over an empty /proc (every process has exited already), recording filter writes */
function setup(procRoot: string) {
  const writes: string[] = [];
  const forgotten: number[] = [];
  const lc = new ProcessLifecycle({
    include: [{ exePath: '*/curl' }, { openPorts: [{ start: 8080, end: 8080 }] }],
    selfPid: 1,
    hostName: 'h',
    procRoot,
    filter: { allow: (pid) => void writes.push(`allow ${pid}`), block: (pid) => void writes.push(`block ${pid}`) },
    onForgotten: (p: TrackedProcess) => void forgotten.push(p.pid),
  });
  return { lc, writes, forgotten };
}

test('lifecycle: a fork is never written back into the kernel filter (the kernel traced it, and removes it at its exit)', () => {
  const root = mkdtempSync(join(tmpdir(), 'obi-lc-'));
  try {
    const { lc, writes } = setup(root);
    // admitted at exec, gone before /proc is read: selected from what the exec event said
    lc.onExec(100, { admitted: true, path: '/usr/bin/curl', ppid: 1 });
    assert.ok(lc.tracked.has(100));
    lc.onFork(101, 100); // a child that has exited already (its exit event follows)
    assert.ok(lc.tracked.has(101));
    lc.onExit(101);
    lc.onExit(100);
    assert.deepEqual(writes, [], 'no filter write: the kernel admitted both and removed both');
    assert.equal(lc.tracked.size, 0);
    assert.equal(lc.allowedCount, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lifecycle: a selection written by user space for a process that has exited is undone at once', () => {
  const root = mkdtempSync(join(tmpdir(), 'obi-lc-'));
  try {
    const { lc, writes } = setup(root);
    // a zombie: /proc still lists it, its exit has been reported
    mkdirSync(join(root, '200', 'task', '200'), { recursive: true });
    writeFileSync(join(root, '200', 'stat'), '200 (curl) Z 1 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n');
    writeFileSync(join(root, '200', 'cmdline'), '/usr/bin/curl\0');
    symlinkSync('/usr/bin/curl', join(root, '200', 'exe'));
    lc.onExec(200, { admitted: false, path: '/usr/bin/curl', ppid: 1 }); // selected from user space
    assert.equal(lc.tracked.has(200), false);
    assert.equal(lc.lateSelections, 1);
    assert.deepEqual(writes.slice(-2), ['allow 200', 'block 200']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lifecycle: identities of exited processes are kept for late records, bounded', () => {
  const root = mkdtempSync(join(tmpdir(), 'obi-lc-'));
  try {
    const { lc, forgotten } = setup(root);
    for (let pid = 1000; pid < 1000 + 1030; pid++) {
      lc.onExec(pid, { admitted: true, path: '/usr/bin/curl', ppid: 1 });
      lc.onExit(pid);
    }
    assert.equal(lc.tracked.size, 0);
    assert.equal(lc.identify(2029)?.name, 'curl', 'the last exited process still resolves');
    assert.equal(lc.exitedCount, 1024);
    assert.deepEqual(forgotten, [1000, 1001, 1002, 1003, 1004, 1005]);
    assert.equal(lc.identify(1000), undefined);
    // a new process under a kept pid: the old identity is gone, not forgotten (its series are the new one's)
    lc.onExec(2029, { admitted: false, path: '/usr/bin/wget', ppid: 1 });
    assert.equal(lc.identify(2029), undefined);
    assert.equal(lc.exitedCount, 1023);
    assert.equal(forgotten.length, 6);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lifecycle: a process admitted at exec and gone before /proc is read is matched on cmd_args from the argv the kernel read', () => {
  const root = mkdtempSync(join(tmpdir(), 'obi-lc-'));
  try {
    const lc = new ProcessLifecycle({
      include: [{ languages: 'python', cmdArgs: '*client.py*' }],
      selfPid: 1,
      hostName: 'h',
      procRoot: root,
      filter: { allow: () => undefined, block: () => undefined },
    });
    const argv = (...a: string[]): Buffer => Buffer.from(a.join('\0') + '\0');
    lc.onExec(300, { admitted: true, path: '/usr/bin/python3', ppid: 1, args: argv('python3', '/tmp/x/client.py', 'http://127.0.0.1:1/p') });
    assert.ok(lc.tracked.has(300), 'selected: its argv matches cmd_args');
    assert.deepEqual(lc.tracked.get(300)!.info.cmdline, ['python3', '/tmp/x/client.py', 'http://127.0.0.1:1/p']);
    lc.onExec(301, { admitted: true, path: '/usr/bin/python3', ppid: 1, args: argv('python3', '/tmp/x/other.py') });
    assert.ok(!lc.tracked.has(301), 'not selected: another script');
    assert.ok(lc.wasRevoked(301));
    lc.onExec(302, { admitted: true, path: '/usr/bin/python3', ppid: 1 });
    assert.ok(!lc.tracked.has(302), 'no argv: the path alone does not match cmd_args');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
