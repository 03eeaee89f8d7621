// An HTTP service instrumented with the OpenTelemetry JS SDK (tracing and metrics SDKs with the
// OTLP exporters the agent itself depends on), for the exclude_otel_instrumented_services test.
// argv: <port> <http|grpc> <endpoint URL>. GET /work makes one SDK span and adds 1 to an SDK
// counter; GET /flush exports both signals now (forceFlush) and answers when the exports are done.
// The SDK exports on /flush only (batch delay and metric interval of one hour).
import { createServer } from 'node:http';
import { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const [port, protocol, endpoint] = process.argv.slice(2);
const grpc = protocol === 'grpc';
const { OTLPTraceExporter } = await import(grpc ? '@opentelemetry/exporter-trace-otlp-grpc' : '@opentelemetry/exporter-trace-otlp-proto');
const { OTLPMetricExporter } = await import(grpc ? '@opentelemetry/exporter-metrics-otlp-grpc' : '@opentelemetry/exporter-metrics-otlp-proto');
const traceExporter = new OTLPTraceExporter({ url: grpc ? endpoint : `${endpoint}/v1/traces`, timeoutMillis: 1000 });
const metricExporter = new OTLPMetricExporter({ url: grpc ? endpoint : `${endpoint}/v1/metrics`, timeoutMillis: 1000 });
const hour = 3_600_000;
const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: traceExporter, scheduledDelayMillis: hour, exportTimeoutMillis: 1500 })] });
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: hour, exportTimeoutMillis: 1500 })] });
const tracer = tracerProvider.getTracer('otel-sdk-app');
const counter = meterProvider.getMeter('otel-sdk-app').createCounter('work_done');

const server = createServer((req, res) => {
  if (req.url === '/flush') {
    Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]).then((r) => {
      res.end(JSON.stringify(r.map((x) => x.status)));
    });
    return;
  }
  const span = tracer.startSpan(`GET ${req.url}`);
  counter.add(1);
  span.end();
  res.end('ok');
});
server.keepAliveTimeout = 0;
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
