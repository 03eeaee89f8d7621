import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate, SPANS_DOC } from './gen-reference.ts';

test('docs/reference/spans.md matches what the parsers and span builders produce (run node scripts/gen-reference.ts)', async () => {
  const text = await generate();
  assert.equal(readFileSync(join(import.meta.dirname, '..', SPANS_DOC), 'utf8'), text);
  assert.match(text, /## `http1` \(instrumentation `http`, category `http`\)/);
  assert.match(text, /\| SERVER \| `GET \/index\.html`/);
});

test('docs/reference/metrics.md lists every metric family the agent registers (run node scripts/gen-reference.ts)', async () => {
  const { generateMetrics, METRICS_DOC } = await import('./gen-reference.ts');
  const text = generateMetrics();
  assert.equal(readFileSync(join(import.meta.dirname, '..', METRICS_DOC), 'utf8'), text);
  for (const name of ['http_server_request_duration_seconds', 'db_client_operation_duration_seconds', 'traces_service_graph_request_total', 'obi_parser_errors_total', 'obi_ingest_bytes_lost_total', 'obi_otel_trace_exports_total']) {
    assert.match(text, new RegExp(`\\| \`${name}\` \\|`), name);
  }
});
