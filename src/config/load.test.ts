// Over 400 lines: one case per configuration rule and message, kept beside each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type EffectiveConfig } from './load.ts';
import { resolveOtlp } from './otlp.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const fixture = (name: string): string => join(FIXTURES, name);
const PRINTER = { OTEL_EBPF_TRACE_PRINTER: 'text' };

const tmp = mkdtempSync(join(tmpdir(), 'obi-ts-config-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let tmpCount = 0;
/** Writes `text` to a fresh file and returns its path. */
function yamlFile(text: string): string {
  const path = join(tmp, `cfg-${tmpCount++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function invalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'OBI_ERR_CONFIG_INVALID');
    assert.equal((e as Error).message, message);
    return true;
  });
}

const DEFAULT_EXCLUDE = [
  { exePath: '{*/obi,obi,*beyla,*alloy,*ebpf-instrument,*otelcol,*otelcol-contrib,*otelcol-contrib[!/]*}' },
  // OBI's system namespaces: a metadata selector, active where Kubernetes metadata is on
  {
    metadata: {
      k8s_namespace:
        '{kube-system,kube-node-lease,local-path-storage,grafana-alloy,cert-manager,monitoring,gke-connect,gke-gmp-system,gke-managed-cim,gke-managed-filestorecsi,gke-managed-metrics-server,gke-managed-system,gke-system,gke-managed-volumepopulator,gatekeeper-system}',
    },
  },
];

// ------------------------------------------------------------------ fixtures that load

test('minimal OBI file: open_port + trace_printer, everything else defaulted', () => {
  const c = loadConfig({ configPath: fixture('minimal.yaml'), env: {} });
  assert.deepEqual(c.selectors, [{ openPorts: [{ start: 8080, end: 8080 }] }]);
  assert.deepEqual(c.excludeSelectors, DEFAULT_EXCLUDE);
  assert.equal(c.open_port, 8080);
  assert.equal(c.trace_printer, 'text');
  assert.equal(c.log_level, 'INFO');
  assert.equal(c.shutdown_timeout, '10s');
  assert.equal(c.discovery.poll_interval, '5s');
  assert.equal(c.discovery.exclude_otel_instrumented_services, true);
  assert.equal(c.ebpf.capture_size, 1024);
  assert.equal(c.ebpf.ring_buffer_size, 4194304);
  assert.equal(c.ringBufferSizeSet, false);
  assert.equal(c.ebpf.drain_interval, '10ms');
  assert.equal(c.ebpf.wakeup_len, 500);
  assert.equal(c.ebpf.buffer_sizes.http, 0);
  assert.equal(c.otel_metrics_export.interval, '60s');
  assert.deepEqual(c.otel_metrics_export.buckets.duration_histogram, [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  assert.deepEqual(c.otel_traces_export.instrumentations, ['http', 'grpc', 'sql', 'redis', 'kafka', 'mqtt', 'nats', 'amqp', 'mongo', 'couchbase', 'memcached', 'sunrpc', 'aerospike']);
  assert.equal(c.otel_traces_export.sampler.name, 'parentbased_always_on');
  assert.equal(c.prometheus_export.path, '/metrics');
  assert.equal(c.routes.unmatched, 'heuristic');
  assert.deepEqual(c.metrics.features, ['application']);
  assert.deepEqual(c.metricFeatures, ['application']);
  assert.equal(c.internalMetricsExporter, 'disabled');
  assert.equal(c.configPath, fixture('minimal.yaml'));
  assert.deepEqual(c.loadWarnings, []);
  assert.equal(resolveOtlp(c, 'traces'), undefined);
  assert.equal(resolveOtlp(c, 'metrics'), undefined);
});

test('the result is deeply frozen', () => {
  const c = loadConfig({ configPath: fixture('minimal.yaml'), env: {} });
  assert.throws(() => {
    (c as { log_level: string }).log_level = 'DEBUG';
  }, TypeError);
  assert.throws(() => {
    (c.discovery.instrument as unknown[]).push({});
  }, TypeError);
  assert.ok(Object.isFrozen(c.selectors[0]!.openPorts![0]));
  assert.ok(Object.isFrozen(c.otel_metrics_export.buckets.duration_histogram));
});

test('kitchen-sink: every section of an OBI file loads unchanged', () => {
  const c = loadConfig({ configPath: fixture('kitchen-sink.yaml'), env: {} });
  assert.equal(c.log_level, 'DEBUG');
  assert.equal(c.discovery.poll_interval, '500ms');
  assert.deepEqual(c.selectors, [
    { name: 'checkout', namespace: 'shop', openPorts: [{ start: 8080, end: 8080 }] },
    { openPorts: [{ start: 8000, end: 8099 }, { start: 9000, end: 9000 }], exePath: '*/bin/catalog', exports: ['traces'] },
    { cmdArgs: '*--worker*', languages: '{python,ruby}', containersOnly: true },
    { metadata: { k8s_namespace: 'payments', k8s_pod_labels: { app: 'ledger' } } },
  ]);
  assert.deepEqual(c.excludeSelectors, [{ exePath: '*/healthcheck' }, { exePath: '{*/obi,*otelcol*}' }]);
  assert.deepEqual(c.loadWarnings, []);
  assert.equal(c.discovery.instrument[2]!.sampler?.arg, '0.25');
  assert.equal(c.ebpf.context_propagation, 'headers,tcp');
  assert.equal(c.ebpf.payload_extraction.http.genai.openai.enabled, true);
  assert.equal(c.ebpf.payload_extraction.http.genai.anthropic.enabled, false);
  assert.equal(c.ebpf.capture_size, 2048);
  assert.deepEqual(c.otel_metrics_export.buckets.duration_histogram, [0, 0.01, 0.1, 1, 10]);
  assert.deepEqual(c.otel_metrics_export.buckets.request_size_histogram, [0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]);
  assert.deepEqual(c.prometheus_export.buckets.request_size_histogram, [0, 128, 1024]);
  assert.deepEqual(c.attributes.select['*'], { include: ['*'] });
  assert.equal(c.attributes.kubernetes.enable, 'false');
  assert.deepEqual(c.filter.application.url_path, { not_match: '/metrics' });
  assert.equal(c.routes.unmatched, 'low-cardinality');
  assert.equal(c.network.agent_ip_iface, 'name:eth0');
  assert.deepEqual(c.metricFeatures, ['application', 'application_span', 'application_service_graph', 'application_host', 'network']);
  assert.equal(c.internalMetricsExporter, 'prometheus');
  assert.deepEqual(resolveOtlp(c, 'traces'), { endpoint: 'http://otelcol:4317', protocol: 'grpc', headers: {} });
  assert.deepEqual(resolveOtlp(c, 'metrics'), { endpoint: 'http://otelcol:4318/v1/metrics', protocol: 'http/protobuf', headers: {} });
});

// ------------------------------------------------------------------ broken fixtures: exact messages

test('broken files: every problem named with YAML path, env var, value and line', () => {
  const cases: [string, string[]][] = [
    ['unknown-top-level.yaml', ['  - otel_trace_export: unknown key; did you mean "otel_traces_export"? (line 3)']],
    ['unknown-nested.yaml', ['  - discovery.instrument[0].open_portz: unknown key; did you mean "open_ports"? (line 5)']],
    ['wrong-type.yaml', ['  - prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT): must be an integer; got "9090x" at line 4']],
    ['bad-enum.yaml', ['  - trace_printer (env OTEL_EBPF_TRACE_PRINTER): must be one of disabled, counter, text, json, json_indent; got "verbose" at line 2']],
    ['bad-duration.yaml', ['  - discovery.poll_interval (env OTEL_EBPF_DISCOVERY_POLL_INTERVAL): must be a duration such as 500ms, 5s, 1m30s or 1h; got "5 seconds" at line 4']],
    ['bad-port-range.yaml', ['  - open_port (env OTEL_EBPF_OPEN_PORT): port range 90-80 is reversed (start > end); got "90-80" at line 1']],
    ['two-errors.yaml', [
      '  - trace_printer (env OTEL_EBPF_TRACE_PRINTER): must be one of disabled, counter, text, json, json_indent; got "texts" at line 2',
      '  - ebpf.wakup_len: unknown key; did you mean "wakeup_len"? (line 4)',
    ]],
    ['span-formats.yaml', ['  - metrics.features (env OTEL_EBPF_METRICS_FEATURES, OTEL_EBPF_METRIC_FEATURES): application_span and application_span_otel are mutually exclusive; choose one span metrics format; got ["application_span","application_span_otel"] at line 4']],
    ['nothing-selected.yaml', ['  - nothing to instrument: select processes with open_port (env OTEL_EBPF_OPEN_PORT), discovery.instrument, target_pids (env OTEL_EBPF_TARGET_PID), env OTEL_EBPF_AUTO_TARGET_EXE or OTEL_EBPF_AUTO_TARGET_LANGUAGE, or executable_path (env OTEL_EBPF_EXECUTABLE_PATH); or enable network or stats metrics in metrics.features (env OTEL_EBPF_METRICS_FEATURES)']],
    ['no-exporter.yaml', ['  - no exporter for application telemetry: set trace_printer (env OTEL_EBPF_TRACE_PRINTER), otel_traces_export.endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT)']],
  ];
  for (const [file, lines] of cases) {
    const path = fixture(`broken/${file}`);
    const head = `invalid configuration in ${path} (${lines.length} problem${lines.length === 1 ? '' : 's'}):`;
    invalid(() => loadConfig({ configPath: path, env: {} }), [head, ...lines].join('\n'));
  }
});

test('YAML syntax errors: OBI_ERR_CONFIG_FILE with line and column', () => {
  const path = fixture('broken/syntax-error.yaml');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), {
    code: 'OBI_ERR_CONFIG_FILE',
    message: `cannot parse configuration file ${path}: line 7, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  });
  const dup = yamlFile('open_port: 80\nopen_port: 81\n');
  assert.throws(() => loadConfig({ configPath: dup, env: {} }), {
    code: 'OBI_ERR_CONFIG_FILE',
    message: `cannot parse configuration file ${dup}: line 2, column 1: Map keys must be unique`,
  });
});

