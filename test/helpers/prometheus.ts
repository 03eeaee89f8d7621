/**
 * A throw-away Prometheus server (Debian package `prometheus`) on loopback: generated config,
 * TSDB in a temp dir, 1 s scrape interval; and its HTTP query API.
 *
 * `honor_labels: true` keeps the agent's own `job` / `instance` labels (OBI's Prometheus
 * exporter sets them), as a Prometheus scraping OBI is usually configured to.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, waitFor, type Proc } from './harness.ts';

export interface ScrapeTarget {
  /** scrape job name (a Prometheus config name, not the agent's `job` label) */
  readonly name: string;
  readonly port: number;
  /** default /metrics */
  readonly path?: string;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export class PrometheusServer {
  readonly proc: Proc;
  readonly port: number;
  readonly dir: string;

  private constructor(proc: Proc, port: number, dir: string) {
    this.proc = proc;
    this.port = port;
    this.dir = dir;
  }

  static async start(targets: readonly ScrapeTarget[]): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'obi-prom-'));
    const port = await freePort();
    const jobs = targets
      .map(
        (t) => `  - job_name: ${JSON.stringify(t.name)}
    honor_labels: true
    scrape_interval: 1s
    scrape_timeout: 900ms
    metrics_path: ${JSON.stringify(t.path ?? '/metrics')}
    static_configs:
      - targets: ["127.0.0.1:${t.port}"]`,
      )
      .join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}\n`);
    const proc = startProcess('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    const p = new PrometheusServer(proc, port, dir);
    try {
      await waitFor(
        'Prometheus ready',
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`prometheus exited ${proc.child.exitCode}: ${proc.output()}`);
          try {
            return (await fetch(`http://127.0.0.1:${port}/-/ready`)).status === 200;
          } catch {
            return false;
          }
        },
        20_000,
        100,
      );
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  /** Instant query (`/api/v1/query`): the samples of a vector result. */
  async query(expr: string): Promise<PromSample[]> {
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${expr} failed: ${body.error ?? r.status}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${expr}: ${body.data.resultType} result, expected a vector`);
    return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** Health of every scrape target (`/api/v1/targets`): scrape job name → `up` / `down` / `unknown`. */
  async targets(): Promise<Record<string, string>> {
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/targets`);
    const body = (await r.json()) as { data: { activeTargets: { labels: Record<string, string>; scrapePool: string; health: string }[] } };
    return Object.fromEntries(body.data.activeTargets.map((t) => [t.scrapePool, t.health]));
  }

  /**
   * Query until `accept` holds for the result (Prometheus scrapes every second, so a value the
   * agent exposes shows up within a couple of seconds); returns the accepted result.
   */
  async waitQuery(expr: string, accept: (samples: PromSample[]) => boolean, timeoutMs = 15_000): Promise<PromSample[]> {
    let last: PromSample[] = [];
    try {
      return await waitFor(
        `Prometheus: ${expr}`,
        async () => {
          last = await this.query(expr);
          return accept(last) ? last : undefined;
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last result: ${JSON.stringify(last)}`);
    }
  }

  async stop(): Promise<void> {
    await this.proc.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
