/**
 * OTLP export costs (plain performance.now loops; no root needed):
 *   node src/export/otlp/export.bench.ts
 *
 * - offer(): what the capture path pays per span (filter, sample, ring write), queue with room
 *   and queue full (drop counting);
 * - toReadableSpan(): conversion per span at export time;
 * - a whole export request of 512 spans through the real exporters to a loopback sink that
 *   discards the body (serialisation + HTTP/gRPC client work, per span, in this process);
 * - one metrics collect() of 6 histograms × N series.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { MetricStore } from '../../src/telemetry/store.ts';
import { MonoClock } from '../../src/telemetry/clock.ts';
import { RedMetrics } from '../../src/telemetry/metrics.ts';
import { EpochConverter, ResourceCache, toReadableSpan } from '../../src/export/otlp/convert.ts';
import { OtlpMetricsExporter } from '../../src/export/otlp/metrics.ts';
import { createSampler } from '../../src/export/otlp/sampler.ts';
import { ScriptedSender, testSpan } from '../../test/helpers/otlp-testing.ts';
import { OtlpTraceExporter } from '../../src/export/otlp/traces.ts';
import { createTraceSender } from '../../src/export/otlp/transport.ts';
import type { OtlpProtocol } from '../../src/config/otlp.ts';

const line = (name: string, value: number, unit: string): void => void process.stdout.write(`${name.padEnd(64)} ${value.toFixed(value < 10 ? 2 : 0).padStart(8)} ${unit}\n`);
const clock = new MonoClock();
const resources = new ResourceCache({ host: { hostName: 'h', hostId: 'id' }, version: '0.1.0' });
const attrs = (i: number) => ({
  'http.request.method': 'GET',
  'http.response.status_code': 200,
  'url.path': `/api/v1/orders/${i}`,
  'url.scheme': 'http',
  'client.address': '10.0.0.7',
  'server.address': 'orders.local',
  'server.port': 8080,
  'http.request.body.size': 0,
  'http.response.body.size': 512,
  'http.route': '/api/v1/orders/*',
});
const N = 200_000;
const spans = Array.from({ length: N }, (_, i) => testSpan({ attributes: attrs(i), name: 'GET /api/v1/orders/*' }));

function offerBench(name: string, queue: number): void {
  const ex = new OtlpTraceExporter({
    sender: new ScriptedSender<ReadableSpan[]>(),
    resources,
    clock,
    maxQueueSize: queue,
    maxExportBatchSize: 512,
    batchTimeoutMs: 3_600_000,
    instrumentations: ['http', 'grpc', 'sql'],
    sampler: createSampler({ name: 'parentbased_always_on' }),
  });
  const batch = 64;
  const t0 = performance.now();
  for (let i = 0; i < N; i += batch) ex.offer(spans.slice(i, i + batch));
  line(name, ((performance.now() - t0) * 1e6) / N, 'ns/span');
}

offerBench('offer(), queue with room (incl. batch slicing of the bench)', N);
offerBench('offer(), queue full (drop + count)', 1);

{
  let sink = 0;
  const epoch = new EpochConverter(clock);
  const resource = resources.get(spans[0].service);
  for (let i = 0; i < 20_000; i++) sink += toReadableSpan(spans[i], resource, epoch).startTime[1];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sink += toReadableSpan(spans[i], resource, epoch).startTime[1];
  line(`toReadableSpan()${sink === -1 ? '!' : ''}`, ((performance.now() - t0) * 1e6) / N, 'ns/span');
}

async function sendBench(protocol: OtlpProtocol): Promise<void> {
  let url: string;
  let close: () => Promise<void>;
  if (protocol === 'grpc') {
    const server = new Server();
    const raw = { requestSerialize: (v: Buffer) => v, requestDeserialize: (b: Buffer) => b, responseSerialize: (v: Buffer) => v, responseDeserialize: (b: Buffer) => b, requestStream: false, responseStream: false };
    server.addService({ Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', ...raw } }, { Export: (_c: unknown, done: (e: null, v: Buffer) => void) => done(null, Buffer.alloc(0)) } as never);
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    url = `http://127.0.0.1:${port}`;
    close = async () => void server.forceShutdown();
  } else {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': protocol === 'http/json' ? 'application/json' : 'application/x-protobuf' }).end(protocol === 'http/json' ? '{}' : ''));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    close = () => new Promise((r) => server.close(() => r()));
  }
  const sender = createTraceSender({ endpoint: url, protocol });
  const batch = spans.slice(0, 512).map((s) => toReadableSpan(s, resources.get(s.service), clock));
  for (let i = 0; i < 20; i++) await sender.send(batch);
  const rounds = 100;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const r = await sender.send(batch);
    if (!r.ok) throw new Error(String(r.error));
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  line(`export request of 512 spans, ${protocol}: CPU per span (sink in-process)`, ((cpu.user + cpu.system) * 1e3) / (rounds * 512), 'ns/span');
  line(`export request of 512 spans, ${protocol}: wall per request`, (wall * 1e3) / rounds, 'µs');
  await sender.shutdown();
  await close();
}

await sendBench('http/protobuf');
await sendBench('http/json');
await sendBench('grpc');

{
  const red = new RedMetrics(new MetricStore());
  const series = 1000;
  for (let i = 0; i < series; i++) red.record(testSpan({ attributes: { ...attrs(i), 'http.route': `/r/${i}` } }));
  const ex = new OtlpMetricsExporter({ sender: new ScriptedSender<ResourceMetrics>(), metrics: red, resources });
  ex.collect();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) ex.collect();
  line(`metrics collect(), ${series} series × 3 server histograms`, (performance.now() - t0) / 20, 'ms');
}