test('missing file: OBI_ERR_CONFIG_FILE, naming OTEL_EBPF_CONFIG_PATH when it came from there', () => {
  assert.throws(() => loadConfig({ configPath: '/nonexistent/obi.yaml', env: {} }), {
    code: 'OBI_ERR_CONFIG_FILE',
    message: 'cannot read configuration file /nonexistent/obi.yaml: no such file',
  });
  assert.throws(() => loadConfig({ env: { OTEL_EBPF_CONFIG_PATH: '/nonexistent/env.yaml' } }), {
    code: 'OBI_ERR_CONFIG_FILE',
    message: 'cannot read configuration file /nonexistent/env.yaml (env OTEL_EBPF_CONFIG_PATH): no such file',
  });
  assert.throws(() => loadConfig({ configPath: tmp, env: {} }), { code: 'OBI_ERR_CONFIG_FILE', message: `cannot read configuration file ${tmp}: is a directory` });
});

test('a file that is not a mapping is rejected', () => {
  const path = yamlFile('- open_port: 80\n');
  invalid(() => loadConfig({ configPath: path, env: {} }), `invalid configuration in ${path} (1 problem):\n  - (root): the file must contain a mapping of configuration keys; got [{"open_port":80}]`);
  const empty = yamlFile('# nothing\n');
  assert.equal(loadConfig({ configPath: empty, env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER } }).open_port, '80');
});

