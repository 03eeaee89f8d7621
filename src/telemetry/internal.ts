/**
 * Agent self-metrics (OBI "internal metrics", prefix `obi_`), on an injected registry
 * (OBI serves them on `internal_metrics.prometheus.{port,path}`, default path
 * `/internal/metrics`). Names that exist in OBI keep OBI's name, help text and buckets;
 * the ingest counters are obi-ts additions.
 *
 * Every method is cheap enough to call once per ring-buffer drain or per batch; none is
 * meant to be called per event.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** OBI `pipelineBufferLengths`: buckets of `obi_ebpf_tracer_flushes`. */
export const TRACER_FLUSH_BUCKETS: readonly number[] = [0, 10, 20, 40, 80, 160, 320];

/** Known `obi_instrumentation_errors_total{error_type}` values (OBI's, plus room for ours). */
export type InstrumentationErrorType =
  | 'inspection_failed'
  | 'no_instrumentable_functions_found'
  | 'attaching_uprobe'
  | 'attaching_kprobe'
  | 'attaching_tracepoint'
  | 'attaching_sock_filter'
  | 'attaching_sock_msg'
  | 'attaching_cgroup'
  | 'symbol_not_found'
  | (string & {});

/** Why spans were dropped before export (`obi_spans_dropped_total{reason}`). */
export type SpanDropReason = 'queue_full' | 'export_failed' | 'filtered' | 'sampled_out' | (string & {});

export interface InternalMetricsOptions {
  /** metric name prefix; OBI's is `obi` (Beyla's `beyla`) */
  readonly prefix?: string;
}

export class InternalMetrics {
  private readonly _eventsRead: Counter;
  private readonly _eventsDropped: Counter;
  private readonly _bytesLost: Counter;
  private readonly _tracerFlushes: Histogram;
  private readonly _instrumented: Gauge<'process_name'>;
  private readonly _instrumentationErrors: Counter<'process_name' | 'error_type'>;
  private readonly _spansDropped: Counter<'reason'>;
  private readonly _promRequests: Counter<'port' | 'path'>;
  /** last absolute kernel drop count seen (the kernel counter is monotonic) */
  private _kernelDropsSeen = 0;
  private _kernelDropsSource: (() => number) | undefined;

  constructor(registry: Registry, options: InternalMetricsOptions = {}) {
    const p = options.prefix ?? 'obi';
    const registers = [registry];
    this._eventsRead = new Counter({
      name: `${p}_ebpf_events_read_total`,
      help: 'Events read from the eBPF ring buffers',
      registers,
    });
    // the kernel-side counter is read at scrape time when a source is set
    const self = this;
    this._eventsDropped = new Counter({
      name: `${p}_ebpf_events_dropped_total`,
      help: 'Events the eBPF programs could not submit (ring buffer full), as counted in the kernel',
      registers,
      collect() {
        if (self._kernelDropsSource !== undefined) self.setKernelDropsTotal(self._kernelDropsSource());
      },
    });
    this._bytesLost = new Counter({
      name: `${p}_ingest_bytes_lost_total`,
      help: 'Payload bytes that crossed a socket but were not captured (gaps past the captured prefix)',
      registers,
    });
    this._tracerFlushes = new Histogram({
      name: `${p}_ebpf_tracer_flushes`,
      help: 'Length of the groups of traces flushed from the eBPF tracer to the next pipeline stage',
      buckets: [...TRACER_FLUSH_BUCKETS],
      registers,
    });
    this._instrumented = new Gauge({
      name: `${p}_instrumented_processes`,
      help: 'Total number of instrumented processes by process name',
      labelNames: ['process_name'],
      registers,
    });
    this._instrumentationErrors = new Counter({
      name: `${p}_instrumentation_errors_total`,
      help: 'Total number of instrumentation errors by process name and error type',
      labelNames: ['process_name', 'error_type'],
      registers,
    });
    this._spansDropped = new Counter({
      name: `${p}_spans_dropped_total`,
      help: 'Spans dropped before export, by reason',
      labelNames: ['reason'],
      registers,
    });
    this._promRequests = new Counter({
      name: `${p}_prometheus_http_requests_total`,
      help: 'Requests towards the Prometheus Scrape endpoint',
      labelNames: ['port', 'path'],
      registers,
    });
  }

  /** `n` events decoded from the ring buffer (call once per drain). */
  eventsRead(n: number): void {
    if (n > 0) this._eventsRead.inc(n);
  }

  /** One ring-buffer drain delivered `events` events (`obi_ebpf_tracer_flushes`). */
  tracerFlush(events: number): void {
    this._tracerFlushes.observe(events);
  }

  /**
   * Set the kernel's absolute drop count; the counter grows by the difference. A value
   * below the last one means the kernel counter restarted (maps re-created): it then
   * counts from zero again.
   */
  setKernelDropsTotal(total: number): void {
    if (!Number.isFinite(total) || total < 0) return;
    const delta = total >= this._kernelDropsSeen ? total - this._kernelDropsSeen : total;
    this._kernelDropsSeen = total;
    if (delta > 0) this._eventsDropped.inc(delta);
  }

  /** Read the kernel drop count at every scrape instead of pushing it. */
  setKernelDropsSource(source: (() => number) | undefined): void {
    this._kernelDropsSource = source;
  }

  /** Bytes known to have crossed a socket but not captured. */
  bytesLost(n: number): void {
    if (n > 0) this._bytesLost.inc(n);
  }

  instrumentProcess(processName: string): void {
    this._instrumented.inc({ process_name: processName });
  }

  uninstrumentProcess(processName: string): void {
    this._instrumented.dec({ process_name: processName });
  }

  instrumentationError(processName: string, errorType: InstrumentationErrorType): void {
    this._instrumentationErrors.inc({ process_name: processName, error_type: errorType });
  }

  spansDropped(reason: SpanDropReason, n = 1): void {
    if (n > 0) this._spansDropped.inc({ reason }, n);
  }

  /** One request served by a Prometheus endpoint. */
  prometheusRequest(port: number, path: string): void {
    this._promRequests.inc({ port: String(port), path });
  }
}
