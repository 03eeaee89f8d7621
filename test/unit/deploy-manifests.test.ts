/**
 * The deployment files: every Kubernetes manifest under deploy/kubernetes/ validated against the
 * Kubernetes OpenAPI schemas (kubernetes-models: the API's published OpenAPI definitions compiled
 * to validators, one model per apiVersion/kind), the ConfigMap's OBI YAML loaded by the agent's
 * own schema, and the capabilities, mounts and ports agreeing between the DaemonSet, the sidecar,
 * the compose file, the Dockerfile and the agent's configuration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';

const repo = join(import.meta.dirname, '../..');
const dir = join(repo, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

function manifests(): { file: string; doc: Manifest }[] {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      assert.deepEqual(d.errors, [], file);
      const doc = d.toJS() as Manifest | null;
      if (doc !== null) out.push({ file, doc });
    }
  }
  return out;
}

const CAPS = ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE', 'DAC_READ_SEARCH'];

test('every manifest validates against the Kubernetes OpenAPI schema of its apiVersion/kind', async () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => `${m.file}:${m.doc.kind}/${m.doc.metadata.name}`), [
    'configmap.yaml:ConfigMap/obi-ts',
    'daemonset.yaml:DaemonSet/obi-ts',
    'namespace.yaml:Namespace/obi-ts',
    'rbac.yaml:ServiceAccount/obi-ts',
    'rbac.yaml:ClusterRole/obi-ts',
    'rbac.yaml:ClusterRoleBinding/obi-ts',
    'sidecar-example.yaml:Deployment/shop-api',
  ]);
  for (const { file, doc } of all) {
    const mod = (await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`)) as Record<string, new (d: unknown) => { validate(): void }>;
    const Model = mod[doc.kind];
    assert.ok(Model, `${file}: no model for ${doc.apiVersion} ${doc.kind}`);
    assert.doesNotThrow(() => new Model(doc).validate(), `${file} ${doc.kind}`);
  }
});

test('the validation does fail: a wrong type and a missing required field are rejected', async () => {
  const { DaemonSet } = await import('kubernetes-models/apps/v1/DaemonSet');
  const ds = manifests().find((m) => m.doc.kind === 'DaemonSet')!.doc as never as { spec: { template: { spec: Record<string, unknown> } } };
  const broken = structuredClone(ds);
  broken.spec.template.spec.hostPID = 'yes';
  assert.throws(() => new DaemonSet(broken as never).validate(), /hostPID must be boolean/);
  const noContainers = structuredClone(ds);
  delete noContainers.spec.template.spec.containers;
  assert.throws(() => new DaemonSet(noContainers as never).validate(), /containers/);
});

test('DaemonSet: hostPID, capabilities, host mounts, readiness on the metrics port, resources, tolerations, node name', () => {
  const ds = manifests().find((m) => m.doc.kind === 'DaemonSet')!.doc as never as {
    spec: { template: { spec: { hostPID: boolean; serviceAccountName: string; tolerations: unknown[]; containers: unknown[]; volumes: { name: string; hostPath?: { path: string } }[] } } };
  };
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostPID, true);
  assert.equal(pod.serviceAccountName, 'obi-ts');
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  const c = pod.containers[0] as { securityContext: { capabilities: { add: string[]; drop: string[] }; runAsNonRoot: boolean; allowPrivilegeEscalation: boolean }; readinessProbe: { httpGet: { path: string; port: string } }; ports: { name: string; containerPort: number }[]; resources: { requests: Record<string, string>; limits: Record<string, string> }; env: { name: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]; volumeMounts: { name: string; mountPath: string }[] };
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: CAPS });
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, true);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/metrics', port: 'metrics' });
  assert.deepEqual(c.ports, [{ name: 'metrics', containerPort: 9400, protocol: 'TCP' }]);
  assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  assert.deepEqual(c.env.find((e) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  const hostPaths = Object.fromEntries(pod.volumes.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]));
  assert.deepEqual(hostPaths, { tracefs: '/sys/kernel/tracing', bpffs: '/sys/fs/bpf', cgroup: '/sys/fs/cgroup' });
  for (const [name, path] of Object.entries(hostPaths)) assert.equal(c.volumeMounts.find((m) => m.name === name)?.mountPath, path);
});

test('RBAC: read-only pods, nodes, replicasets, jobs, bound to the DaemonSet service account', () => {
  const all = manifests().map((m) => m.doc);
  const role = all.find((d) => d.kind === 'ClusterRole') as never as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  assert.deepEqual(role.rules.map((r) => [r.apiGroups[0], r.resources.join(','), r.verbs.join(',')]), [
    ['', 'pods,nodes', 'get,list,watch'],
    ['apps', 'replicasets', 'get,list,watch'],
    ['batch', 'jobs', 'get,list,watch'],
  ]);
  const binding = all.find((d) => d.kind === 'ClusterRoleBinding') as never as { roleRef: { name: string }; subjects: { name: string; namespace: string }[] };
  assert.equal(binding.roleRef.name, 'obi-ts');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'obi-ts', namespace: 'obi-ts' }]);
});

test('the ConfigMap holds an OBI YAML the agent loads: k8s selector, Kubernetes metadata on, Prometheus on the probed port', () => {
  const cm = manifests().find((m) => m.doc.kind === 'ConfigMap')!.doc as never as { data: Record<string, string> };
  const path = join(mkdtempSync(join(tmpdir(), 'obi-cm-')), 'obi-ts.yaml');
  writeFileSync(path, cm.data['obi-ts.yaml']);
  const cfg = loadConfig({ configPath: path, env: {} });
  assert.deepEqual(cfg.loadWarnings, []);
  assert.deepEqual(cfg.selectors, [{ metadata: { k8s_namespace: '*' } }]);
  assert.equal(cfg.attributes.kubernetes.enable, 'true');
  assert.equal(cfg.prometheus_export.port, 9400);
  assert.equal(cfg.otel_traces_export.endpoint, 'http://otel-collector.observability.svc:4318/v1/traces');
  assert.equal(cfg.otel_metrics_export.endpoint, 'http://otel-collector.observability.svc:4318/v1/metrics');
});

test('sidecar: one process namespace, the same capabilities, the app port selected', () => {
  const dep = manifests().find((m) => m.doc.kind === 'Deployment')!.doc as never as { spec: { template: { spec: { shareProcessNamespace: boolean; hostPID?: boolean; containers: { name: string; env?: { name: string; value: string }[]; securityContext?: { capabilities: { add: string[] } }; ports?: { containerPort: number }[] }[] } } } };
  const pod = dep.spec.template.spec;
  assert.equal(pod.shareProcessNamespace, true);
  assert.equal(pod.hostPID, undefined);
  const agent = pod.containers.find((c) => c.name === 'obi-ts')!;
  const app = pod.containers.find((c) => c.name === 'app')!;
  assert.deepEqual(agent.securityContext!.capabilities.add, CAPS);
  assert.equal(agent.env!.find((e) => e.name === 'OTEL_EBPF_OPEN_PORT')!.value, String(app.ports![0].containerPort));
  const cfg = loadConfig({ env: Object.fromEntries(agent.env!.map((e) => [e.name, e.value])) });
  assert.deepEqual(cfg.selectors, [{ openPorts: [{ start: 80, end: 80 }], name: 'shop-api' }]);
});

test('compose file and Dockerfile: the same capabilities and host mounts', () => {
  const compose = parse(readFileSync(join(repo, 'deploy/docker-compose.yaml'), 'utf8')) as { services: { 'obi-ts': { pid: string; cap_add: string[]; cap_drop: string[]; volumes: string[] } } };
  const svc = compose.services['obi-ts'];
  assert.equal(svc.pid, 'host');
  assert.deepEqual(svc.cap_drop, ['ALL']);
  assert.deepEqual(svc.cap_add, CAPS);
  for (const m of ['/sys/kernel/tracing:/sys/kernel/tracing:ro', '/sys/fs/bpf:/sys/fs/bpf', '/sys/fs/cgroup:/sys/fs/cgroup:ro']) assert.ok(svc.volumes.includes(m), m);
  const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
  // permitted file capabilities: the documented set, and SYS_ADMIN for engines without BPF/PERFMON
  const setcap = /setcap ([a-z_,]+)\+p /.exec(dockerfile);
  assert.ok(setcap, 'setcap line');
  assert.deepEqual(setcap[1].split(',').map((c) => c.replace(/^cap_/, '').toUpperCase()), [...CAPS, 'SYS_ADMIN', 'SYS_RESOURCE', 'CHECKPOINT_RESTORE']);
  assert.match(dockerfile, /^USER 10001:10001$/m);
});
