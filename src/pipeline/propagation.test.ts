import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObiPropCtl, ObiPropMode } from '../abi/events.ts';
import { Propagation, cgroupDirOf, modeLabel, planPropagation, propModeFor } from './propagation.ts';
import type { SelfTestOutcome } from './propagation-selftest.ts';

test('plan: tcp by default; headers, all and lists as OBI reads them; disabled runs nothing', () => {
  assert.deepEqual(planPropagation(undefined), { requested: 'tcp', tcp: true, headers: false });
  assert.deepEqual(planPropagation('disabled'), { requested: 'disabled', tcp: false, headers: false });
  assert.deepEqual(planPropagation('headers'), { requested: 'headers', tcp: false, headers: true });
  assert.deepEqual(planPropagation('http'), { requested: 'http', tcp: false, headers: true });
  assert.deepEqual(planPropagation('all'), { requested: 'all', tcp: true, headers: true });
  assert.deepEqual(planPropagation('headers,tcp'), { requested: 'headers,tcp', tcp: true, headers: true });
  assert.equal(planPropagation('ip').tcp, false);
  assert.equal(modeLabel(true, true), 'headers,tcp');
  assert.equal(modeLabel(false, true), 'headers');
  assert.equal(modeLabel(true, false), 'tcp');
  assert.equal(modeLabel(false, false), 'disabled');
});

test('kernel rule per process follows its correlation policy; Node.js sends no ids', () => {
  const p = (exePath: string, language: string) => ({ info: { exePath, language } }) as Parameters<typeof propModeFor>[0];
  assert.equal(propModeFor(p('/usr/bin/python3', 'python')), ObiPropMode.OBI_PROP_THREAD);
  assert.equal(propModeFor(p('/usr/sbin/nginx', 'unknown')), ObiPropMode.OBI_PROP_EVENT);
  assert.equal(propModeFor(p('/srv/app', 'go')), ObiPropMode.OBI_PROP_ROOT);
  assert.equal(propModeFor(p('/usr/bin/node', 'nodejs')), ObiPropMode.OBI_PROP_OFF);
  assert.equal(propModeFor(p('/usr/bin/node', 'nodejs'), true), ObiPropMode.OBI_PROP_IDLE, 'with headers: ids while it serves no request');
  assert.equal(propModeFor(p('/usr/bin/python3', 'python'), true), ObiPropMode.OBI_PROP_THREAD);
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
      setPropControl: () => {},
      tracePid: () => {},
      propagation: { written: 0, read: 0, used: 0 },
      injection: { injected: 0, present: 0, boundary: 0, tls: 0, other: 0, evicted: 0, h2: 0, h2Lost: 0 },
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

function headersProp(outcome: SelfTestOutcome, requested = 'headers') {
  const warns: Record<string, unknown>[] = [];
  const infos: Record<string, unknown>[] = [];
  const ctl: number[] = [];
  const log = { debug: () => {}, info: (_m: string, f?: Record<string, unknown>) => void infos.push(f ?? {}), warn: (_m: string, f?: Record<string, unknown>) => void warns.push(f ?? {}), error: () => {} };
  const prop = new Propagation({
    plan: planPropagation(requested),
    cgroupRoot: '/cg',
    log: log as never,
    kernel: {
      setPropMode: () => {},
      setPropControl: (b) => void ctl.push(b),
      tracePid: () => {},
      propagation: { written: 0, read: 0, used: 0 },
      injection: { injected: 0, present: 0, boundary: 0, tls: 0, other: 0, evicted: 0, h2: 0, h2Lost: 0 },
      bpf: { attachCgroup: () => 0, detach: () => {} },
    },
    selfTest: async () => outcome,
  });
  return { prop, warns, infos, ctl };
}

test('headers: a passed self-test turns injection on (and the option only where tcp was asked for too)', async () => {
  const { prop, warns, infos, ctl } = headersProp({ ok: true, failed: [] });
  await prop.start();
  assert.deepEqual(ctl, [ObiPropCtl.OBI_CTL_INJECT, ObiPropCtl.OBI_CTL_INJECT]);
  assert.equal(prop.active, 'headers');
  prop.report();
  assert.equal(warns.length, 0);
  assert.equal(infos[0].mode, 'headers');
  const all = headersProp({ ok: true, failed: [] }, 'all');
  await all.prop.start();
  assert.deepEqual(all.ctl, [ObiPropCtl.OBI_CTL_OPTION, 3, 3], 'the option from the start, injection after the self-test');
  assert.equal(all.prop.active, 'headers,tcp');
});

test('headers: a failed self-test falls back to the TCP option, with its stable code and the checks that failed', async () => {
  const { prop, warns, infos, ctl } = headersProp({ ok: false, failed: ['FIONREAD returned 0 for 100 bytes received'] });
  await prop.start();
  assert.deepEqual(ctl, [ObiPropCtl.OBI_CTL_INJECT, ObiPropCtl.OBI_CTL_OPTION]);
  assert.equal(prop.active, 'tcp');
  prop.report();
  assert.equal(warns.length, 1);
  assert.equal(warns[0].code, 'OBI_ERR_PROPAGATION_SELFTEST');
  assert.match(String(warns[0].failed), /FIONREAD returned 0/);
  assert.equal(infos[0].mode, 'tcp');
});
