import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load.ts';
import { formatConfig, MASK } from './print.ts';

const KITCHEN = fileURLToPath(new URL('../../test/fixtures/config/kitchen-sink.yaml', import.meta.url));
const SECRET_ENV = {
  OTEL_EBPF_OPEN_PORT: '80',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:s3cr3t@otlp.example.com',
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20dXNlcjpwYXNz,x-tenant=acme',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=k3y',
};

test('masks header values and URL passwords', () => {
  const c = loadConfig({ env: SECRET_ENV });
  const yaml = formatConfig(c, 'yaml');
  const json = formatConfig(c, 'json');
  for (const out of [yaml, json]) {
    assert.ok(!out.includes('s3cr3t'));
    assert.ok(!out.includes('dXNlcjpwYXNz'));
    assert.ok(!out.includes('k3y'));
  }
  const doc = JSON.parse(json) as Record<string, Record<string, unknown>>;
  assert.equal(doc.otel_traces_export!.common_headers, `authorization=${MASK},x-tenant=${MASK}`);
  assert.equal(doc.otel_traces_export!.headers, `x-api-key=${MASK}`);
  assert.equal(doc.otel_metrics_export!.common_endpoint, 'https://user:***@otlp.example.com/');
  assert.equal(doc.otel_metrics_export!.endpoint, undefined);
});

test('leaves derived views out and starts YAML with a comment header', () => {
  const c = loadConfig({ configPath: KITCHEN, env: {} });
  const doc = JSON.parse(formatConfig(c, 'json')) as Record<string, unknown>;
  for (const k of ['selectors', 'excludeSelectors', 'metricFeatures', 'internalMetricsExporter', 'configPath', 'loadWarnings']) {
    assert.equal(k in doc, false, k);
  }
  const yaml = formatConfig(c, 'yaml');
  assert.equal(yaml.split('\n').slice(0, 3).join('\n'), [
    '# obi-ts effective configuration (built-in defaults < file < environment)',
    `# loaded from: ${KITCHEN}`,
    'log_level: DEBUG',
  ].join('\n'));
});

test('the printed YAML and JSON load back to the same configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-ts-print-'));
  try {
    const original = loadConfig({ configPath: KITCHEN, env: {} });
    for (const format of ['yaml', 'json'] as const) {
      const path = join(dir, `effective.${format}`);
      writeFileSync(path, formatConfig(original, format));
      const again = loadConfig({ configPath: path, env: {} });
      assert.deepEqual({ ...again, configPath: undefined }, { ...original, configPath: undefined }, format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
