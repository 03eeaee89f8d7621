import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentError } from '../errors.ts';
import { DEFAULT_EXCLUDED_SYSTEM_PATHS, DEFAULT_EXCLUDE_INSTRUMENT, Matcher } from './match.ts';
import type { ProcessInfo } from './types.ts';
import type { Selector } from '../common/selector.ts';

function proc(p: Partial<ProcessInfo> & { pid: number }): ProcessInfo {
  return {
    ppid: 1,
    exePath: '/usr/bin/app',
    cmdline: ['app'],
    listenPorts: [],
    startTimeMs: 0,
    language: 'generic',
    netNs: 1,
    ...p,
  };
}

const py = proc({ pid: 10, exePath: '/usr/bin/python3.12', cmdline: ['python3', '-m', 'http.server', '8000'], listenPorts: [8000], language: 'python' });
const node = proc({ pid: 11, exePath: '/opt/node/bin/node', cmdline: ['node', 'server.js', '--port=3000'], listenPorts: [3000, 9229], language: 'nodejs' });
const go = proc({ pid: 12, exePath: '/srv/checkout', cmdline: ['/srv/checkout'], listenPorts: [8080], language: 'go', netNs: 2 });
const nginx = proc({ pid: 13, exePath: '/usr/sbin/nginx', cmdline: ['nginx: master process /usr/sbin/nginx'], listenPorts: [80, 443] });
const sshd = proc({ pid: 14, exePath: '/usr/sbin/sshd', cmdline: ['sshd: /usr/sbin/sshd -D'], listenPorts: [22] });
const collector = proc({ pid: 15, exePath: '/otelcol-contrib', listenPorts: [4317, 4318] });
const kthread = proc({ pid: 2, exePath: '', listenPorts: [] });

test('defaults are OBI’s', () => {
  assert.deepEqual(DEFAULT_EXCLUDED_SYSTEM_PATHS, ['/lib/systemd/', '/usr/lib/systemd/', '/usr/libexec/', '/sbin/', '/usr/sbin/']);
  assert.deepEqual(DEFAULT_EXCLUDE_INSTRUMENT, [{ exePath: '{*/obi,obi,*otelcol,*otelcol-contrib,*otelcol-contrib[!/]*}' }]);
});

test('open ports: any listen port in any range', () => {
  const sel: Selector = { openPorts: [{ start: 80, end: 80 }, { start: 3000, end: 3999 }] };
  const m = new Matcher({ include: [sel] });
  assert.equal(m.match(node), sel);
  assert.equal(m.match(py), undefined);
  assert.equal(m.match(go), undefined);
});

test('fields inside a selector are ANDed; first matching selector wins', () => {
  const a: Selector = { name: 'a', exePath: '*python*', openPorts: [{ start: 9000, end: 9000 }] };
  const b: Selector = { name: 'b', languages: '{python,nodejs}' };
  const c: Selector = { name: 'c', exePath: '*python*' };
  const m = new Matcher({ include: [a, b, c] });
  assert.equal(m.match(py), b);
  assert.equal(m.match(node), b);
  assert.equal(m.match(go), undefined);
});

test('cmd_args glob on argv joined by spaces', () => {
  const sel: Selector = { cmdArgs: '*http.server 8000' };
  const m = new Matcher({ include: [sel] });
  assert.equal(m.match(py), sel);
  assert.equal(m.match(node), undefined);
  const m2 = new Matcher({ include: [{ cmdArgs: '*--port=3???' }] });
  assert.equal(m2.match(node)?.cmdArgs, '*--port=3???');
});

test('target pids and the deprecated regexp', () => {
  const pids: Selector = { targetPids: [12, 99] };
  const re: Selector = { exePathRegexp: 'node$' };
  const m = new Matcher({ include: [pids, re] });
  assert.equal(m.match(go), pids);
  assert.equal(m.match(node), re);
  assert.equal(m.match(py), undefined);
  const ci = new Matcher({ include: [{ exePathRegexp: '(?i)/SRV/' }] });
  assert.equal(ci.match(go)?.exePathRegexp, '(?i)/SRV/');
  assert.throws(() => new Matcher({ include: [{ exePathRegexp: '(' }] }), (e: unknown) => AgentError.is(e) && e.code === 'OBI_ERR_CONFIG_INVALID');
  assert.throws(() => new Matcher({ include: [{ exePath: '[' }] }), (e: unknown) => AgentError.is(e) && e.code === 'OBI_ERR_CONFIG_INVALID');
});

test('a selector without local criteria selects nothing', () => {
  const m = new Matcher({ include: [{ name: 'only-a-name' }, { containersOnly: true }, { openPorts: [] }, { targetPids: [] }] });
  for (const p of [py, node, go, nginx]) assert.equal(m.match(p), undefined);
});

test('exclusions: user, default, self, kernel threads', () => {
  const all: Selector = { exePath: '*' };
  const m = new Matcher({ include: [all], exclude: [{ languages: 'python' }], selfPid: 11 });
  assert.equal(m.match(py), undefined); // user exclude
  assert.equal(m.match(node), undefined); // self
  assert.equal(m.match(go), all);
  assert.equal(m.match(collector), undefined); // default exclude
  assert.equal(m.match(kthread), undefined);
  assert.equal(m.isExcluded(py), true);
  assert.equal(m.isExcluded(collector), true);
  assert.equal(m.isExcluded(go), false);
  // default exclusions can be disabled
  const open = new Matcher({ include: [all], defaultExclude: [] });
  assert.equal(open.match(collector), all);
  // an exclude selector without criteria excludes nothing
  assert.equal(new Matcher({ include: [all], exclude: [{ name: 'x' }] }).match(go), all);
});