test('misplaced and foreign keys get targeted hints', () => {
  const path = yamlFile('open_port: 80\ntrace_printer: text\npoll_interval: 1s\nversion: "2.0"\nzzz_totally_unknown: 1\n');
  invalid(() => loadConfig({ configPath: path, env: {} }), [
    `invalid configuration in ${path} (3 problems):`,
    '  - poll_interval: unknown key here; did you mean "discovery.poll_interval"? (line 3)',
    '  - version: unknown key: configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format (line 4)',
    '  - zzz_totally_unknown: unknown key (line 5)',
  ].join('\n'));
});

// ------------------------------------------------------------------ precedence and env

test('OTEL_EBPF_CONFIG_PATH wins over --config', () => {
  const c = loadConfig({ configPath: fixture('broken/bad-enum.yaml'), env: { OTEL_EBPF_CONFIG_PATH: fixture('minimal.yaml') } });
  assert.equal(c.configPath, fixture('minimal.yaml'));
});

test('env overrides the file, the file overrides defaults', () => {
  const c = loadConfig({
    configPath: fixture('minimal.yaml'),
    env: { OTEL_EBPF_OPEN_PORT: '9090,9443', OTEL_EBPF_TRACE_PRINTER: 'json', OTEL_EBPF_LOG_LEVEL: 'warn', OTEL_EBPF_BPF_BATCH_TIMEOUT: '10ms' },
  });
  assert.deepEqual(c.selectors, [{ openPorts: [{ start: 9090, end: 9090 }, { start: 9443, end: 9443 }] }]);
  assert.equal(c.trace_printer, 'json');
  assert.equal(c.log_level, 'WARN');
  assert.equal(c.ebpf.batch_timeout, '10ms');
  assert.equal(c.ebpf.batch_length, 100);
});

