import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMetadata, MetadataResolver } from './metadata.ts';
import { compileServiceNameTemplate } from '../common/template.ts';
import { identityFromEnv } from './service.ts';
import type { KubeMetadata, ProcessInfo } from './types.ts';

const ID = 'ab'.repeat(32);
const proc: ProcessInfo = { pid: 42, ppid: 1, exePath: '/usr/bin/python3.11', cmdline: ['python3'], listenPorts: [8080], startTimeMs: 1000, language: 'python' };
const k8s: KubeMetadata = {
  namespace: 'shop', podName: 'api-5d-x', podUid: 'u1', nodeName: 'n1', ownerKind: 'Deployment', ownerName: 'api',
  owners: { ReplicaSet: 'api-5d', Deployment: 'api' }, labels: { 'app.kubernetes.io/name': 'api-svc' }, annotations: {}, containerName: 'main',
};

test('Docker only: container attributes; the Compose service, else the container name, names the service', () => {
  const m = buildMetadata({ containerId: ID, runtime: 'docker' }, { id: ID, name: 'web-1', image: 'nginx:1.27' }, undefined)!;
  assert.deepEqual(m.attributes, { 'container.id': ID, 'container.name': 'web-1', 'container.image.name': 'nginx:1.27' });
  assert.equal(m.serviceName, 'web-1');
  assert.equal(m.serviceNamespace, undefined);
  assert.equal(buildMetadata({ containerId: ID, runtime: 'docker' }, { id: ID, name: 'shop-web-1', image: 'x', composeService: 'web' }, undefined)!.serviceName, 'web');
  assert.deepEqual(buildMetadata({ containerId: ID, runtime: 'podman' }, undefined, undefined)!.attributes, { 'container.id': ID });
  assert.equal(buildMetadata(undefined, undefined, undefined), undefined);
});

test('Kubernetes: service name from annotation, then resource labels, then owner; namespace from part-of, then pod namespace', () => {
  const cg = { containerId: ID, runtime: 'containerd' as const, podUid: 'u1' };
  assert.equal(buildMetadata(cg, undefined, k8s)!.serviceName, 'api-svc');
  assert.equal(buildMetadata(cg, undefined, k8s)!.serviceNamespace, 'shop');
  assert.equal(buildMetadata(cg, undefined, { ...k8s, labels: {} })!.serviceName, 'api');
  const ann = { ...k8s, annotations: { 'resource.opentelemetry.io/service.name': 'from-ann', 'resource.opentelemetry.io/service.namespace': 'ns-ann' } };
  assert.deepEqual([buildMetadata(cg, undefined, ann)!.serviceName, buildMetadata(cg, undefined, ann)!.serviceNamespace], ['from-ann', 'ns-ann']);
  assert.equal(buildMetadata(cg, undefined, k8s, { 'service.name': ['team'] })!.serviceName, 'api');
  assert.equal(buildMetadata(cg, undefined, { ...k8s, labels: { team: 't1', 'app.kubernetes.io/part-of': 'suite' } }, { 'service.name': ['team'], 'service.namespace': ['app.kubernetes.io/part-of'] })!.serviceName, 't1');
  // a Docker name never names a pod's service
  assert.equal(buildMetadata(cg, { id: ID, name: 'k8s_main_api', image: 'i' }, k8s)!.serviceName, 'api-svc');
});

test('identity: selector and the process environment win over metadata; metadata over the executable name', () => {
  const meta = buildMetadata({ containerId: ID, runtime: 'containerd', podUid: 'u1' }, undefined, k8s)!;
  const p = { ...proc, metadata: meta };
  const id = identityFromEnv(p, undefined, 'h', new Map());
  assert.deepEqual([id.name, id.namespace, id.attributes?.['k8s.pod.name'], id.attributes?.['container.id']], ['api-svc', 'shop', 'api-5d-x', ID]);
  assert.equal(identityFromEnv(p, undefined, 'h', new Map([['OTEL_SERVICE_NAME', 'env-name']])).name, 'env-name');
  assert.equal(identityFromEnv(p, { name: 'sel', namespace: 'selns' }, 'h', undefined).namespace, 'selns');
  assert.equal(identityFromEnv(proc, undefined, 'h', new Map()).name, 'python3.11');
  assert.equal(identityFromEnv(proc, undefined, 'h', new Map()).attributes, undefined);
});

