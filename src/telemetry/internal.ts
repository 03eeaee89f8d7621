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
import type { SessionCounters } from '../protocols/common/session.ts';

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

/** Parser counters of one wire protocol (protocols/common/session.ts SessionCounters). */
export type ParserCounts = SessionCounters;

/** What ingest has counted since start (absolute values), read at scrape time. */
export interface IngestSnapshot {
  /** ring-buffer records whose type or length made no sense */
  readonly malformedRecords: number;
  readonly connectionsOpened: number;
  /** dropped, oldest first, when the connection cap was reached */
  readonly connectionsEvicted: number;
  /** flushed after `ebpf.max_transaction_time` without an event */
  readonly connectionsExpired: number;
  /** no registered protocol recognised their first segments */
  readonly connectionsUnrecognized: number;
  /** tracked now */
  readonly connectionsActive: number;
  /** TLS segments by what became of them */
  readonly tlsSegments: Readonly<Record<TlsSegmentOutcome, number>>;
  /** per wire protocol (`http1`, `postgresql`, ...) */
  readonly parsers: ReadonlyMap<string, ParserCounts>;
}

export type TlsSegmentOutcome = 'ciphertext_ignored' | 'paired_late' | 'unpaired_dropped' | 'late';

/** `obi_parser_errors_total{kind}` values and the parser counter each reports */
const PARSER_ERROR_KINDS: readonly (readonly [string, keyof ParserCounts])[] = [
  ['invalid_frame', 'invalidFrames'],
  ['unpaired_frame', 'unpairedFrames'],
  ['dropped_frame', 'droppedFrames'],
  ['partial_frame', 'partialFrames'],
  ['exception', 'parserErrors'],
];

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
  private _ingestSource: (() => IngestSnapshot) | undefined;
  /** one snapshot serves every ingest metric of a scrape */
  private _ingestSnap: { at: number; snap: IngestSnapshot } | undefined;
  private readonly _http2: Counter<'event'>;
  private _http2Source: (() => Readonly<Record<string, number>>) | undefined;
  private readonly _http2Seen = new Map<string, number>();

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
    const ingest = (fn: (s: IngestSnapshot) => void): void => {
      const s = self._ingestSnapshot();
      if (s !== undefined) fn(s);
    };
    const absolute = (name: string, help: string, read: (s: IngestSnapshot) => number): void => {
      new Counter({
        name: `${p}_ingest_${name}`,
        help,
        registers,
        collect() {
          ingest((s) => {
            this.reset();
            this.inc(read(s));
          });
        },
      });
    };
    absolute('malformed_records_total', 'Ring-buffer records whose type or length made no sense (skipped)', (s) => s.malformedRecords);
    absolute('connections_opened_total', 'Connections of traced processes seen', (s) => s.connectionsOpened);
    absolute('connections_evicted_total', 'Connections forgotten, oldest first, because the tracked-connection cap was reached', (s) => s.connectionsEvicted);
    absolute('connections_expired_total', 'Connections flushed after ebpf.max_transaction_time without an event', (s) => s.connectionsExpired);
    absolute('connections_unrecognized_total', 'Connections whose first segments no registered protocol recognised (ignored)', (s) => s.connectionsUnrecognized);
    new Gauge({
      name: `${p}_ingest_connections`,
      help: 'Connections tracked now',
      registers,
      collect() {
        ingest((s) => this.set(s.connectionsActive));
      },
    });
    new Counter({
      name: `${p}_ingest_tls_segments_total`,
      help: 'TLS segments by outcome: ciphertext ignored (plaintext comes from the library), held and paired late, dropped unpaired, read after close',
      labelNames: ['outcome'],
      registers,
      collect() {
        ingest((s) => {
          this.reset();
          for (const [outcome, n] of Object.entries(s.tlsSegments)) this.inc({ outcome }, n);
        });
      },
    });
    new Counter({
      name: `${p}_parser_errors_total`,
      help: 'Protocol parser errors by wire protocol and kind; each invalid_frame resynchronises the stream',
      labelNames: ['protocol', 'kind'],
      registers,
      collect() {
        ingest((s) => {
          this.reset();
          for (const [protocol, k] of s.parsers) for (const [kind, field] of PARSER_ERROR_KINDS) this.inc({ protocol, kind }, k[field]);
        });
      },
    });
    new Counter({
      name: `${p}_parser_bytes_dropped_total`,
      help: 'Wire bytes a protocol parser discarded: buffer caps, resynchronisation skips, partial frames at close',
      labelNames: ['protocol'],
      registers,
      collect() {
        ingest((s) => {
          this.reset();
          for (const [protocol, k] of s.parsers) this.inc({ protocol }, k.droppedBytes);
        });
      },
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
    this._http2 = new Counter({
      name: `${p}_http2_streams_events_total`,
      help:
        'HTTP/2 parser events: partial (a stream whose headers were only partly decoded: HPACK table unknown), unreported (of those, not reported: no method/path), ' +
        'header_block_lost (a header block not decodable: not captured, malformed, over the cap), desync (protocol violation or loss of frame sync), dropped (a stream dropped: cap, or open at close)',
      labelNames: ['event'],
      registers,
      collect() {
        const src = self._http2Source?.();
        if (src === undefined) return;
        for (const [event, v] of Object.entries(src)) {
          const prev = self._http2Seen.get(event) ?? 0;
          if (v > prev) this.inc({ event }, v - prev);
          self._http2Seen.set(event, v);
        }
      },
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

  /** Read the ingest counters at every scrape. */
  setIngestSource(source: (() => IngestSnapshot) | undefined): void {
    this._ingestSource = source;
    this._ingestSnap = undefined;
  }

  private _ingestSnapshot(): IngestSnapshot | undefined {
    if (this._ingestSource === undefined) return undefined;
    const now = performance.now();
    if (this._ingestSnap === undefined || now - this._ingestSnap.at > 100) this._ingestSnap = { at: now, snap: this._ingestSource() };
    return this._ingestSnap.snap;
  }

  /** the HTTP/2 parser's running totals (`obi_http2_streams_events_total{event}`), read at scrape time */
  setHttp2Source(source: (() => Readonly<Record<string, number>>) | undefined): void {
    this._http2Source = source;
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
