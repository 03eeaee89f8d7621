/**
 * obi-ts as a separate process, exactly as a user runs it: `bin/obi-ts` configured by
 * environment only, the `counter` trace printer on stdout, Prometheus on a free port.
 * Everything the benchmark learns about the agent comes from /proc and /metrics.
 */
import { join } from 'node:path';
import { cleanEnv, cpuSeconds, freePort, memStatus, startChild, waitFor, type Child, type MemStatus } from './proc.ts';
import { lastPrinterCount, parsePrometheus, spansFromMetrics, sumMetric, type PromSample } from './parse.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface AgentCounters {
  readonly eventsRead: number;
  /** bytes read from the ring buffer */
  readonly bytesRead: number;
  /** wall seconds in the agent's pipeline stages */
  readonly ingestS: number;
  readonly processS: number;
  /** `obi_agent_cpu_yields_total`: the agent gave its CPU away mid-drain (src/pipeline/yield.ts) */
  readonly cpuYields: number;
  /** `obi_ebpf_tls_calls_total{process}`: TLS reads and writes the uprobes intercepted, of selected processes and of others running the same library file */
  readonly tlsCalls: { readonly selected: number; readonly other: number };
  readonly dropped: number;
  /** spans recorded in the RED duration histograms (`_count`); protocols without RED metrics are not in it */
  readonly spansMetrics: number;
  readonly instrumented: number;
  /** spans counted by the `counter` trace printer (every protocol), as of its last line */
  readonly spansPrinted: number;
  /** `obi_context_propagation_*` counters */
  readonly prop: {
    readonly optionsWritten: number;
    readonly optionsRead: number;
    readonly parents: number;
    readonly injections: number;
    readonly skipped: number;
    readonly fallbacks: number;
    /** `obi_correlated_spans_total{link}`: spans given a parent at their start, by how */
    readonly links: Readonly<Record<string, number>>;
    /** the mode that runs (`obi_context_propagation_mode{mode}` = 1): headers falls to tcp when its self-test fails */
    readonly mode: string;
  };
}

export function countersOf(samples: readonly PromSample[], printed: number): AgentCounters {
  return {
    eventsRead: sumMetric(samples, 'obi_ebpf_events_read_total'),
    bytesRead: sumMetric(samples, 'obi_ebpf_bytes_read_total'),
    ingestS: stageSeconds(samples, 'ingest'),
    processS: stageSeconds(samples, 'process'),
    cpuYields: sumMetric(samples, 'obi_agent_cpu_yields_total'),
    tlsCalls: {
      selected: sumMetric(samples.filter((s) => s.labels.includes('process="selected"')), 'obi_ebpf_tls_calls_total'),
      other: sumMetric(samples.filter((s) => s.labels.includes('process="other"')), 'obi_ebpf_tls_calls_total'),
    },
    dropped: sumMetric(samples, 'obi_ebpf_events_dropped_total'),
    spansMetrics: spansFromMetrics(samples),
    instrumented: sumMetric(samples, 'obi_instrumented_processes'),
    spansPrinted: printed,
    prop: {
      optionsWritten: sumMetric(samples, 'obi_context_propagation_tcp_options_written_total'),
      optionsRead: sumMetric(samples, 'obi_context_propagation_tcp_options_read_total'),
      parents: sumMetric(samples, 'obi_context_propagation_tcp_parents_total'),
      injections: sumMetric(samples, 'obi_context_propagation_header_injections_total') + sumMetric(samples, 'obi_context_propagation_header_h2_injections_total'),
      skipped: sumMetric(samples, 'obi_context_propagation_header_skipped_total'),
      fallbacks: sumMetric(samples, 'obi_context_propagation_fallbacks_total'),
      links: Object.fromEntries(samples.filter((s) => s.name === 'obi_correlated_spans_total').map((s) => [/link="([^"]*)"/.exec(s.labels)?.[1] ?? '', s.value])),
      mode: /mode="([^"]*)"/.exec(samples.find((s) => s.name === 'obi_context_propagation_mode' && s.value === 1)?.labels ?? '')?.[1] ?? '',
    },
  };
}

