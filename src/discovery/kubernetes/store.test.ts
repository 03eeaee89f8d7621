import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeStore, type OwnedLike, type PodLike } from './store.ts';

// the recorded API objects the integration test serves
const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/fixtures/kubernetes/objects.json'), 'utf8')) as { objects: (PodLike & OwnedLike & { kind: string })[]; late: PodLike };
const byKind = (k: string) => fx.objects.filter((o) => o.kind === k);

function store(): KubeStore {
  const s = new KubeStore('c1');
  for (const p of byKind('Pod')) s.setPod(p);
  for (const r of byKind('ReplicaSet')) s.setReplicaSet(r);
  for (const j of byKind('Job')) s.setJob(j);
  return s;
}

test('ReplicaSet → Deployment, labels, container by id, start time, cluster', () => {
  const m = store().lookup('5f0c2a4e-8b1d-4c3e-9a7f-1e2d3c4b5a61', 'a1'.repeat(32));
  assert.deepEqual(m, {
    namespace: 'shop',
    podName: 'checkout-7d9f8b6c5d-x2x9k',
    podUid: '5f0c2a4e-8b1d-4c3e-9a7f-1e2d3c4b5a61',
    nodeName: 'node-a',
    ownerKind: 'Deployment',
    ownerName: 'checkout',
    owners: { ReplicaSet: 'checkout-7d9f8b6c5d', Deployment: 'checkout' },
    labels: { 'app.kubernetes.io/name': 'checkout-api', 'app.kubernetes.io/part-of': 'shop-suite', 'app.kubernetes.io/version': '1.4.2', 'pod-template-hash': '7d9f8b6c5d' },
    annotations: {},
    podStartTime: '2026-12-01T10:00:00Z',
    containerName: 'api',
    clusterName: 'c1',
  });
  // the other container of the same pod; an unknown container id leaves the name out
  assert.equal(store().lookup('5f0c2a4e-8b1d-4c3e-9a7f-1e2d3c4b5a61', 'e'.repeat(64))?.containerName, 'envoy');
  assert.equal(store().lookup('5f0c2a4e-8b1d-4c3e-9a7f-1e2d3c4b5a61', '0'.repeat(64))?.containerName, undefined);
});

test('Job → CronJob; StatefulSet direct; unknown pod; delete', () => {
  const s = store();
  const job = s.lookup('7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c02', 'b2'.repeat(32))!;
  assert.deepEqual([job.ownerKind, job.ownerName, job.owners], ['CronJob', 'report', { Job: 'report-28950720', CronJob: 'report' }]);
  const sts = s.lookup('6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d05', 'f'.repeat(64))!;
  assert.deepEqual([sts.ownerKind, sts.ownerName, sts.owners], ['StatefulSet', 'elsewhere', { StatefulSet: 'elsewhere' }]);
  assert.equal(s.lookup('00000000-0000-4000-8000-000000000000', 'a'.repeat(64)), undefined);
  s.deletePod(byKind('Pod')[0]);
  assert.equal(s.lookup('5f0c2a4e-8b1d-4c3e-9a7f-1e2d3c4b5a61', 'a1'.repeat(32)), undefined);
  // the Job gone: the pod's owner is the Job itself
  s.deleteJob(byKind('Job')[0]);
  assert.deepEqual(s.lookup('7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c02', 'b2'.repeat(32))!.ownerKind, 'Job');
});

test('ReplicaSet unknown: the Deployment from the pod-template-hash suffix; a bare pod owns itself', () => {
  const s = new KubeStore();
  s.setPod(fx.late);
  const m = s.lookup('1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c04', 'd4'.repeat(32))!;
  assert.deepEqual([m.ownerKind, m.ownerName, m.owners], ['Deployment', 'late', { ReplicaSet: 'late-6c8d9e7f5b', Deployment: 'late' }]);
  assert.equal(m.clusterName, undefined);
  s.setPod({ metadata: { name: 'bare', namespace: 'default', uid: 'u-bare' }, spec: { nodeName: 'n' } });
  const bare = s.lookup('u-bare', 'x')!;
  assert.deepEqual([bare.ownerKind, bare.ownerName, bare.owners, bare.podStartTime], ['Pod', 'bare', {}, undefined]);
});