test('empty env vars count as unset', () => {
  const c = loadConfig({ configPath: fixture('minimal.yaml'), env: { OTEL_EBPF_TRACE_PRINTER: '', OTEL_EBPF_OPEN_PORT: '' } });
  assert.equal(c.trace_printer, 'text');
  assert.equal(c.open_port, 8080);
});

test('${VAR:-default}, ${VAR}, $(VAR), ${env:VAR} and $$ in the file', () => {
  const env = { PRINTER: 'json', SVC_NAME: 'checkout', COLLECTOR_HOST: 'otel' };
  const c = loadConfig({ configPath: fixture('env-substitution.yaml'), env });
  assert.equal(c.open_port, 8080);
  assert.equal(c.trace_printer, 'json');
  assert.equal(c.service_name, 'checkout');
  assert.equal(c.otel_traces_export.endpoint, 'http://otel:4318/v1/traces');
  assert.deepEqual(c.routes.patterns, ['/price/$amount']);
  assert.equal(c.routes.unmatched, 'path');
  assert.deepEqual(c.selectors, [{ name: 'checkout', openPorts: [{ start: 8080, end: 8080 }] }]);
  const overridden = loadConfig({ configPath: fixture('env-substitution.yaml'), env: { ...env, APP_PORT: '9000', UNMATCHED: 'wildcard' } });
  assert.equal(overridden.open_port, 9000);
  assert.equal(overridden.routes.unmatched, 'wildcard');
});

test('an unset ${VAR} becomes empty, with a warning; here it breaks the endpoint', () => {
  const path = fixture('env-substitution.yaml');
  invalid(() => loadConfig({ configPath: path, env: { PRINTER: 'json', SVC_NAME: 'x' } }), [
    `invalid configuration in ${path} (1 problem):`,
    '  - otel_traces_export.endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): must be a URL with a scheme and a host, such as http://localhost:4318; got "http://:4318/v1/traces" at line 5',
  ].join('\n'));
  const file = yamlFile('open_port: 80\ntrace_printer: text\nservice_name: ${NOPE}svc\n');
  const c = loadConfig({ configPath: file, env: {} });
  assert.equal(c.service_name, 'svc');
  assert.deepEqual(c.loadWarnings, [`${file} references \${NOPE} but NOPE is not set; it was replaced by an empty string`]);
});

test('Beyla compatibility: BEYLA_OPEN_PORT and friends', () => {
  const c = loadConfig({ env: { BEYLA_OPEN_PORT: '8080', BEYLA_TRACE_PRINTER: 'text', BEYLA_SERVICE_NAMESPACE: 'legacy' } });
  assert.deepEqual(c.selectors, [{ namespace: 'legacy', openPorts: [{ start: 8080, end: 8080 }] }]);
  const both = loadConfig({ env: { BEYLA_OPEN_PORT: '8080', OTEL_EBPF_OPEN_PORT: '9090', ...PRINTER } });
  assert.deepEqual(both.selectors, [{ openPorts: [{ start: 9090, end: 9090 }] }]);
});

test('OTEL_EBPF_TARGET_PID: comma list of PIDs', () => {
  const c = loadConfig({ env: { OTEL_EBPF_TARGET_PID: '1234, 5678', ...PRINTER } });
  assert.deepEqual(c.selectors, [{ targetPids: [1234, 5678] }]);
  invalid(() => loadConfig({ env: { OTEL_EBPF_TARGET_PID: '1234,abc', ...PRINTER } }), [
    'invalid configuration (1 problem):',
    '  - target_pids (env OTEL_EBPF_TARGET_PID): "abc" is not a PID or a range of them; got "1234,abc" from OTEL_EBPF_TARGET_PID',
  ].join('\n'));
});

