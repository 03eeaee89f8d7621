/**
 * Kubernetes metadata end to end: the real agent, the real @kubernetes/client-node informers, real
 * servers in real cgroups named as kubelet names them, traced by the real kernel.
 *
 * No Kubernetes API server can run on these machines: the informers talk to an API-server PEER
 * written for the tests from the API's public specification (test/helpers/kube-apiserver.ts:
 * list + watch with resourceVersion, the nodeName field selector, bearer-token auth), which serves
 * recorded objects in the API's JSON format (test/fixtures/kubernetes/objects.json). The informer
 * logic (list, watch, cache, relist) is the library's.
 *
 * Pods are made real on the kernel side: each server process is moved into a cgroup whose path
 * has the pod UID and container id as containerd (systemd driver), CRI-O, containerd (cgroupfs)
 * and Docker write them, under a test-private parent (cgroup v2 where it is mounted, else the v1
 * pids hierarchy), removed at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { KubeApiServerPeer, type KubeObject } from '../helpers/kube-apiserver.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';

const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/kubernetes/objects.json'), 'utf8')) as { objects: KubeObject[]; late: KubeObject };
const pod = (name: string): KubeObject => fixtures.objects.find((o) => o.metadata.name === name)!;
const uid = (o: KubeObject): string => o.metadata.uid!;
const cid = (o: KubeObject, i = 0): string => {
  const s = (o.status as { containerStatuses: { containerID: string }[] }).containerStatuses[i].containerID;
  return s.slice(s.indexOf('://') + 3);
};

const CHECKOUT = pod('checkout-7d9f8b6c5d-x2x9k');
const REPORT = pod('report-28950720-q7w2k');
const COREDNS = pod('coredns-5d78c9869d-abcde');
const LATE = fixtures.late;

/** a cgroup hierarchy processes can be moved in: v2 (root or the hybrid `unified`), else v1 pids */
function cgroupRoot(): string | undefined {
  for (const d of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(d, 'cgroup.controllers')) || (d.endsWith('unified') && existsSync(join(d, 'cgroup.procs')))) return d;
  return existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : undefined;
}