test('resolver: cgroup read once per process (pid + start time); a source miss is retried later', () => {
  let reads = 0;
  let dockerKnows = false;
  const r = new MetadataResolver({
    readCgroup: () => (reads++, { containerId: ID, runtime: 'docker' }),
    docker: { get: () => (dockerKnows ? { id: ID, name: 'late', image: 'img' } : undefined) },
  });
  assert.equal(r.resolve(proc)!.containerName, undefined);
  dockerKnows = true;
  assert.equal(r.resolve(proc)!.containerName, 'late');
  assert.equal(r.resolve(proc)!.containerName, 'late');
  assert.equal(reads, 2);
  // the same pid, another process
  r.resolve({ ...proc, startTimeMs: 2000 });
  assert.equal(reads, 3);
  assert.equal(r.decorate(proc).metadata?.containerName, 'late');
  const none = new MetadataResolver({ readCgroup: () => undefined });
  assert.equal(none.decorate(proc), proc);
});

test('service.instance.id: <namespace>.<pod>.<container> in Kubernetes, the container name in Docker, else <host>:<pid>', () => {
  const cg = { containerId: ID, runtime: 'containerd' as const, podUid: 'u1' };
  const inK8s = { ...proc, metadata: buildMetadata(cg, { id: ID, name: 'k8s_main_api', image: 'i' }, k8s)! };
  assert.equal(identityFromEnv(inK8s, undefined, 'h', new Map()).instanceId, 'shop.api-5d-x.main');
  const noContainer = { ...proc, metadata: buildMetadata(cg, undefined, { ...k8s, containerName: undefined })! };
  assert.equal(identityFromEnv(noContainer, undefined, 'h', new Map()).instanceId, 'shop.api-5d-x');
  const inDocker = { ...proc, metadata: buildMetadata({ containerId: ID, runtime: 'docker' }, { id: ID, name: 'web-1', image: 'nginx' }, undefined)! };
  assert.equal(identityFromEnv(inDocker, undefined, 'h', new Map()).instanceId, 'web-1');
  // a container the Engine API does not name (Podman, CRI-O without Kubernetes): the host and pid
  const unnamed = { ...proc, metadata: buildMetadata({ containerId: ID, runtime: 'podman' }, undefined, undefined)! };
  assert.equal(identityFromEnv(unnamed, undefined, 'h', new Map()).instanceId, 'h:42');
  assert.equal(identityFromEnv(proc, undefined, 'h', new Map()).instanceId, 'h:42');
});

test('service_name_template replaces the annotation and resource-label rules; an empty result falls back to the owner', () => {
  const cg = { containerId: ID, runtime: 'containerd' as const, podUid: 'u1' };
  const t = compileServiceNameTemplate('{{- .Meta.Namespace }}/{{ index .Meta.Labels "app.kubernetes.io/name" }}{{ if .ContainerName }}-{{ .ContainerName }}{{ end -}}');
  const ann = { ...k8s, annotations: { 'resource.opentelemetry.io/service.name': 'from-ann' } };
  assert.equal(buildMetadata(cg, undefined, ann, undefined, t)!.serviceName, 'shop/api-svc-main');
  assert.equal(buildMetadata(cg, undefined, { ...k8s, containerName: undefined }, undefined, t)!.serviceName, 'shop/api-svc');
  const empty = compileServiceNameTemplate('{{ index .Meta.Labels "missing" }}');
  assert.equal(buildMetadata(cg, undefined, ann, undefined, empty)!.serviceName, 'api');
  const r = new MetadataResolver({ readCgroup: () => cg, kube: { lookup: () => k8s }, serviceNameTemplate: compileServiceNameTemplate('svc-{{ .Meta.Name }}') });
  assert.equal(r.resolve(proc)!.serviceName, 'svc-api-5d-x');
});