test('exe and port shortcuts AND into one selector (OBI), named by OTEL_SERVICE_NAME', () => {
  const c = loadConfig({
    env: { OTEL_EBPF_AUTO_TARGET_EXE: '*/nginx', OTEL_EBPF_OPEN_PORT: '80,443', OTEL_SERVICE_NAME: 'web', ...PRINTER },
  });
  assert.deepEqual(c.selectors, [{ name: 'web', openPorts: [{ start: 80, end: 80 }, { start: 443, end: 443 }], exePath: '*/nginx' }]);
  const goCompat = loadConfig({ env: { OTEL_GO_AUTO_TARGET_EXE: '*/server', OTEL_EBPF_AUTO_TARGET_LANGUAGE: 'go', ...PRINTER } });
  assert.deepEqual(goCompat.selectors, [{ exePath: '*/server', languages: 'go' }]);
  const ebpfWins = loadConfig({ env: { OTEL_GO_AUTO_TARGET_EXE: '*/a', OTEL_EBPF_AUTO_TARGET_EXE: '*/b', ...PRINTER } });
  assert.equal(ebpfWins.selectors[0]!.exePath, '*/b');
});

test('shortcut selector comes after discovery.instrument entries', () => {
  const path = yamlFile('trace_printer: text\nopen_port: 80\ndiscovery:\n  instrument:\n    - exe_path: "*/java"\n');
  const c = loadConfig({ configPath: path, env: {} });
  assert.deepEqual(c.selectors, [{ exePath: '*/java' }, { openPorts: [{ start: 80, end: 80 }] }]);
});

test('env values with a wrong syntax are reported together, each naming its variable', () => {
  invalid(() => loadConfig({
    env: {
      OTEL_EBPF_OPEN_PORT: '80',
      ...PRINTER,
      OTEL_EBPF_PROMETHEUS_PORT: 'abc',
      OTEL_EBPF_ENFORCE_SYS_CAPS: 'yes',
      OTEL_METRIC_EXPORT_INTERVAL: '5s',
      OTEL_EBPF_BPF_WAKEUP_LEN: '1.5',
      OTEL_EBPF_DISCOVERY_POLL_INTERVAL: '5',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http',
    },
  }), [
    'invalid configuration (7 problems):',
    '  - enforce_sys_caps (env OTEL_EBPF_ENFORCE_SYS_CAPS): must be true or false; got "yes" from OTEL_EBPF_ENFORCE_SYS_CAPS',
    '  - ebpf.wakeup_len (env OTEL_EBPF_BPF_WAKEUP_LEN): must be an integer; got "1.5" from OTEL_EBPF_BPF_WAKEUP_LEN',
    '  - prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT): must be an integer; got "abc" from OTEL_EBPF_PROMETHEUS_PORT',
    '  - otel_metrics_export.interval (env OTEL_EBPF_METRICS_INTERVAL, OTEL_METRIC_EXPORT_INTERVAL): must be a whole number of milliseconds; got "5s" from OTEL_METRIC_EXPORT_INTERVAL',
    '  - discovery.poll_interval (env OTEL_EBPF_DISCOVERY_POLL_INTERVAL): must be a duration such as 500ms, 5s, 1m30s or 1h; got "5" from OTEL_EBPF_DISCOVERY_POLL_INTERVAL',
    '  - otel_metrics_export.protocol (env OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL): must be one of grpc, http/protobuf, http/json; got "http" from OTEL_EXPORTER_OTLP_PROTOCOL',
    '  - otel_traces_export.protocol (env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL): must be one of grpc, http/protobuf, http/json; got "http" from OTEL_EXPORTER_OTLP_PROTOCOL',
  ].join('\n'));
});

test('OTEL_METRIC_EXPORT_INTERVAL (ms) is a fallback below the file and OTEL_EBPF_METRICS_INTERVAL', () => {
  const base = { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER };
  assert.equal(loadConfig({ env: { ...base, OTEL_METRIC_EXPORT_INTERVAL: '5000' } }).otel_metrics_export.interval, '5000ms');
  assert.equal(loadConfig({ env: { ...base, OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_EBPF_METRICS_INTERVAL: '2s' } }).otel_metrics_export.interval, '2s');
  assert.equal(loadConfig({ configPath: fixture('kitchen-sink.yaml'), env: { OTEL_METRIC_EXPORT_INTERVAL: '5000' } }).otel_metrics_export.interval, '10s');
});

