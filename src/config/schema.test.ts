import { test } from 'node:test';
import assert from 'node:assert/strict';
import schemaJson from './schema.json' with { type: 'json' };
import { allKeys, envBindings, resolveNode, typesOf, type SchemaNode } from './schema-meta.ts';

const SCHEMA = schemaJson as unknown as SchemaNode;

function* objects(node: unknown, path: string): Generator<[string, SchemaNode]> {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) return;
  const n = node as SchemaNode & Record<string, unknown>;
  if (n.properties !== undefined) yield [path, n];
  for (const [k, v] of Object.entries(n)) {
    if (k === 'default' || k === 'enum') continue;
    yield* objects(v, `${path}/${k}`);
  }
}

test('every object with properties forbids unknown keys', () => {
  const open = [...objects(SCHEMA, '#')].filter(([, n]) => n.additionalProperties !== false).map(([p]) => p);
  assert.deepEqual(open, []);
});

test('every key has a type (or enum) and a description', () => {
  const bad = allKeys(SCHEMA)
    .filter((k) => (typesOf(k.node).length === 0 && k.node.enum === undefined) || (k.node.description ?? '') === '')
    .map((k) => k.path.join('.'));
  assert.deepEqual(bad, []);
});

test('env var names are well-formed and each maps to keys of one type', () => {
  const byVar = new Map<string, Set<string>>();
  for (const b of envBindings(SCHEMA)) {
    for (const e of [...b.env, ...b.fallback]) {
      assert.match(e, /^[A-Z][A-Z0-9_]*$/);
      const t = JSON.stringify(typesOf(b.node));
      byVar.set(e, (byVar.get(e) ?? new Set()).add(t));
    }
  }
  const mixed = [...byVar].filter(([, types]) => types.size > 1).map(([e]) => e);
  assert.deepEqual(mixed, []);
});

test('the brief\'s obi-ts extension keys exist with their bounds and env vars', () => {
  const ebpf = resolveNode(SCHEMA, SCHEMA.properties!.ebpf!).properties!;
  assert.deepEqual(
    { ...ebpf.capture_size, description: undefined },
    { type: 'integer', default: 1024, description: undefined, 'x-env': ['OTEL_EBPF_BPF_CAPTURE_SIZE'], minimum: 64, maximum: 8192, 'x-obi-ts-extension': true },
  );
  assert.equal(ebpf.ring_buffer_size!.default, 4194304);
  assert.deepEqual(ebpf.ring_buffer_size!['x-env'], ['OTEL_EBPF_BPF_RING_BUFFER_SIZE']);
  assert.equal(ebpf.drain_interval!.default, '10ms');
  assert.deepEqual(ebpf.drain_interval!['x-env'], ['OTEL_EBPF_BPF_DRAIN_INTERVAL']);
});

test('every top-level section of OBI v1 is present', () => {
  const sections = ['discovery', 'ebpf', 'otel_metrics_export', 'otel_traces_export', 'prometheus_export', 'metrics', 'attributes',
    'routes', 'filter', 'name_resolver', 'network', 'stats', 'internal_metrics', 'javaagent', 'nodejs', 'jvm_runtime_metrics', 'health_check'];
  assert.deepEqual(sections.filter((s) => SCHEMA.properties![s] === undefined), []);
  const scalars = ['open_port', 'target_pids', 'executable_path', 'service_name', 'service_namespace', 'log_level', 'log_format',
    'trace_printer', 'shutdown_timeout', 'enforce_sys_caps', 'channel_buffer_len', 'channel_send_timeout', 'profile_port', 'log_config'];
  assert.deepEqual(scalars.filter((s) => SCHEMA.properties![s] === undefined), []);
});
