/**
 * Prometheus scrape of the application metrics: the text exposition of the six HTTP
 * histograms with `SERIES` label sets each (the store read through its prom-client view).
 *
 *   .tools/node/bin/node bench/export/prometheus.bench.ts [series] [scrapes]
 */
import { PrometheusView } from '../../src/export/prometheus/view.ts';
import { RedMetrics } from '../../src/telemetry/metrics.ts';
import { MetricStore } from '../../src/telemetry/store.ts';
import { mkSpan } from '../../test/helpers/spans.ts';

const SERIES = Number(process.argv[2] ?? 1000);
const SCRAPES = Number(process.argv[3] ?? 20);

const store = new MetricStore();
const red = new RedMetrics(store);
for (let i = 0; i < SERIES; i++) {
  for (const kind of ['server', 'client'] as const) {
    red.record(mkSpan({ kind, seconds: (i % 50) / 100, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'http.route': `/r${i}`, 'url.scheme': 'http', 'server.address': '10.0.0.1', 'server.port': 8080, 'http.request.body.size': i, 'http.response.body.size': i * 3 } }));
  }
}
const view = new PrometheusView(store);
let bytes = (await view.metrics()).length; // warm-up
const t0 = performance.now();
for (let i = 0; i < SCRAPES; i++) bytes = (await view.metrics()).length;
const ms = (performance.now() - t0) / SCRAPES;
console.log(`scrape, ${SERIES} series × 6 histograms (${(bytes / 1024).toFixed(0)} KiB)`.padEnd(60), `${ms.toFixed(2).padStart(8)} ms`);