test('OTLP env: common endpoint, per-signal protocol and headers', () => {
  const c = loadConfig({
    env: {
      OTEL_EBPF_OPEN_PORT: '80',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-scope=metrics',
    },
  });
  assert.deepEqual(resolveOtlp(c, 'traces'), { endpoint: 'http://collector:4317', protocol: 'grpc', headers: { authorization: 'Bearer t0k' } });
  assert.deepEqual(resolveOtlp(c, 'metrics'), {
    endpoint: 'http://collector:4318/v1/metrics', protocol: 'http/protobuf', headers: { authorization: 'Bearer t0k', 'x-scope': 'metrics' },
  });
});

test('OTLP env errors: endpoint without scheme, headers without =', () => {
  invalid(() => loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4317', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'token' } }), [
    'invalid configuration (3 problems):',
    '  - otel_metrics_export.common_endpoint (env OTEL_EXPORTER_OTLP_ENDPOINT): must be a URL with a scheme and a host, such as http://localhost:4318; got "localhost:4317" from OTEL_EXPORTER_OTLP_ENDPOINT',
    '  - otel_traces_export.common_endpoint (env OTEL_EXPORTER_OTLP_ENDPOINT): must be a URL with a scheme and a host, such as http://localhost:4318; got "localhost:4317" from OTEL_EXPORTER_OTLP_ENDPOINT',
    '  - otel_traces_export.headers (env OTEL_EXPORTER_OTLP_TRACES_HEADERS): header entry "token" is not key=value (expected k=v,k2=v2) (from OTEL_EXPORTER_OTLP_TRACES_HEADERS)',
  ].join('\n'));
});

test('sampler: names from OTEL_TRACES_SAMPLER, ratio checked', () => {
  const ok = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } });
  assert.deepEqual(ok.otel_traces_export.sampler, { name: 'traceidratio', arg: '0.1' });
  invalid(() => loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' } }), [
    'invalid configuration (1 problem):',
    '  - otel_traces_export.sampler.arg (env OTEL_TRACES_SAMPLER_ARG): must be a ratio between 0 and 1 for sampler parentbased_traceidratio; got "2" from OTEL_TRACES_SAMPLER_ARG',
  ].join('\n'));
  invalid(() => loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_TRACES_SAMPLER: 'jaeger_remote' } }), [
    'invalid configuration (1 problem):',
    '  - otel_traces_export.sampler.name (env OTEL_TRACES_SAMPLER): must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; got "jaeger_remote" from OTEL_TRACES_SAMPLER',
  ].join('\n'));
});

test('obi-ts eBPF extension keys: bounds and power of two', () => {
  const c = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_EBPF_BPF_CAPTURE_SIZE: '4096', OTEL_EBPF_BPF_RING_BUFFER_SIZE: '16777216', OTEL_EBPF_BPF_DRAIN_INTERVAL: '1ms' } });
  assert.equal(c.ebpf.capture_size, 4096);
  assert.equal(c.ebpf.ring_buffer_size, 16777216);
  assert.equal(c.ringBufferSizeSet, true);
  assert.equal(c.ebpf.drain_interval, '1ms');
  invalid(() => loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_EBPF_BPF_CAPTURE_SIZE: '32', OTEL_EBPF_BPF_RING_BUFFER_SIZE: '5000' } }), [
    'invalid configuration (2 problems):',
    '  - ebpf.capture_size (env OTEL_EBPF_BPF_CAPTURE_SIZE): must be >= 64; got 32 from OTEL_EBPF_BPF_CAPTURE_SIZE',
    '  - ebpf.ring_buffer_size (env OTEL_EBPF_BPF_RING_BUFFER_SIZE): must be a power of two; got 5000 from OTEL_EBPF_BPF_RING_BUFFER_SIZE',
  ].join('\n'));
});

test('buffer size caps (OBI: 262144 for http, 65536 for the others)', () => {
  invalid(() => loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '262145', OTEL_EBPF_BPF_BUFFER_SIZE_KAFKA: '65537' } }), [
    'invalid configuration (2 problems):',
    '  - ebpf.buffer_sizes.http (env OTEL_EBPF_BPF_BUFFER_SIZE_HTTP): must be <= 262144; got 262145 from OTEL_EBPF_BPF_BUFFER_SIZE_HTTP',
    '  - ebpf.buffer_sizes.kafka (env OTEL_EBPF_BPF_BUFFER_SIZE_KAFKA): must be <= 65536; got 65537 from OTEL_EBPF_BPF_BUFFER_SIZE_KAFKA',
  ].join('\n'));
});