function stageSeconds(samples: readonly PromSample[], stage: string): number {
  return samples.filter((s) => s.name === 'obi_agent_stage_seconds_total' && s.labels.includes(`stage="${stage}"`)).reduce((t, s) => t + s.value, 0);
}

/** the `counter` printer's period (its default) */
const PRINTER_PERIOD_MS = 1000;

export interface AgentStartOptions {
  /** `OTEL_EBPF_OPEN_PORT` */
  readonly openPort: string;
  /** processes the selection must find before the run starts */
  readonly expectInstrumented: number;
  /** more OTEL_EBPF_* settings */
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

export class AgentProcess {
  readonly child: Child;
  readonly promPort: number;
  /** wall-clock ms from spawn to selection done */
  readonly startMs: number;

  private constructor(child: Child, promPort: number, startMs: number) {
    this.child = child;
    this.promPort = promPort;
    this.startMs = startMs;
  }

  get pid(): number {
    return this.child.pid;
  }

  static async start(opts: AgentStartOptions): Promise<AgentProcess> {
    const promPort = await freePort();
    const t0 = performance.now();
    const child = startChild(join(REPO_ROOT, 'bin', 'obi-ts'), [], {
      env: cleanEnv({
        OTEL_EBPF_OPEN_PORT: opts.openPort,
        OTEL_EBPF_TRACE_PRINTER: 'counter',
        OTEL_EBPF_PROMETHEUS_PORT: String(promPort),
        OTEL_EBPF_LOG_LEVEL: 'INFO',
        ...opts.env,
      }),
    });
    const a = new AgentProcess(child, promPort, 0);
    try {
      await waitFor(
        'the agent to start',
        async () => {
          if (child.child.exitCode !== null) throw new Error(`obi-ts exited ${child.child.exitCode}:\n${child.output().slice(-3000)}`);
          if (!child.stderr().includes('obi-ts running')) return false;
          const c = await a.counters().catch(() => undefined);
          return c !== undefined && c.instrumented === opts.expectInstrumented;
        },
        opts.timeoutMs ?? 30_000,
        100,
      );
    } catch (err) {
      await child.stop('SIGKILL');
      throw new Error(`${(err as Error).message}\nagent log:\n${child.stderr().slice(-3000)}`);
    }
    (a as { startMs: number }).startMs = performance.now() - t0;
    return a;
  }

  async metrics(): Promise<PromSample[]> {
    const r = await fetch(`http://127.0.0.1:${this.promPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`agent /metrics: HTTP ${r.status}`);
    return parsePrometheus(await r.text());
  }

  async counters(): Promise<AgentCounters> {
    return countersOf(await this.metrics(), lastPrinterCount(this.child.stdout()));
  }

  /**
   * Waits until the agent has read everything the kernel produced (events read
   * unchanged over two polls 200 ms apart; its drain timer runs every 10 ms), then
   * until the `counter` printer shows the final span count: at once when it agrees
   * with the RED metrics, else at its next line (or after 1.5 periods without one).
   */
  async settle(timeoutMs = 10_000): Promise<AgentCounters> {
    let last = await this.counters();
    const deadline = Date.now() + timeoutMs;
    let stable = 0;
    while (stable < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const c = await this.counters();
      stable = c.eventsRead === last.eventsRead && c.spansMetrics === last.spansMetrics ? stable + 1 : 0;
      last = c;
    }
    // the printer prints at most one more line (it prints only when the count changed)
    const quiet = Date.now();
    const outAtQuiet = this.child.stdout().length;
    while (last.spansPrinted !== last.spansMetrics && this.child.stdout().length === outAtQuiet && Date.now() - quiet < PRINTER_PERIOD_MS * 1.5) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return await this.counters();
  }

  cpuSeconds(): number {
    return cpuSeconds([this.pid]);
  }

  mem(): MemStatus | undefined {
    return memStatus(this.pid);
  }

  /** SIGTERM (ordered shutdown: detach, drain, flush); returns the printer's final span count */
  async stop(): Promise<{ printed: number; exitCode: number | null }> {
    await this.child.stop('SIGTERM', 10_000);
    return { printed: lastPrinterCount(this.child.stdout()), exitCode: this.child.child.exitCode };
  }
}
