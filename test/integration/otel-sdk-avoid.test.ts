/**
 * `discovery.exclude_otel_instrumented_services` (issue 11 item 4) with real processes: Node.js
 * services instrumented with the OpenTelemetry JS SDK (test/helpers/apps/otel-sdk-app.mjs: the
 * tracing and metrics SDKs and their OTLP exporters) exporting to the test OTLP receiver over
 * http/protobuf and over gRPC. Once obi-ts has seen a service's successful exports it emits no
 * more spans (traces exported) and no more application metrics (metrics exported) for it, and
 * `obi_avoided_services` names it; with the option false everything still appears; an SDK
 * exporting to a dead endpoint (its exports fail) stays instrumented. Exact counts throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, nodeBin, startProcess, waitFor, waitForPort, sleep, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';

const APP = join(import.meta.dirname, '../helpers/apps/otel-sdk-app.mjs');

interface App {
  readonly name: string;
  readonly port: number;
  readonly proc: Proc;
}

async function get(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return await r.text();
}

async function startApp(agent: TestAgent, port: number, name: string, protocol: 'http' | 'grpc', endpoint: string): Promise<App> {
  const proc = startProcess(nodeBin, [APP, String(port), protocol, endpoint], { env: { PATH: process.env.PATH, OTEL_SERVICE_NAME: name } });
  await waitForPort(port);
  await agent.waitTracked(proc.pid, 20_000);
  return { name, port, proc };
}

/** 3 requests, a flush (both signals exported), 2 more requests */
async function exercise(app: App): Promise<string> {
  for (let i = 0; i < 3; i++) assert.equal(await get(app.port, '/work'), 'ok');
  const flushed = await get(app.port, '/flush');
  for (let i = 0; i < 2; i++) assert.equal(await get(app.port, '/work'), 'ok');
  return flushed;
}

const of = (app: App, kind?: string) => (s: SpanJSON) => s.service.pid === app.proc.pid && (kind === undefined || s.kind === kind);

/** http_server_request_duration_seconds_count of a service, summed over its series (routes) */
async function serverCount(agent: TestAgent, app: App): Promise<number> {
  const lines = (await agent.metrics()).split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes(`service_name="${app.name}"`));
  return lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** the SDK's own spans the receiver got over `protocol` */
const sdkSpans = (receiver: OtlpReceiver, protocol: 'http' | 'grpc'): number => receiver.spans.filter((s) => s.protocol === (protocol === 'http' ? 'http/protobuf' : 'grpc') && s.name === 'GET /work').length;