// ------------------------------------------------------------------ YAML normalisation

test('YAML leniency as in OBI: case-insensitive log_level, yes/no booleans, null = unset, comma-string lists, scalars into strings', () => {
  const path = yamlFile([
    'open_port: 80', 'trace_printer: text', 'log_level: Debug', 'enforce_sys_caps: yes', 'service_name:',
    'metrics:', '  features: application,application_span', 'attributes:', '  kubernetes:', '    enable: true',
    'otel_traces_export:', '  sampler:', '    arg: 0.5', 'discovery:', '  poll_interval: 0', '  instrument:', '    - exe_path: "*"', '      exports: metrics',
  ].join('\n'));
  const c = loadConfig({ configPath: path, env: {} });
  assert.equal(c.log_level, 'DEBUG');
  assert.equal(c.enforce_sys_caps, true);
  assert.equal(c.service_name, undefined);
  assert.deepEqual(c.metrics.features, ['application', 'application_span']);
  assert.equal(c.attributes.kubernetes.enable, 'true');
  assert.equal(c.otel_traces_export.sampler.arg, '0.5');
  assert.equal(c.discovery.poll_interval, '5s');
  assert.deepEqual(c.selectors, [{ exePath: '*', exports: ['metrics'] }, { openPorts: [{ start: 80, end: 80 }] }]);
});

test('YAML anchors and merge keys work as in Go yaml.v3', () => {
  const path = yamlFile('trace_printer: text\ndiscovery:\n  instrument:\n    - &base { exe_path: "*/svc", containers_only: true }\n    - <<: *base\n      open_ports: 81\n');
  const c = loadConfig({ configPath: path, env: {} });
  assert.deepEqual(c.selectors, [{ exePath: '*/svc', containersOnly: true }, { openPorts: [{ start: 81, end: 81 }], exePath: '*/svc', containersOnly: true }]);
});

// ------------------------------------------------------------------ derived views and cross rules

test('deprecated regex services are used only without instrument; regex cmd_args is refused', () => {
  const path = yamlFile('trace_printer: text\ndiscovery:\n  services:\n    - exe_path: "^/usr/bin/python3$"\n      open_ports: 5000\n');
  const c = loadConfig({ configPath: path, env: {} });
  assert.deepEqual(c.selectors, [{ openPorts: [{ start: 5000, end: 5000 }], exePathRegexp: '^/usr/bin/python3$' }]);
  // default_exclude_instrument (executables, system namespaces) + default_exclude_services' executables
  // (its regular-expression k8s_namespace entry is left out: metadata is matched in the glob form)
  assert.equal(c.excludeSelectors.length, 3);
  assert.deepEqual(c.excludeSelectors[2], { exePathRegexp: '(?:^|/)(beyla$|alloy$|otelcol[^/]*$)' });

  const bad = yamlFile('trace_printer: text\ndiscovery:\n  services:\n    - exe_path: "(unclosed"\n      cmd_args: ".*--serve.*"\n');
  invalid(() => loadConfig({ configPath: bad, env: {} }), [
    `invalid configuration in ${bad} (2 problems):`,
    '  - discovery.services[0].exe_path: is not a valid regular expression (/(unclosed/: Unterminated group); got "(unclosed" at line 4',
    '  - discovery.services[0].cmd_args: regular-expression cmd_args is not supported by obi-ts; use the glob form in discovery.instrument[].cmd_args; got ".*--serve.*" at line 5',
  ].join('\n'));
});

test('entries without a process criterion are ignored with a warning', () => {
  const path = yamlFile('trace_printer: text\nopen_port: 80\ndiscovery:\n  instrument:\n    - name: lonely\n      containers_only: true\n');
  const c = loadConfig({ configPath: path, env: {} });
  assert.deepEqual(c.selectors, [{ openPorts: [{ start: 80, end: 80 }] }]);
  assert.deepEqual(c.loadWarnings, ['discovery.instrument[0] is ignored: it has no criterion (open_ports, exe_path, cmd_args, languages, target_pids, k8s_*, container_name)']);
});

