import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { mkSpan, sampleLines } from '../../test/helpers/spans.ts';
import { DB_METRIC_ATTRIBUTES, DbMetrics } from './db.ts';
import { K8S_METRIC_ATTRIBUTES, metadataMetricAttributes } from './meta-attrs.ts';
import { RedMetrics } from './metrics.ts';
import { AttributeSelector, selectHttpMetricAttributes } from './select.ts';

const K8S_ATTRS: Record<string, string> = {
  'container.id': 'ab'.repeat(32),
  'k8s.namespace.name': 'shop',
  'k8s.pod.name': 'checkout-7d9f8b6c5d-x2x9k',
  'k8s.pod.uid': 'u-1',
  'k8s.container.name': 'api',
  'k8s.node.name': 'node-a',
  'k8s.pod.start_time': '2026-12-01T10:00:00Z',
  'k8s.deployment.name': 'checkout',
  'k8s.replicaset.name': 'checkout-7d9f8b6c5d',
  'k8s.owner.name': 'checkout',
  'k8s.kind': 'Deployment',
  'k8s.cluster.name': 'c1',
};
const pod: ServiceIdentity = { name: 'checkout', namespace: 'shop', instanceId: 'shop.checkout-7d9f8b6c5d-x2x9k.api', pid: 7, exePath: '/app', language: 'go', attributes: K8S_ATTRS };
const docker: ServiceIdentity = { name: 'web-1', namespace: '', instanceId: 'web-1', pid: 8, exePath: '/nginx', language: 'cpp', attributes: { 'container.id': 'cd'.repeat(32), 'container.name': 'web-1' } };
const host: ServiceIdentity = { name: 'plain', namespace: '', instanceId: 'h:9', pid: 9, exePath: '/plain', language: 'go' };

const labelsOf = (line: string): Record<string, string> => Object.fromEntries([...line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));

test('defaults per source: every k8s.* attribute with Kubernetes; container.name (container.id hidden) with Docker; none without', () => {
  assert.deepEqual(metadataMetricAttributes({ kubernetes: true, docker: true }).map((d) => [d.name, d.byDefault]), K8S_METRIC_ATTRIBUTES.map((n) => [n, true]));
  assert.deepEqual(metadataMetricAttributes({ kubernetes: false, docker: true }), [{ name: 'container.name', byDefault: true }, { name: 'container.id', byDefault: false }]);
  assert.deepEqual(metadataMetricAttributes({ kubernetes: false, docker: false }), []);
  // without a source, attributes.select cannot add them
  const sel = new AttributeSelector({ '*': { include: ['*'] } });
  assert.equal(selectHttpMetricAttributes(sel)['http.server.request.duration'].some((a) => a.startsWith('k8s.') || a.startsWith('container.')), false);
});

test('Kubernetes: the RED metrics carry the k8s.* labels of the pod (empty outside pods), instance = namespace.pod.container', async () => {
  const reg = new ScrapableStore();
  const sel = new AttributeSelector({}, metadataMetricAttributes({ kubernetes: true, docker: false }));
  const red = new RedMetrics(reg, { attributes: selectHttpMetricAttributes(sel) });
  red.recordAll([mkSpan({ service: pod }), mkSpan({ service: host })]);
  const lines = sampleLines(await reg.metrics(), 'http_server_request_duration_seconds_count');
  assert.equal(lines.length, 2);
  assert.deepEqual(labelsOf(lines[0]), {
    http_request_method: 'GET', http_response_status_code: '200', http_route: '/users/:id', instance: 'shop.checkout-7d9f8b6c5d-x2x9k.api', job: 'shop/checkout',
    k8s_cluster_name: 'c1', k8s_container_name: 'api', k8s_cronjob_name: '', k8s_daemonset_name: '', k8s_deployment_name: 'checkout', k8s_job_name: '', k8s_kind: 'Deployment',
    k8s_namespace_name: 'shop', k8s_node_name: 'node-a', k8s_owner_name: 'checkout', k8s_pod_name: 'checkout-7d9f8b6c5d-x2x9k', k8s_pod_start_time: '2026-12-01T10:00:00Z',
    k8s_pod_uid: 'u-1', k8s_replicaset_name: 'checkout-7d9f8b6c5d', k8s_statefulset_name: '', server_address: '10.0.0.2', server_port: '8080', service_name: 'checkout',
    service_namespace: 'shop', url_scheme: '',
  });
  const plain = labelsOf(lines[1]);
  assert.equal(plain.instance, 'h:9');
  assert.deepEqual(K8S_METRIC_ATTRIBUTES.map((a) => plain[a.replaceAll('.', '_')]), K8S_METRIC_ATTRIBUTES.map(() => ''));
  // no container labels with Kubernetes
  assert.equal('container_id' in plain || 'container_name' in plain, false);
});

test('attributes.select: exclude k8s.* globs, include hidden container.id; DB metrics share the rule', async () => {
  const k8sSel = new AttributeSelector({ 'http_*': { exclude: ['k8s.pod.*', 'k8s_*set_name', 'k8s.job.name', 'k8s.cronjob.name'] } }, metadataMetricAttributes({ kubernetes: true, docker: false }));
  assert.deepEqual(selectHttpMetricAttributes(k8sSel)['http.client.request.duration'].filter((a) => a.startsWith('k8s.')), [
    'k8s.cluster.name', 'k8s.container.name', 'k8s.deployment.name', 'k8s.kind', 'k8s.namespace.name', 'k8s.node.name', 'k8s.owner.name',
  ]);
  const dockerSel = new AttributeSelector({ 'db.client.operation.duration': { include: ['container.*', 'service.*', 'instance'] } }, metadataMetricAttributes({ kubernetes: false, docker: true }));
  assert.deepEqual(dockerSel.select('db.client.operation.duration', DB_METRIC_ATTRIBUTES).filter((a) => a.startsWith('container.')), ['container.id', 'container.name']);
  const reg = new ScrapableStore();
  const db = new DbMetrics(reg, { attributes: dockerSel.select('db.client.operation.duration', DB_METRIC_ATTRIBUTES) });
  db.recordAll([mkSpan({ protocol: 'redis', kind: 'client', service: docker, attributes: { 'db.system.name': 'redis', 'db.operation.name': 'GET', 'server.address': '10.0.0.9' } })]);
  const l = labelsOf(sampleLines(await reg.metrics(), 'db_client_operation_duration_seconds_count')[0]);
  assert.deepEqual([l.container_id, l.container_name, l.instance], ['cd'.repeat(32), 'web-1', 'web-1']);
  // Docker defaults: container.name only
  const d = new AttributeSelector({}, metadataMetricAttributes({ kubernetes: false, docker: true }));
  assert.deepEqual(selectHttpMetricAttributes(d)['http.server.request.duration'].filter((a) => a.startsWith('container.')), ['container.name']);
});
