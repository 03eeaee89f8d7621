import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from './load.ts';

const base = { OTEL_EBPF_TRACE_PRINTER: 'text', OTEL_EBPF_OPEN_PORT: '8080' };

test('meta_cache_address is refused with OBI_ERR_CONFIG_UNSUPPORTED, naming the key and the env var', () => {
  assert.throws(() => loadConfig({ env: { ...base, OTEL_EBPF_KUBE_META_CACHE_ADDRESS: 'k8s-cache:50055' } }), (e: { code?: string; message: string }) => {
    assert.equal(e.code, 'OBI_ERR_CONFIG_UNSUPPORTED');
    assert.match(e.message, /^attributes\.kubernetes\.meta_cache_address \(env OTEL_EBPF_KUBE_META_CACHE_ADDRESS\) is not supported by obi-ts; got "k8s-cache:50055"/);
    return true;
  });
  assert.equal(loadConfig({ env: { ...base, OTEL_EBPF_KUBE_META_CACHE_ADDRESS: '' } }).attributes.kubernetes.enable, 'autodetect'); // empty: not set
});

test('service_name_template: the subset loads; other Go template features are unsupported; malformed text is invalid', () => {
  const t = '{{ .Meta.Namespace }}/{{ index .Meta.Labels "app.kubernetes.io/name" }}';
  assert.equal(loadConfig({ env: { ...base, OTEL_EBPF_SERVICE_NAME_TEMPLATE: t } }).attributes.kubernetes.service_name_template, t);
  assert.throws(() => loadConfig({ env: { ...base, OTEL_EBPF_SERVICE_NAME_TEMPLATE: '{{ .Meta.Name | upper }}' } }), (e: { code?: string; message: string }) => {
    assert.equal(e.code, 'OBI_ERR_CONFIG_UNSUPPORTED');
    assert.match(e.message, /service_name_template \(env OTEL_EBPF_SERVICE_NAME_TEMPLATE\): \{\{ \.Meta\.Name \| upper \}\} is not supported \(supported: /);
    return true;
  });
  assert.throws(() => loadConfig({ env: { ...base, OTEL_EBPF_SERVICE_NAME_TEMPLATE: '{{ .Meta.Name' } }), (e: { code?: string; message: string }) => {
    assert.equal(e.code, 'OBI_ERR_CONFIG_INVALID');
    assert.match(e.message, /attributes\.kubernetes\.service_name_template \(env OTEL_EBPF_SERVICE_NAME_TEMPLATE\): is not a valid template: unclosed action at offset 0/);
    return true;
  });
});

test('disable_informers and meta_restrict_local_node load (OBI names)', () => {
  const c = loadConfig({ env: { ...base, OTEL_EBPF_KUBE_DISABLE_INFORMERS: 'replicaset,job', OTEL_EBPF_KUBE_META_RESTRICT_LOCAL_NODE: 'true' } });
  assert.deepEqual(c.attributes.kubernetes.disable_informers, ['replicaset', 'job']);
  assert.equal(c.attributes.kubernetes.meta_restrict_local_node, true);
  assert.throws(() => loadConfig({ env: { ...base, OTEL_EBPF_KUBE_DISABLE_INFORMERS: 'pods' } }), { code: 'OBI_ERR_CONFIG_INVALID' });
});