test('default_exclude_instrument: [] allows everything', () => {
  const path = yamlFile('trace_printer: text\nopen_port: 80\ndiscovery:\n  default_exclude_instrument: []\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).excludeSelectors, []);
});

test('metric features: all expanded, deprecated per-exporter features win when the exporter is on, network.enable adds network', () => {
  const all = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', OTEL_EBPF_PROMETHEUS_PORT: '9400', OTEL_EBPF_METRICS_FEATURES: 'all' } });
  assert.deepEqual(all.metricFeatures, [
    'application', 'application_span', 'application_span_sizes', 'application_service_graph', 'application_host',
    'application_runtime', 'network', 'network_inter_zone', 'network_flow_packets', 'stats', 'stats_tcp_rtt',
    'stats_tcp_failed_connections', 'stats_tcp_retransmits', 'stats_tcp_io', 'ebpf',
  ]);
  const dep = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', OTEL_EBPF_PROMETHEUS_PORT: '9400', OTEL_EBPF_PROMETHEUS_FEATURES: 'application_span', OTEL_EBPF_NETWORK_METRICS: 'true' } });
  assert.deepEqual(dep.metricFeatures, ['application_span', 'network']);
  const off = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_EBPF_PROMETHEUS_FEATURES: 'application_span' } });
  assert.deepEqual(off.metricFeatures, ['application']);
});

test('network-only configuration needs a metrics exporter or print_flows', () => {
  const c = loadConfig({ env: { OTEL_EBPF_METRICS_FEATURES: 'network', OTEL_EBPF_NETWORK_PRINT_FLOWS: 'true' } });
  assert.deepEqual(c.selectors, []);
  assert.deepEqual(c.metricFeatures, ['network']);
  invalid(() => loadConfig({ env: { OTEL_EBPF_METRICS_FEATURES: 'network' } }), [
    'invalid configuration (1 problem):',
    '  - network metrics need a metrics exporter: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) or prometheus_export.port (env OTEL_EBPF_PROMETHEUS_PORT), or network.print_flows (env OTEL_EBPF_NETWORK_PRINT_FLOWS)',
  ].join('\n'));
});

test('internal metrics: the port alone selects prometheus; otel needs OTLP metrics and excludes prometheus', () => {
  const base = { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER };
  assert.equal(loadConfig({ env: { ...base, OTEL_EBPF_INTERNAL_METRICS_PROMETHEUS_PORT: '8999' } }).internalMetricsExporter, 'prometheus');
  invalid(() => loadConfig({ env: { ...base, OTEL_EBPF_INTERNAL_METRICS_EXPORTER: 'otel', OTEL_EBPF_INTERNAL_METRICS_PROMETHEUS_PORT: '8999' } }), [
    'invalid configuration (2 problems):',
    '  - internal_metrics.exporter (env OTEL_EBPF_INTERNAL_METRICS_EXPORTER): otel cannot be combined with internal_metrics.prometheus.port; enable one internal metrics exporter; got "otel" from OTEL_EBPF_INTERNAL_METRICS_EXPORTER',
    '  - internal_metrics.exporter (env OTEL_EBPF_INTERNAL_METRICS_EXPORTER): otel needs OTLP metrics export: set otel_metrics_export.endpoint (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT); got "otel" from OTEL_EBPF_INTERNAL_METRICS_EXPORTER',
  ].join('\n'));
  const otel = loadConfig({ env: { ...base, OTEL_EBPF_INTERNAL_METRICS_EXPORTER: 'otel', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' } });
  assert.equal(otel.internalMetricsExporter, 'otel');
});

test('unknown OTEL_EBPF_* env vars are warnings with a suggestion', () => {
  const c = loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', ...PRINTER, OTEL_EBPF_OPEN_PROT: '81', OTEL_EBPF_SOMETHING_ELSE_ENTIRELY: '1' } });
  assert.deepEqual(c.loadWarnings, [
    'unknown environment variable OTEL_EBPF_OPEN_PROT is ignored; did you mean OTEL_EBPF_OPEN_PORT?',
    'unknown environment variable OTEL_EBPF_SOMETHING_ELSE_ENTIRELY is ignored',
  ]);
});

test('loading the same inputs twice gives equal, independent results', () => {
  const a: EffectiveConfig = loadConfig({ configPath: fixture('kitchen-sink.yaml'), env: {} });
  const b: EffectiveConfig = loadConfig({ configPath: fixture('kitchen-sink.yaml'), env: {} });
  assert.deepEqual(a, b);
  assert.notEqual(a.discovery, b.discovery);
});