describe('SDK-instrumented services: no duplicate signals (exclude_otel_instrumented_services, default true)', () => {
  let receiver: OtlpReceiver;
  let agent: TestAgent;
  const apps: App[] = [];
  const ports: number[] = [];

  before(async () => {
    receiver = await OtlpReceiver.start();
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    // The exact boundary asserted below (the requests served after the first successful export
    // count nowhere) needs spans processed in the order they completed. The Node.js context linker
    // (on by default) holds an SDK app's spans for its reports, and the exports' client spans until
    // their /flush server span ends, so a later request's span could pass before the metrics export
    // that ends its metrics: CI saw 5 requests counted instead of 3. Off here; the boundary under
    // the linker is a few requests wide (docs/devdocs/correlation-node.md).
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: ports.join(','), OTEL_EBPF_NODEJS_ENABLED: 'false' });
  });

  after(async () => {
    for (const a of apps) await a.proc.kill();
    await agent?.stop();
    await receiver?.close();
  });

  for (const [i, protocol] of (['http', 'grpc'] as const).entries()) {
    test(`${protocol === 'http' ? 'http/protobuf' : 'gRPC'}: spans and metrics stop at the first successful export`, async () => {
      const name = `sdk-${protocol}`;
      const endpoint = protocol === 'http' ? `http://127.0.0.1:${receiver.httpPort}` : `http://127.0.0.1:${receiver.grpcPort}`;
      const app = await startApp(agent, ports[i], name, protocol, endpoint);
      apps.push(app);
      for (let i = 0; i < 3; i++) assert.equal(await get(app.port, '/work'), 'ok');
      await agent.waitSpans(3, of(app, 'server'));
      assert.equal(await get(app.port, '/flush'), '["fulfilled","fulfilled"]');
      await waitFor('the SDK spans', () => sdkSpans(receiver, protocol) === 3);
      for (let i = 0; i < 2; i++) assert.equal(await get(app.port, '/work'), 'ok');
      await waitFor('both avoided', async () => (await agent.metrics()).split('\n').filter((l) => l.startsWith('obi_avoided_services{') && l.includes(`service_name="${name}"`)).length === 2, 10_000);
      await sleep(1500); // nothing more may arrive
      // the SDK's own spans reached its receiver: the three /work spans
      assert.equal(sdkSpans(receiver, protocol), 3);
      // obi-ts: only the three requests served before the export; neither the flush, its exports nor later requests
      assert.deepEqual(agent.spans(of(app)).map((s) => `${s.kind} ${s.name}`), ['server GET /work', 'server GET /work', 'server GET /work']);
      assert.equal(await serverCount(agent, app), 3);
      const inst = agent.spans(of(app))[0].service.instanceId;
      for (const t of ['traces', 'metrics']) {
        assert.equal(await agent.metricValue('obi_avoided_services', { service_name: name, service_instance_id: inst, telemetry_type: t }), 1, t);
      }
      assert.equal(app.proc.child.exitCode, null);
    });
  }

  test('an SDK exporting to a dead endpoint (failed exports) is still instrumented', async () => {
    const dead = await freePort();
    const app = await startApp(agent, ports[2], 'sdk-dead', 'http', `http://127.0.0.1:${dead}`);
    apps.push(app);
    const flushed = await exercise(app);
    assert.equal(JSON.parse(flushed).length, 2); // the exports were attempted (connection refused)
    const spans = await agent.waitSpans(6, of(app));
    await sleep(1500);
    assert.equal(agent.spans(of(app)).length, 6);
    assert.equal(agent.spans(of(app, 'server')).length, 6);
    assert.equal(await serverCount(agent, app), 6);
    assert.equal(await agent.metricValue('obi_avoided_services', { service_name: 'sdk-dead' }), undefined);
    assert.equal(spans.every((s) => s.service.name === 'sdk-dead'), true);
  });
});

describe('SDK-instrumented services with exclude_otel_instrumented_services=false: both signals appear', () => {
  let receiver: OtlpReceiver;
  let agent: TestAgent;
  const apps: App[] = [];
  const ports: number[] = [];

  before(async () => {
    receiver = await OtlpReceiver.start();
    for (let i = 0; i < 2; i++) ports.push(await freePort());
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: ports.join(','), OTEL_EBPF_EXCLUDE_OTEL_INSTRUMENTED_SERVICES: 'false' });
  });

  after(async () => {
    for (const a of apps) await a.proc.kill();
    await agent?.stop();
    await receiver?.close();
  });

  for (const [i, protocol] of (['http', 'grpc'] as const).entries()) {
    test(`${protocol === 'http' ? 'http/protobuf' : 'gRPC'}: every request and both exports`, async () => {
      const name = `sdk-${protocol}-kept`;
      const endpoint = protocol === 'http' ? `http://127.0.0.1:${receiver.httpPort}` : `http://127.0.0.1:${receiver.grpcPort}`;
      const app = await startApp(agent, ports[i], name, protocol, endpoint);
      apps.push(app);
      assert.equal(await exercise(app), '["fulfilled","fulfilled"]');
      await agent.waitSpans(8, of(app));
      await sleep(1500);
      const spans = agent.spans(of(app));
      assert.equal(spans.filter((s) => s.kind === 'server').length, 6); // 5 × /work, 1 × /flush
      const clients = spans.filter((s) => s.kind === 'client').map((s) => s.name).sort();
      assert.deepEqual(
        clients,
        protocol === 'http'
          ? ['POST /v1/metrics', 'POST /v1/traces']
          : ['/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'],
      );
      assert.equal(await serverCount(agent, app), 6);
      assert.equal(await agent.metricValue('obi_avoided_services', { service_name: name }), undefined);
      assert.equal(sdkSpans(receiver, protocol), 3); // the SDK exported on /flush only
    });
  }
});
