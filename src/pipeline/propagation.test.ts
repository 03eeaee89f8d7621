import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObiPropMode } from '../abi/events.ts';
import { Propagation, cgroupDirOf, planPropagation, propModeFor } from './propagation.ts';

test('plan: tcp by default; header injection asked for runs tcp and is reported; disabled runs nothing', () => {
  assert.deepEqual(planPropagation(undefined), { requested: 'tcp', tcp: true, headersAsked: false, active: 'tcp' });
  assert.deepEqual(planPropagation('disabled'), { requested: 'disabled', tcp: false, headersAsked: false, active: 'disabled' });
  for (const v of ['headers', 'http', 'all', 'headers,tcp']) {
    const p = planPropagation(v);
    assert.equal(p.tcp, true, v);
    assert.equal(p.headersAsked, true, v);
    assert.equal(p.active, 'tcp', v);
  }
  assert.equal(planPropagation('ip').tcp, false);
});

test('kernel rule per process follows its correlation policy; Node.js sends no ids', () => {
  const p = (exePath: string, language: string) => ({ info: { exePath, language } }) as Parameters<typeof propModeFor>[0];
  assert.equal(propModeFor(p('/usr/bin/python3', 'python')), ObiPropMode.OBI_PROP_THREAD);
  assert.equal(propModeFor(p('/usr/sbin/nginx', 'unknown')), ObiPropMode.OBI_PROP_EVENT);
  assert.equal(propModeFor(p('/srv/app', 'go')), ObiPropMode.OBI_PROP_ROOT);
  assert.equal(propModeFor(p('/usr/bin/node', 'nodejs')), ObiPropMode.OBI_PROP_OFF);
});

test('cgroups: one attachment per directory, none under an attached ancestor, an ancestor replaces its descendants', () => {
  const proc = mkdtempSync(join(tmpdir(), 'obi-prop-'));
  const cg: Record<number, string> = { 1: '/a/b', 2: '/a/b', 3: '/a/b/c', 4: '/a', 5: '/x' };
  for (const [pid, path] of Object.entries(cg)) {
    mkdirSync(join(proc, pid));
    writeFileSync(join(proc, pid, 'cgroup'), `12:cpu:/ignored\n0::${path}\n`);
  }
  assert.equal(cgroupDirOf(3, '/sys/fs/cgroup', proc), '/sys/fs/cgroup/a/b/c');
  const attached: string[] = [];
  const detached: number[] = [];
  const modes = new Map<number, number | undefined>();
  const logs: string[] = [];
  const log = { debug: () => {}, info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(`WARN ${m}`), error: () => {} };
  const prop = new Propagation({
    plan: planPropagation('tcp'),
    cgroupRoot: '/cg',
    procRoot: proc,
    log: log as never,
    kernel: {
      setPropMode: (pid, mode) => void modes.set(pid, mode),
      propagation: { written: 0, read: 0, used: 0 },
      bpf: { attachCgroup: (_p, dir) => attached.push(dir) - 1, detach: (l) => void detached.push(l) },
    },
  });
  for (const pid of [1, 2, 3]) prop.selected({ pid, info: { exePath: '/usr/bin/python3', language: 'python' } as never });
  assert.deepEqual(attached, ['/cg/a/b']);
  prop.selected({ pid: 4, info: { exePath: '/srv/app', language: 'go' } as never });
  prop.selected({ pid: 5, info: { exePath: '/usr/bin/node', language: 'nodejs' } as never });
  assert.deepEqual(attached, ['/cg/a/b', '/cg/a', '/cg/x']);
  assert.deepEqual(detached, [0], "the descendant's link is replaced by the ancestor's");
  assert.deepEqual(prop.cgroups, ['/cg/a', '/cg/x']);
  assert.equal(modes.get(1), ObiPropMode.OBI_PROP_THREAD);
  assert.equal(modes.get(4), ObiPropMode.OBI_PROP_ROOT);
  assert.equal(modes.get(5), ObiPropMode.OBI_PROP_OFF);
  prop.removed(4);
  assert.equal(modes.get(4), undefined);
  prop.report();
  assert.ok(logs.includes('context propagation'));
});

test('start-up report: header injection asked for is a warning with its stable code, never silent', () => {
  const warns: Record<string, unknown>[] = [];
  const log = { debug: () => {}, info: () => {}, warn: (_m: string, f?: Record<string, unknown>) => void warns.push(f ?? {}), error: () => {} };
  const prop = new Propagation({
    plan: planPropagation('headers'),
    cgroupRoot: '/cg',
    log: log as never,
    kernel: { setPropMode: () => {}, propagation: { written: 0, read: 0, used: 0 }, bpf: { attachCgroup: () => 0, detach: () => {} } },
  });
  prop.report();
  assert.equal(warns.length, 1);
  assert.equal(warns[0].code, 'OBI_ERR_PROPAGATION_UNAVAILABLE');
  assert.equal(warns[0].running, 'tcp');
});