const root = cgroupRoot();
const parent = `obi-test-${process.pid}-${Date.now()}`;
const made: string[] = [];
function intoCgroup(pid: number, rel: string): void {
  let dir = join(root!, parent);
  for (const seg of [''].concat(rel.split('/'))) {
    dir = seg === '' ? dir : join(dir, seg);
    if (!existsSync(dir)) {
      mkdirSync(dir);
      made.push(dir);
    }
  }
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

const env = {} as { peer: KubeApiServerPeer; rx: OtlpReceiver; agent: TestAgent; ports: Record<string, number>; procs: Record<string, Proc> };

describe('Kubernetes metadata (informers against an API-server peer)', { skip: root === undefined ? 'no writable cgroup hierarchy (cgroup v2 or v1 pids) mounted' : false }, () => {
  before(async () => {
    env.peer = new KubeApiServerPeer();
    await env.peer.start();
    for (const o of fixtures.objects) env.peer.apply(o);
    env.rx = await OtlpReceiver.start();
    env.ports = { checkout: await freePort(), report: await freePort(), coredns: await freePort(), late: await freePort(), plain: await freePort(), unknown: await freePort() };
    env.procs = {};
    const dir = mkdtempSync(join(tmpdir(), 'obi-k8s-'));
    writeFileSync(join(dir, 'index.html'), 'hi\n');
    const py = (port: number): Proc => startProcess('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir]);
    env.procs.checkout = py(env.ports.checkout);
    env.procs.report = py(env.ports.report);
    env.procs.coredns = py(env.ports.coredns);
    env.procs.plain = py(env.ports.plain);
    intoCgroup(env.procs.checkout.pid, `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid(CHECKOUT).replaceAll('-', '_')}.slice/cri-containerd-${cid(CHECKOUT)}.scope`);
    intoCgroup(env.procs.report.pid, `kubepods/burstable/pod${uid(REPORT)}/crio-${cid(REPORT)}`);
    intoCgroup(env.procs.coredns.pid, `kubepods/besteffort/pod${uid(COREDNS)}/${cid(COREDNS)}`);
    for (const p of ['checkout', 'report', 'coredns', 'plain']) await waitForPort(env.ports[p]);

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, env.peer.kubeconfig());
    const config = join(dir, 'obi.yaml');
    // selection by metadata: a Deployment, a CronJob, a namespace of a pod that appears later;
    // by port: the kube-system pod (excluded by default_exclude_instrument) and a plain process
    writeFileSync(config, `
discovery:
  instrument:
    - k8s_deployment_name: checkout
    - k8s_cronjob_name: "rep*"
    - k8s_namespace: late-ns
    - open_ports: ${env.ports.coredns},${env.ports.plain},${env.ports.unknown}
attributes:
  kubernetes:
    enable: "true"
    cluster_name: test-cluster
    kubeconfig_path: ${kubeconfig}
    meta_restrict_local_node: true
`);
    // the node name comes from the agent's environment (the DaemonSet sets it from spec.nodeName)
    process.env.NODE_NAME = 'node-a';
    env.agent = await TestAgent.start({
      OTEL_EBPF_CONFIG_PATH: config,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${env.rx.httpPort}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
    });
  });

  after(async () => {
    delete process.env.NODE_NAME;
    await env.agent?.agent.stop();
    for (const p of Object.values(env.procs ?? {})) await p.kill();
    await env.rx?.close();
    await env.peer?.stop();
    for (const d of made.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* a process still exiting: retried below */
      }
    }
    for (const d of made) if (existsSync(d)) await waitFor(`rmdir ${d}`, () => { try { rmdirSync(d); return true; } catch { return false; } }, 5000, 100);
  });

  test('the informers list and watch pods of this node only, with the token', () => {
    const pods = env.peer.requests.filter((r) => r.path === '/api/v1/pods');
    assert.ok(pods.some((r) => r.query.watch === undefined && r.query.fieldSelector === 'spec.nodeName=node-a'), JSON.stringify(pods));
    assert.ok(pods.some((r) => r.query.watch === 'true' && r.query.fieldSelector === 'spec.nodeName=node-a'));
    assert.ok(pods.every((r) => r.query.fieldSelector === 'spec.nodeName=node-a'));
    for (const path of ['/apis/apps/v1/replicasets', '/apis/batch/v1/jobs']) assert.ok(env.peer.requests.some((r) => r.path === path && r.query.watch === 'true'), path);
    assert.ok(env.peer.requests.every((r) => r.authorization === 'Bearer test-token'));
  });

  test('selection by metadata: the Deployment and CronJob pods; the kube-system pod stays out (default exclude), a plain process is selected by port', () => {
    const tracked = new Map(env.agent.agent.status().tracked.map((t) => [t.pid, t]));
    assert.ok(tracked.has(env.procs.checkout.pid));
    assert.ok(tracked.has(env.procs.report.pid));
    assert.equal(tracked.has(env.procs.coredns.pid), false);
    assert.ok(tracked.has(env.procs.plain.pid));
    assert.equal(tracked.get(env.procs.plain.pid)!.service.attributes, undefined);
  });

  test('spans carry k8s.* resource attributes with OBI names, and service.name/namespace by OBI rules', async () => {
    for (const p of ['checkout', 'report', 'plain']) {
      for (let i = 0; i < 2; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${env.ports[p]}/`]);
    }
    const spans = await env.rx.waitSpans(6, (s) => s.kind === 2, 15_000);
    const of = (pid: number): ReceivedSpan[] => spans.filter((s) => s.resource['service.instance.id'] === `${env.agent.agent.status().tracked.find((t) => t.pid === pid)?.service.instanceId}`);
    const checkout = of(env.procs.checkout.pid);
    assert.equal(checkout.length, 2);
    const r = checkout[0].resource;
    assert.deepEqual(
      Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith('k8s.') || k.startsWith('container.') || k.startsWith('service.'))),
      {
        'service.name': 'checkout-api',
        'service.namespace': 'shop-suite',
        'service.instance.id': r['service.instance.id'],
        'service.version': '1.4.2',
        'container.id': cid(CHECKOUT),
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': 'checkout-7d9f8b6c5d-x2x9k',
        'k8s.pod.uid': uid(CHECKOUT),
        'k8s.container.name': 'api',
        'k8s.node.name': 'node-a',
        'k8s.pod.start_time': '2026-12-01T10:00:00Z',
        'k8s.deployment.name': 'checkout',
        'k8s.replicaset.name': 'checkout-7d9f8b6c5d',
        'k8s.owner.name': 'checkout',
        'k8s.kind': 'Deployment',
        'k8s.cluster.name': 'test-cluster',
      },
    );
    const report = of(env.procs.report.pid);
    assert.equal(report.length, 2);
    const rr = report[0].resource;
    assert.equal(rr['service.name'], 'report');
    assert.equal(rr['service.namespace'], 'batch');
    assert.equal(rr['k8s.job.name'], 'report-28950720');
    assert.equal(rr['k8s.cronjob.name'], 'report');
    assert.equal(rr['k8s.kind'], 'CronJob');
    assert.equal(rr['k8s.container.name'], 'report');
    assert.equal(rr['container.id'], cid(REPORT));
    const plain = of(env.procs.plain.pid);
    assert.equal(plain.length, 2);
    assert.match(String(plain[0].resource['service.name']), /^python3/);
    assert.equal(Object.keys(plain[0].resource).some((k) => k.startsWith('k8s.') || k.startsWith('container.')), false);
    // service.instance.id: <namespace>.<pod>.<container> in a pod, <host>:<pid> outside
    assert.equal(r['service.instance.id'], 'shop.checkout-7d9f8b6c5d-x2x9k.api');
    assert.equal(rr['service.instance.id'], 'batch.report-28950720-q7w2k.report');
    assert.match(String(plain[0].resource['service.instance.id']), new RegExp(`:${env.procs.plain.pid}$`));
  });

  test('Prometheus: application metrics labelled with the k8s.* attributes of the pod (empty outside pods), instance and target_info from the pod', async () => {
    const text = await env.agent.metrics();
    const labels = (line: string): Record<string, string> => Object.fromEntries([...line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const counts = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{'));
    const checkout = counts.filter((l) => l.includes('service_name="checkout-api"'));
    assert.equal(checkout.length, 1, counts.join('\n'));
    assert.equal(checkout[0].slice(checkout[0].lastIndexOf(' ') + 1), '2');
    const l = labels(checkout[0]);
    assert.deepEqual(Object.fromEntries(Object.entries(l).filter(([k]) => k.startsWith('k8s_') || k === 'instance' || k === 'job' || k.startsWith('container_'))), {
      instance: 'shop.checkout-7d9f8b6c5d-x2x9k.api',
      job: 'shop-suite/checkout-api',
      k8s_cluster_name: 'test-cluster',
      k8s_container_name: 'api',
      k8s_cronjob_name: '',
      k8s_daemonset_name: '',
      k8s_deployment_name: 'checkout',
      k8s_job_name: '',
      k8s_kind: 'Deployment',
      k8s_namespace_name: 'shop',
      k8s_node_name: 'node-a',
      k8s_owner_name: 'checkout',
      k8s_pod_name: 'checkout-7d9f8b6c5d-x2x9k',
      k8s_pod_start_time: '2026-12-01T10:00:00Z',
      k8s_pod_uid: uid(CHECKOUT),
      k8s_replicaset_name: 'checkout-7d9f8b6c5d',
      k8s_statefulset_name: '',
    });
    const report = labels(counts.find((c) => c.includes('service_name="report"'))!);
    assert.deepEqual([report.k8s_cronjob_name, report.k8s_job_name, report.k8s_kind, report.instance], ['report', 'report-28950720', 'CronJob', 'batch.report-28950720-q7w2k.report']);
    const plainPid = env.procs.plain.pid;
    const plain = labels(counts.find((c) => /service_name="python3/.test(c) && c.includes(`instance="`) && c.includes(`:${plainPid}"`))!);
    assert.equal(plain.k8s_pod_name, '');
    assert.equal(plain.k8s_namespace_name, '');
    const info = text.split('\n').find((t) => t.startsWith('target_info{') && t.includes('service_name="checkout-api"'))!;
    assert.equal(labels(info).instance, 'shop.checkout-7d9f8b6c5d-x2x9k.api');
  });

  test('a pod that appears after start (watch): selected by its namespace, named by its annotation, Deployment from the pod-template-hash', async () => {
    env.peer.apply(LATE);
    const dir = mkdtempSync(join(tmpdir(), 'obi-k8s-late-'));
    const p = startProcess('bash', ['-c', `read -r _; exec python3 -m http.server ${env.ports.late} --bind 127.0.0.1 --directory ${dir}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    env.procs.late = p;
    // into the pod's cgroup before the server execs and listens
    intoCgroup(p.pid, `kubepods/besteffort/pod${uid(LATE)}/${cid(LATE)}`);
    p.child.stdin!.end('go\n');
    await waitForPort(env.ports.late);
    await env.agent.waitTracked(p.pid, 15_000);
    for (let i = 0; i < 3; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${env.ports.late}/`]);
    const spans = await env.rx.waitSpans(3, (s) => s.kind === 2 && s.resource['k8s.pod.name'] === 'late-6c8d9e7f5b-m4n5p', 15_000);
    assert.equal(spans.length, 3);
    const r = spans[0].resource;
    assert.equal(r['service.name'], 'late-web');
    assert.equal(r['service.namespace'], 'late-ns');
    assert.equal(r['k8s.deployment.name'], 'late');
    assert.equal(r['k8s.replicaset.name'], 'late-6c8d9e7f5b');
    assert.equal(r['k8s.kind'], 'Deployment');
    assert.equal(r['k8s.container.name'], 'web');
    assert.equal(r['container.id'], cid(LATE));
  });

  test('a process selected before the API server knew its pod is re-identified when the pod arrives', async () => {
    const uidX = '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f906';
    const idX = 'e5'.repeat(32);
    const dir = mkdtempSync(join(tmpdir(), 'obi-k8s-unknown-'));
    const p = startProcess('bash', ['-c', `read -r _; exec python3 -m http.server ${env.ports.unknown} --bind 127.0.0.1 --directory ${dir}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    env.procs.unknown = p;
    intoCgroup(p.pid, `kubepods/besteffort/pod${uidX}/${idX}`);
    p.child.stdin!.end('go\n');
    await waitForPort(env.ports.unknown);
    await env.agent.waitTracked(p.pid, 15_000);
    const before = env.agent.agent.status().tracked.find((t) => t.pid === p.pid)!.service;
    assert.equal(before.attributes?.['container.id'], idX);
    assert.equal(before.attributes?.['k8s.pod.name'], undefined);
    env.peer.apply({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'unknown-0', namespace: 'tools', uid: uidX, labels: {}, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'unknown', uid: 'u-sts', controller: true }] },
      spec: { nodeName: 'node-a', containers: [{ name: 'srv', image: 'python:3.11' }] },
      status: { startTime: '2026-12-01T11:00:00Z', containerStatuses: [{ name: 'srv', containerID: `containerd://${idX}`, image: 'python:3.11', imageID: '', ready: true, restartCount: 0 }] },
    } as KubeObject);
    await waitFor('re-identified', () => env.agent.agent.status().tracked.find((t) => t.pid === p.pid)?.service.attributes?.['k8s.pod.name'] === 'unknown-0', 10_000);
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${env.ports.unknown}/`]);
    const spans = await env.rx.waitSpans(1, (s) => s.kind === 2 && s.resource['k8s.pod.name'] === 'unknown-0', 15_000);
    assert.equal(spans[0].resource['service.name'], 'unknown');
    assert.equal(spans[0].resource['k8s.statefulset.name'], 'unknown');
    assert.equal(spans[0].resource['service.namespace'], 'tools');
  });
});

describe('Kubernetes informers: meta_restrict_local_node false (every pod, as OBI) and disable_informers', () => {
  test('pods listed and watched without a node selector; the disabled informers never ask', async () => {
    const peer = new KubeApiServerPeer();
    await peer.start();
    for (const o of fixtures.objects) peer.apply(o);
    const dir = mkdtempSync(join(tmpdir(), 'obi-k8s-inf-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, peer.kubeconfig());
    const { KubeInformers } = await import('../../src/discovery/kubernetes/informers.ts');
    const log = { info: () => {}, warn: () => {} };
    const inf = new KubeInformers({ kubeconfigPath: kubeconfig, nodeName: 'node-a', syncTimeoutMs: 10_000, reconnectMs: 200, log, disabled: ['replicaset', 'job'] });
    try {
      assert.equal(await inf.start(), true);
      const pods = peer.requests.filter((r) => r.path === '/api/v1/pods');
      assert.ok(pods.length >= 1);
      assert.ok(pods.every((r) => r.query.fieldSelector === undefined), JSON.stringify(pods));
      assert.equal(peer.requests.some((r) => r.path === '/apis/apps/v1/replicasets' || r.path === '/apis/batch/v1/jobs'), false);
      // every pod of the fixtures, this node's and the others'
      const expected = fixtures.objects.filter((o) => o.kind === 'Pod').length;
      assert.equal(inf.store.podCount, expected);
      // the Deployment still comes from the ReplicaSet name less its pod-template-hash; the CronJob of a Job is unknown
      const c = inf.store.lookup(uid(CHECKOUT), cid(CHECKOUT))!;
      assert.deepEqual([c.ownerKind, c.ownerName], ['Deployment', 'checkout']);
      const r = inf.store.lookup(uid(REPORT), cid(REPORT))!;
      assert.deepEqual([r.ownerKind, r.ownerName, r.owners.CronJob], ['Job', 'report-28950720', undefined]);
    } finally {
      await inf.stop();
      await peer.stop();
    }
  });
});
