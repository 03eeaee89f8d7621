/**
 * A metric store that can be scraped in tests: the families go into it as into any
 * {@link MetricStore}; `metrics()`, `getMetricsAsJSON()`, `getSingleMetric*()` and
 * `resetMetrics()` read it through the Prometheus view the agent serves (export/prometheus/view.ts).
 */
import { PrometheusView } from '../../src/export/prometheus/view.ts';
import { MetricStore } from '../../src/telemetry/store.ts';

export class ScrapableStore extends MetricStore {
  readonly view: PrometheusView = new PrometheusView(this);

  /** the Prometheus text exposition */
  metrics(): Promise<string> {
    return this.view.metrics();
  }

  getMetricsAsJSON(): ReturnType<PrometheusView['getMetricsAsJSON']> {
    return this.view.getMetricsAsJSON();
  }

  resetMetrics(): void {
    this.view.resetMetrics();
  }

  /** one family's exposition, by Prometheus name */
  getSingleMetricAsString(promName: string): Promise<string> {
    this.view.getMetricsAsArray();
    return this.view.getSingleMetricAsString(promName);
  }

  /** one family in prom-client's metric contract (`get()`), by Prometheus name */
  getSingleMetric(promName: string): ReturnType<PrometheusView['getSingleMetric']> {
    this.view.getMetricsAsArray();
    return this.view.getSingleMetric(promName);
  }
}
