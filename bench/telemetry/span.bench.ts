/**
 * ns per httpSpan, per RedMetrics.record, and both together; plus, for comparison, the
 * same three observations through prom-client's own Histogram (labels(...).observe).
 *
 *   .tools/node/bin/node bench/telemetry/span.bench.ts [iterations]
 */
import { Histogram, Registry } from 'prom-client';
import { MetricStore } from '../../src/telemetry/store.ts';
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { HttpExchange } from '../../src/protocols/http1/types.ts';
import { RandomIdSource } from '../../src/telemetry/ids.ts';
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS, RedMetrics } from '../../src/telemetry/metrics.ts';
import { httpSpan } from '../../src/telemetry/span.ts';
import type { Span } from '../../src/telemetry/span.ts';
import type { ConnInfo } from '../../src/common/conn.ts';
import type { RouteResolver } from '../../src/telemetry/types.ts';

const N = Number(process.argv[2] ?? 1_000_000);

const service: ServiceIdentity = { name: 'api', namespace: 'shop', instanceId: 'host1:42', pid: 42, exePath: '/usr/bin/api', language: 'go' };
const conn: ConnInfo = { pid: 42, tid: 42, role: 'server', localAddr: '10.0.0.2', localPort: 8080, remoteAddr: '10.0.0.1', remotePort: 51000, tls: false };
const routes = ['/users/:id', '/orders/:id', '/health', '/api/items'];
const route: RouteResolver = (path) => routes[path.length & 3];
const statuses = [200, 200, 200, 404, 500, 201];
const exchanges: HttpExchange[] = [];
for (let i = 0; i < 64; i++) {
  exchanges.push({
    category: 'http',
    method: i % 5 === 0 ? 'POST' : 'GET',
    target: `/users/${i}?page=${i}`,
    path: `/users/${i}`,
    query: `page=${i}`,
    host: 'api.example.com:8080',
    userAgent: 'bench/1.0',
    traceparent: i % 2 === 0 ? '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' : undefined,
    status: statuses[i % statuses.length],
    requestBodySize: i * 10,
    responseBodySize: i * 100,
    startNs: 1_000_000_000 + i,
    endNs: 1_000_000_000 + i + 1_000_000 * (i + 1),
  });
}

function bench(name: string, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(N, 100_000); i++) fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / N;
  console.log(`${name.padEnd(42)} ${ns.toFixed(1).padStart(8)} ns/op`);
}

const ids = new RandomIdSource();
const spans: Span[] = exchanges.map((e) => httpSpan(e, conn, service, route, ids));
let sink = 0;

bench('httpSpan', (i) => {
  sink += httpSpan(exchanges[i & 63], conn, service, route, ids).spanId.length;
});

const metrics = new RedMetrics(new MetricStore());
bench('RedMetrics.record', (i) => {
  metrics.record(spans[i & 63]);
});

const metrics2 = new RedMetrics(new MetricStore());
bench('httpSpan + RedMetrics.record', (i) => {
  metrics2.record(httpSpan(exchanges[i & 63], conn, service, route, ids));
});

// reference: prom-client Histogram, one labels(...).observe per histogram
const reg = new Registry();
const labelNames = ['http_request_method', 'http_response_status_code', 'http_route', 'instance', 'job', 'server_address', 'server_port', 'service_name', 'service_namespace', 'url_scheme'];
const hd = new Histogram({ name: 'd', help: 'd', labelNames, buckets: [...DEFAULT_DURATION_BUCKETS], registers: [reg] });
const hq = new Histogram({ name: 'q', help: 'q', labelNames, buckets: [...DEFAULT_SIZE_BUCKETS], registers: [reg] });
const hr = new Histogram({ name: 'r', help: 'r', labelNames, buckets: [...DEFAULT_SIZE_BUCKETS], registers: [reg] });
bench('prom-client Histogram x3 (reference)', (i) => {
  const s = spans[i & 63];
  const a = s.attributes;
  const values = [
    String(a['http.request.method']), String(a['http.response.status_code']), String(a['http.route'] ?? ''), s.service.instanceId, 'shop/api',
    String(a['server.address']), String(a['server.port']), s.service.name, s.service.namespace, String(a['url.scheme']),
  ];
  hd.labels(...values).observe((s.endNs - s.startNs) / 1e9);
  hq.labels(...values).observe(a['http.request.body.size'] as number);
  hr.labels(...values).observe(a['http.response.body.size'] as number);
});

if (sink === 42) console.log(sink);
