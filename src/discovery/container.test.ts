import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerFromCgroupFile, containerFromCgroupPath, readContainer } from './container.ts';

const ID = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
const ID2 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const UID = '8f3c1a2b-4d5e-46f7-8a9b-0c1d2e3f4a5b';

test('cgroup paths of every runtime and driver', () => {
  const cases: [string, object | undefined][] = [
    [`/docker/${ID}`, { containerId: ID, runtime: 'docker' }],
    [`/system.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker' }],
    [`/kubepods/besteffort/pod${UID}/${ID}`, { containerId: ID, runtime: 'containerd', podUid: UID }],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${ID}.scope`, { containerId: ID, runtime: 'containerd', podUid: UID }],
    [`/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-${ID}.scope`, { containerId: ID, runtime: 'cri-o', podUid: UID }],
    [`/kubepods/burstable/pod${UID}/crio-${ID}`, { containerId: ID, runtime: 'cri-o', podUid: UID }],
    [`/machine.slice/libpod-${ID}.scope`, { containerId: ID, runtime: 'podman' }],
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, { containerId: ID, runtime: 'podman' }],
    [`/libpod_parent/libpod-${ID}`, { containerId: ID, runtime: 'podman' }],
    [`/libpod_parent/${ID}`, { containerId: ID, runtime: 'podman' }],
    // Docker in Docker: the innermost container
    [`/docker/${ID2}/docker/${ID}`, { containerId: ID, runtime: 'docker' }],
    // cgroup namespace of another container: relative path
    [`/../../system.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker' }],
    ['/', undefined],
    ['/user.slice/user-1000.slice/session-3.scope', undefined],
    ['/system.slice/nginx.service', undefined],
    [`/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-conmon-${ID}.scope`, undefined],
    [`/docker/${ID.slice(1)}`, undefined],
  ];
  for (const [path, want] of cases) assert.deepEqual(containerFromCgroupPath(path), want, path);
});

test('/proc/PID/cgroup: v2 line, v1 hybrid with the systemd line first, no container', () => {
  assert.deepEqual(containerFromCgroupFile(`0::/system.slice/docker-${ID}.scope\n`), { containerId: ID, runtime: 'docker' });
  const v1 = ['12:memory:/process_api/abc', `11:pids:/docker/${ID}`, `1:name=systemd:/docker/${ID}`, `0::/docker/${ID}`, ''].join('\n');
  assert.deepEqual(containerFromCgroupFile(v1), { containerId: ID, runtime: 'docker' });
  // only a controller line says it (cgroupns private on v2 shows 0::/ inside)
  assert.deepEqual(containerFromCgroupFile(`4:memory:/docker/${ID}\n0::/\n`), { containerId: ID, runtime: 'docker' });
  assert.equal(containerFromCgroupFile('0::/\n'), undefined);
  assert.equal(containerFromCgroupFile(''), undefined);
  assert.equal(containerFromCgroupFile('garbage'), undefined);
});

test('readContainer reads procRoot/PID/cgroup; a gone process is undefined', () => {
  const root = mkdtempSync(join(tmpdir(), 'obi-cg-'));
  mkdirSync(join(root, '42'));
  writeFileSync(join(root, '42', 'cgroup'), `0::/kubepods/besteffort/pod${UID}/${ID}\n`);
  assert.deepEqual(readContainer(42, root), { containerId: ID, runtime: 'containerd', podUid: UID });
  assert.equal(readContainer(43, root), undefined);
  // this test process on the host
  assert.equal(typeof (readContainer(process.pid) ?? {}), 'object');
});