test('system paths: reachable by port, pid or an exe_path naming the directory', () => {
  const byPort: Selector = { openPorts: [{ start: 80, end: 80 }] };
  assert.equal(new Matcher({ include: [byPort] }).match(nginx), byPort);
  const byPid: Selector = { targetPids: [13] };
  assert.equal(new Matcher({ include: [byPid] }).match(nginx), byPid);
  const explicit: Selector = { exePath: '/usr/sbin/nginx' };
  assert.equal(new Matcher({ include: [explicit] }).match(nginx), explicit);
  const explicitRe: Selector = { exePathRegexp: '^/usr/sbin/ngin' };
  assert.equal(new Matcher({ include: [explicitRe] }).match(nginx), explicitRe);
  // wildcards, cmd_args and languages alone do not reach system paths
  for (const s of [{ exePath: '*' }, { exePath: '*nginx' }, { exePathRegexp: 'nginx' }, { cmdArgs: '*nginx*' }, { languages: 'generic' }] as Selector[]) {
    assert.equal(new Matcher({ include: [s] }).match(nginx), undefined, JSON.stringify(s));
  }
  // the same wildcard still reaches ordinary paths
  assert.equal(new Matcher({ include: [{ exePath: '*' }] }).match(go)?.exePath, '*');
  // a wildcard plus a port is fine
  const both: Selector = { exePath: '*', openPorts: [{ start: 22, end: 22 }] };
  assert.equal(new Matcher({ include: [both] }).match(sshd), both);
  // the list is configurable
  assert.equal(new Matcher({ include: [{ exePath: '*' }], excludedSystemPaths: [] }).match(sshd)?.exePath, '*');
  assert.equal(new Matcher({ include: [{ exePath: '*' }], excludedSystemPaths: ['/srv/'] }).match(go), undefined);
});

test('containers_only: outside the agent network namespace', () => {
  const sel: Selector = { languages: '*', containersOnly: true };
  const m = new Matcher({ include: [sel], selfNetNs: 1 });
  assert.equal(m.match(go), sel); // netns 2
  assert.equal(m.match(py), undefined); // netns 1, like the agent
  assert.equal(m.match(proc({ pid: 50, language: 'go', netNs: undefined })), sel);
  // agent's namespace unknown: everything counts as containerised (OBI without host pid access)
  assert.equal(new Matcher({ include: [sel] }).match(py), sel);
});

test('metadata selectors: k8s globs and label maps need the metadata; they reach system paths', () => {
  const k8s = {
    namespace: 'shop', podName: 'api-5d-x', podUid: 'u1', nodeName: 'n1', ownerKind: 'Deployment', ownerName: 'api',
    owners: { ReplicaSet: 'api-5d', Deployment: 'api' }, labels: { tier: 'web' }, annotations: { team: 'core' }, containerName: 'main',
  };
  const base = { pid: 7, ppid: 1, exePath: '/usr/sbin/nginx', cmdline: ['nginx'], listenPorts: [80], startTimeMs: 0, language: 'cpp' };
  const inPod = { ...base, metadata: { attributes: {}, k8s, containerId: 'c'.repeat(64) } };
  const docker = { ...base, metadata: { attributes: {}, containerName: 'web-1' } };
  const m = (metadata: object) => new Matcher({ include: [{ metadata }], defaultExclude: [] });
  assert.ok(m({ k8s_namespace: 'sh*' }).match(inPod));
  assert.equal(m({ k8s_namespace: 'sh*' }).match(base), undefined);
  assert.ok(m({ k8s_deployment_name: 'api', k8s_container_name: 'main' }).match(inPod));
  assert.equal(m({ k8s_deployment_name: 'api', k8s_container_name: 'side' }).match(inPod), undefined);
  assert.equal(m({ k8s_statefulset_name: '*' }).match(inPod), undefined);
  assert.ok(m({ k8s_pod_labels: { tier: 'w*' }, k8s_pod_annotations: { team: 'core' } }).match(inPod));
  assert.equal(m({ k8s_pod_labels: { tier: 'db' } }).match(inPod), undefined);
  assert.equal(m({ k8s_pod_labels: { missing: '*' } }).match(inPod), undefined);
  assert.ok(m({ container_name: 'web-*' }).match(docker));
  assert.ok(m({ container_name: 'main' }).match(inPod));
  assert.equal(m({ container_name: 'web-*' }).match(base), undefined);
  // with a process criterion: both must hold
  const both = new Matcher({ include: [{ openPorts: [{ start: 81, end: 81 }], metadata: { k8s_namespace: 'shop' } }], defaultExclude: [] });
  assert.equal(both.match(inPod), undefined);
  // as an exclude (OBI's system namespaces)
  const ex = new Matcher({ include: [{ openPorts: [{ start: 80, end: 80 }] }], defaultExclude: [{ metadata: { k8s_namespace: '{kube-system,shop}' } }] });
  assert.equal(ex.match(inPod), undefined);
  assert.ok(ex.match(base));
});
