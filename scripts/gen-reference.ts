/**
 * Generates the reference pages that describe what the agent emits, from the code itself:
 * - docs/reference/spans.md: every registered protocol's fixtures replayed through its parser, and
 *   every record through `recordToSpan` as seen by a server and by a client: the span names,
 *   kinds, attributes and statuses the agent really produces;
 * - docs/reference/metrics.md: every metric family the telemetry stages register in a
 *   MetricStore (with default attribute selection): names, type, unit, labels, description.
 *
 *   node scripts/gen-reference.ts [--check]    (--check: exit 1 if the committed page differs)
 *
 * scripts/gen-reference.test.ts runs the check in `make test`.
 */
import { createGenaiMetrics } from '../src/telemetry/genai.ts';
import { readGenaiCall } from '../src/protocols/genai/extract.ts';
import { loadGenaiCases } from '../test/helpers/genai-fixtures.ts';
import { registerLargeCaptureMetrics } from '../src/pipeline/large-capture.ts';
import { registerPropagationMetrics } from '../src/pipeline/propagation.ts';
import { registerTlsCallMetrics } from '../src/pipeline/tls.ts';
import { CorrelationMetrics } from '../src/telemetry/correlate.ts';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnInfo } from '../src/common/conn.ts';
import type { ServiceIdentity } from '../src/common/service.ts';
import type { ProtocolConn, ProtocolDescriptor } from '../src/protocols/common/descriptor.ts';
import type { ProtocolRecord } from '../src/protocols/common/records.ts';
import type { HttpExtractor } from '../src/protocols/common/http-extract.ts';
import type { HttpRecord } from '../src/protocols/common/records.ts';
import { HTTP_EXTRACTORS, PROTOCOLS } from '../src/protocols/registry.ts';
import { recordToSpan } from '../src/telemetry/record.ts';
import type { Span } from '../src/telemetry/span.ts';
import { loadFixtures, replayFixture } from '../test/helpers/protocol-fixtures.ts';
import { OtlpExportMetrics } from '../src/export/otlp/self-metrics.ts';
import { DbMetrics } from '../src/telemetry/db.ts';
import { DnsMetrics } from '../src/telemetry/dns.ts';
import { MessagingMetrics } from '../src/telemetry/messaging.ts';
import { RpcCallMetric } from '../src/telemetry/rpc.ts';
import { InternalMetrics } from '../src/telemetry/internal.ts';
import { RedMetrics } from '../src/telemetry/metrics.ts';
import { SpanProcessor } from '../src/telemetry/processor.ts';
import { MetricStore, type StoredFamily } from '../src/telemetry/store.ts';
import { NodeContextLinker } from '../src/telemetry/node-links.ts';
import { registerNodeAttachMetrics } from '../src/pipeline/node-ctx/attach.ts';

const ROOT = join(import.meta.dirname, '..');
export const SPANS_DOC = 'docs/reference/spans.md';
export const METRICS_DOC = 'docs/reference/metrics.md';
const MAX_NAMES = 8;

const SERVICE: ServiceIdentity = { name: 'svc', namespace: '', instanceId: 'host:1', pid: 1, exePath: '/usr/bin/svc', language: 'generic' };
const conn = (role: 'server' | 'client'): ConnInfo => ({
  pid: 1,
  tid: 1,
  role,
  localAddr: '10.0.0.1',
  localPort: role === 'server' ? 8080 : 40000,
  remoteAddr: '10.0.0.2',
  remotePort: role === 'server' ? 40000 : 8080,
  tls: false,
});

/** each protocol folder's descriptor(s), found by what their index.ts exports */
async function descriptorFolders(): Promise<Map<ProtocolDescriptor, string>> {
  const out = new Map<ProtocolDescriptor, string>();
  const base = join(ROOT, 'src', 'protocols');
  for (const dir of readdirSync(base).sort()) {
    const index = join(base, dir, 'index.ts');
    if (dir === 'common' || !existsSync(index)) continue;
    const mod = (await import(pathToFileURL(index).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (PROTOCOLS.includes(v as ProtocolDescriptor)) out.set(v as ProtocolDescriptor, join(base, dir));
  }
  return out;
}

interface Seen {
  names: Set<string>;
  attributes: Set<string>;
  statuses: Set<string>;
  spans: number;
}

function spansOf(d: ProtocolDescriptor, folder: string): Span[] {
  const fixtures = join(folder, 'fixtures');
  if (!existsSync(fixtures)) return [];
  const spans: Span[] = [];
  let n = 0;
  const ids = { traceId: () => (++n).toString(16).padStart(32, '0'), spanId: () => (++n).toString(16).padStart(16, '0') };
  for (const fx of loadFixtures(fixtures)) {
    const [run] = replayFixture(d.createParser(), fx, 'whole');
    for (const rec of run.records as ProtocolRecord[]) {
      for (const role of ['server', 'client'] as const) {
        const pc: ProtocolConn = { info: conn(role), service: SERVICE, descriptor: d };
        const s = recordToSpan(rec, pc, { ids, route: (p) => (/\d/.test(p) ? '' : p), queryText: true });
        if (s) spans.push(s);
      }
    }
  }
  return spans;
}

/** each HTTP payload extractor's folder, found by what its index.ts exports */
async function extractorFolders(): Promise<Map<HttpExtractor, string>> {
  const out = new Map<HttpExtractor, string>();
  const base = join(ROOT, 'src', 'protocols');
  for (const dir of readdirSync(base).sort()) {
    const index = join(base, dir, 'index.ts');
    if (dir === 'common' || !existsSync(index)) continue;
    const mod = (await import(pathToFileURL(index).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (HTTP_EXTRACTORS.includes(v as HttpExtractor)) out.set(v as HttpExtractor, join(base, dir));
  }
  return out;
}

/** an extractor's fixtures (HTTP/1 exchanges) through the HTTP/1 parser keeping payloads, then `recordToSpan` with only that extractor on */
function extractorSpansOf(x: HttpExtractor, folder: string): Span[] {
  const http1 = PROTOCOLS.find((p) => p.wire === 'http1')!;
  const fixtures = join(folder, 'fixtures');
  if (!existsSync(fixtures)) return [];
  const spans: Span[] = [];
  let n = 0;
  const ids = { traceId: () => (++n).toString(16).padStart(32, '0'), spanId: () => (++n).toString(16).padStart(16, '0') };
  for (const fx of loadFixtures(fixtures)) {
    const [run] = replayFixture(http1.createParser({ http_payload_capture: 8192 } as never), fx, 'whole');
    for (const rec of run.records as HttpRecord[]) {
      for (const role of x.roles) {
        if (rec.payload === undefined || x.extract(rec, rec.payload, { role }) === undefined) continue;
        const pc: ProtocolConn = { info: conn(role), service: SERVICE, descriptor: http1 };
        const s = recordToSpan(rec, pc, { ids, route: (p) => (/\d/.test(p) ? '' : p), queryText: true, httpExtractors: [x] });
        if (s) spans.push(s);
      }
    }
  }
  return spans;
}

function spanTable(lines: string[], spans: readonly Span[]): void {
  const byKind = new Map<string, Seen>();
  for (const s of spans) {
    const key = `${s.kind}|${s.category}`;
    let k = byKind.get(key);
    if (!k) byKind.set(key, (k = { names: new Set(), attributes: new Set(), statuses: new Set(), spans: 0 }));
    k.spans++;
    if (k.names.size < MAX_NAMES) k.names.add(s.name);
    for (const a of Object.keys(s.attributes)) k.attributes.add(a);
    k.statuses.add(s.status);
  }
  lines.push('| kind | category | span names (examples) | attributes | statuses |', '|---|---|---|---|---|');
  for (const [key, k] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
    const [kind, category] = key.split('|');
    const names = [...k.names].map((n) => `\`${n.replace(/\|/g, '\\|')}\``).join(', ');
    const attrs = [...k.attributes].sort().map((a) => `\`${a}\``).join(', ');
    lines.push(`| ${kind.toUpperCase()} | ${category} | ${names} | ${attrs} | ${[...k.statuses].sort().join(', ')} |`);
  }
  lines.push('');
}

export async function generate(): Promise<string> {
  const folders = await descriptorFolders();
  const lines = [
    '# Spans',
    '',
    'GENERATED by `node scripts/gen-reference.ts` from the protocols\' fixtures replayed through the',
    'agent\'s parsers and span builders; do not edit. Span kind: SERVER when the instrumented process',
    'accepted the connection, CLIENT when it connected out (PRODUCER/CONSUMER for messaging). Names',
    'below are examples from the fixtures. `db.query.text` appears only when selected in',
    '`attributes.select.traces.include`; `url.query` has sensitive keys redacted. Status rules:',
    '[obi-compat §3.2](../devdocs/obi-compat.md).',
    '',
  ];
  for (const d of PROTOCOLS) {
    const folder = folders.get(d);
    lines.push(`## \`${d.wire}\` (instrumentation \`${d.name}\`, category \`${d.category}\`)`, '');
    const spans = folder === undefined ? [] : spansOf(d, folder);
    if (spans.length === 0) {
      lines.push('No fixtures.', '');
      continue;
    }
    const byKind = new Map<string, Seen>();
    for (const s of spans) {
      let k = byKind.get(s.kind);
      if (!k) byKind.set(s.kind, (k = { names: new Set(), attributes: new Set(), statuses: new Set(), spans: 0 }));
      k.spans++;
      if (k.names.size < MAX_NAMES) k.names.add(s.name);
      for (const a of Object.keys(s.attributes)) k.attributes.add(a);
      k.statuses.add(s.status);
    }
    lines.push('| kind | span names (examples) | attributes | statuses |', '|---|---|---|---|');
    for (const [kind, k] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
      const names = [...k.names].map((n) => `\`${n.replace(/\|/g, '\\|')}\``).join(', ');
      const attrs = [...k.attributes].sort().map((a) => `\`${a}\``).join(', ');
      lines.push(`| ${kind.toUpperCase()} | ${names} | ${attrs} | ${[...k.statuses].sort().join(', ')} |`);
    }
    lines.push('');
  }
  lines.push(
    '# HTTP payload extractors',
    '',
    'Protocols read from parsed HTTP exchanges (docs/devdocs/adding-a-protocol.md, "HTTP payload',
    'extractors"), each off until switched on in `ebpf.payload_extraction.http`: their fixtures',
    'through the HTTP/1 parser and `recordToSpan`. The HTTP attributes stay; the extractor renames',
    'the span, adds its attributes and may change its category (and so its metric).',
    '',
  );
  const xfolders = await extractorFolders();
  for (const x of HTTP_EXTRACTORS) {
    if (x.name === 'genai') {
      lines.push(...genaiSection()); // its fixtures are API bodies (src/protocols/genai/fixtures)
      continue;
    }
    lines.push(`## \`${x.name}\` (${x.roles.join(' and ')} side)`, '');
    const folder = xfolders.get(x);
    const spans = folder === undefined ? [] : extractorSpansOf(x, folder);
    if (spans.length === 0) lines.push('No fixtures.', '');
    else spanTable(lines, spans);
  }
  return lines.join('\n');
}

/** the GenAI extractor's spans (an HTTP client span read by src/protocols/genai/), from its fixtures */
function genaiSection(): string[] {
  const names = new Set<string>();
  const attrs = new Set<string>(['http.request.method', 'http.response.status_code', 'server.address', 'server.port', 'url.full', 'url.scheme']);
  for (const { c } of loadGenaiCases(join(ROOT, 'src', 'protocols', 'genai', 'fixtures'))) {
    const call = readGenaiCall({ method: c.method, path: c.path, requestBody: c.request, requestComplete: true, responseBody: c.response, responseComplete: true, responseContentType: c.contentType });
    if (call === undefined) continue;
    if (names.size < MAX_NAMES) names.add(call.name);
    for (const a of Object.keys(call.attributes)) attrs.add(a);
    if (call.errorType !== undefined) attrs.add('error.type');
  }
  return [
    '## `genai` (client side)',
    '',
    'Instrumentation `genai`, category `genai`. Client spans of OpenAI-compatible and Anthropic API calls (HTTP/1, TLS included), when `genai` is listed in',
    '`instrumentations` and a provider is enabled under `ebpf.payload_extraction.http.genai`: the HTTP span',
    'renamed `<operation> <model>`, with the HTTP attributes plus these (values only where the captured bytes',
    'hold them: usage at the end of a long answer needs `ebpf.buffer_sizes.http`). ERROR with `error.type` =',
    'the API error type when the body carries one. `gen_ai.response.finish_reasons` is comma-separated.',
    '',
    '| kind | span names (examples) | attributes | statuses |',
    '|---|---|---|---|',
    `| CLIENT | ${[...names].map((n) => `\`${n}\``).join(', ')} | ${[...attrs].sort().map((a) => `\`${a}\``).join(', ')} | error, unset |`,
    '',
  ];
}

/** the families the agent can register, each group in its own store (as the agent does) */
function metricGroups(): { title: string; note: string; families: readonly StoredFamily[] }[] {
  const app = new MetricStore();
  new RedMetrics(app);
  new DbMetrics(app);
  new DnsMetrics(app);
  new MessagingMetrics(app, 'client');
  new MessagingMetrics(app, 'process');
  new RpcCallMetric(app, 'server');
  new RpcCallMetric(app, 'client');
  createGenaiMetrics(app);
  const span = new MetricStore();
  new SpanProcessor(span, new RedMetrics(new MetricStore()), { features: ['application_span_otel', 'application_service_graph'] });
  const legacy = new MetricStore();
  new SpanProcessor(legacy, new RedMetrics(new MetricStore()), { features: ['application_span'] });
  const self = new MetricStore();
  new InternalMetrics(self);
  new CorrelationMetrics(self);
  new OtlpExportMetrics(self);
  registerLargeCaptureMetrics(self, () => ({ records: 0, bytes: 0, dropped: 0 }));
  registerTlsCallMetrics(self, () => ({ selected: 0, other: 0 }));
  registerPropagationMetrics(self, { active: 'tcp' }, () => ({ written: 0, read: 0, used: 0, injected: 0, present: 0, boundary: 0, tls: 0, other: 0, evicted: 0, h2: 0, h2Lost: 0 }));
  new NodeContextLinker().registerMetrics(self);
  registerNodeAttachMetrics(self, () => ({ attached: 0, app_sigusr1_handler: 0, no_inspector: 0, unknown_handler: 0, probe_timeout: 0, other_netns: 0, inspector_not_listening: 0, inspector_failed: 0 }));
  return [
    {
      title: 'Application metrics',
      note:
        'with `metrics.features: application` (the default); DNS only when `dns` is instrumented, GenAI only when `genai` is (and a provider enabled under `ebpf.payload_extraction.http.genai`). With Kubernetes metadata every application metric also has ' +
        '`k8s_namespace_name`, `k8s_pod_name`, `k8s_container_name`, `k8s_deployment_name`, `k8s_replicaset_name`, `k8s_daemonset_name`, `k8s_statefulset_name`, ' +
        '`k8s_job_name`, `k8s_cronjob_name`, `k8s_node_name`, `k8s_pod_uid`, `k8s_pod_start_time`, `k8s_cluster_name`, `k8s_owner_name`, `k8s_kind`; with Docker ' +
        'metadata and no Kubernetes, `container_name` (`container_id` on request) (src/telemetry/meta-attrs.ts)',
      families: app.families(),
    },
    { title: 'Span metrics and service graph', note: '`application_span_otel`, `application_service_graph`', families: span.families() },
    { title: 'Span metrics, legacy names', note: '`application_span`', families: legacy.families().filter((f) => f.name !== 'traces_target_info') },
    { title: "The agent's own metrics", note: 'on `internal_metrics.prometheus` when set, else beside the application metrics; `obi_ebpf_large_capture_*` only while the larger HTTP capture is on (`ebpf.buffer_sizes.http`)', families: self.families() },
  ];
}

export function generateMetrics(): string {
  const lines = [
    '# Metrics',
    '',
    'GENERATED by `node scripts/gen-reference.ts` from the metric families the agent registers; do not',
    'edit. Labels are those shown by default (`attributes.select` adds or removes them; Prometheus',
    'label = attribute name with `.` → `_`; `job` and `instance` are Prometheus-only). OTLP uses the',
    'OTel name, unit and attributes; Prometheus the exposition name. Histogram buckets:',
    '[obi-compat §2.2](../devdocs/obi-compat.md).',
    '',
  ];
  for (const g of metricGroups()) {
    lines.push(`## ${g.title}`, '', `${g.note}.`, '', '| Prometheus | OTel | type | unit | labels | description |', '|---|---|---|---|---|---|');
    for (const f of g.families) {
      const labels = f.labelNames.length === 0 ? '' : f.labelNames.map((l) => `\`${l}\``).join(', ');
      lines.push(`| \`${f.promName}\` | \`${f.name}\` | ${f.kind} | ${f.unit === '' ? '' : `\`${f.unit}\``} | ${labels} | ${f.help.replace(/\|/g, '\\|')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [doc, text] of [[SPANS_DOC, await generate()], [METRICS_DOC, generateMetrics()]] as const) {
    const target = join(ROOT, doc);
    if (process.argv.includes('--check')) {
      if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
        console.error(`${doc} is stale: run node scripts/gen-reference.ts`);
        process.exit(1);
      }
    } else writeFileSync(target, text);
  }
}
