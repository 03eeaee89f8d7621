/**
 * Agent self-metrics (OBI "internal metrics", prefix `obi_`), in an injected metric store
 * (OBI serves them on `internal_metrics.prometheus.{port,path}`, default path
 * `/internal/metrics`, else next to the application metrics). Names that exist in OBI keep
 * OBI's Prometheus name, help text and buckets; the ingest counters are obi-ts additions.
 * OTel names are the dotted forms (`obi.ebpf.events.read`), from which the Prometheus names
 * follow by the store's naming rule.
 *
 * Every method is cheap enough to call once per ring-buffer drain or per batch; none is
 * meant to be called per event.
 */
import { MAX_EXITED_INSTANCES } from './exited.ts';
import { CounterVec } from './counter.ts';
import { GaugeVec } from './gauge.ts';
import { HistogramVec, SeriesIndex } from './histogram.ts';
import type { MetricStore } from './store.ts';
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

/** The agent's pipeline stages timed per drain (`obi_agent_stage_seconds_total{stage}`). */
export type AgentStage = 'ingest' | 'process';

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
  /** of those, the ones whose further socket I/O the kernel stopped capturing */
  readonly connectionsMuted: number;
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
  ['unsupported_version', 'unsupportedVersions'],
];

export interface InternalMetricsOptions {
  /** metric name prefix; OBI's is `obi` (Beyla's `beyla`) */
  readonly prefix?: string;
}

export class InternalMetrics {
  private readonly _eventsRead: CounterVec;
  private readonly _eventsDropped: CounterVec;
  private readonly _bytesLost: CounterVec;
  private readonly _tracerFlushes: HistogramVec;
  private readonly _instrumented: GaugeVec;
  private readonly _avoided: GaugeVec;
  /** obi_avoided_services series ids per service instance */
  private readonly _avoidedIds = new Map<string, number[]>();
  private readonly _instrumentationErrors: CounterVec;
  private readonly _spansDropped: CounterVec;
  private readonly _promRequests: CounterVec;
  /** last absolute kernel drop count seen (the kernel counter is monotonic) */
  private _kernelDropsSeen = 0;
  private readonly _bytesRead: CounterVec;
  private readonly _stageSeconds: CounterVec;
  private readonly _cpuYields: CounterVec;
  private _kernelDropsSource: (() => number) | undefined;
  /** read once per family per collection: a source shared by several families should be cheap or cache */
  private _ingestSource: (() => IngestSnapshot) | undefined;
  private _http2Source: (() => Readonly<Record<string, number>>) | undefined;
  private _exitedSeriesSource: (() => number) | undefined;

  constructor(store: MetricStore, options: InternalMetricsOptions = {}) {
    const p = options.prefix ?? 'obi';
    const none = new SeriesIndex(0);
    this._eventsRead = new CounterVec({
      name: `${p}.ebpf.events.read`,
      help: 'Events read from the eBPF ring buffers',
      labelNames: [],
      index: none,
    }).registerIn(store);
    // the kernel-side counter is read at collection (scrape) time when a source is set
    this._eventsDropped = new CounterVec({
      name: `${p}.ebpf.events.dropped`,
      help: 'Events lost before the agent read them: the eBPF programs could not submit them (ring buffer full, counted in the kernel), or the agent had no memory to hold them',
      labelNames: [],
      index: none,
      collect: () => {
        if (this._kernelDropsSource !== undefined) this.setKernelDropsTotal(this._kernelDropsSource());
      },
    }).registerIn(store);
    const exitedSeries: CounterVec = new CounterVec({
      name: `${p}.metrics.exited.series.evicted`,
      help: `Application metric series of exited processes removed before their ttl because more than ${MAX_EXITED_INSTANCES} exited processes kept theirs (oldest exit first)`,
      labelNames: [],
      index: none,
      collect: () => {
        if (this._exitedSeriesSource !== undefined) exitedSeries.setTotal(0, this._exitedSeriesSource());
      },
    }).registerIn(store);
    this._bytesRead = new CounterVec({
      name: `${p}.ebpf.bytes.read`,
      unit: 'By',
      promName: `${p}_ebpf_bytes_read_total`,
      help: 'Bytes read from the eBPF ring buffers (records and their captured payload)',
      labelNames: [],
      index: none,
    }).registerIn(store);
    this._stageSeconds = new CounterVec({
      name: `${p}.agent.stage.time`,
      unit: 's',
      promName: `${p}_agent_stage_seconds_total`,
      help: 'Wall time the agent spent per pipeline stage, timed per ring-buffer drain: ingest (decode, per-connection streams, protocol parsers, record to span), process (span filters, metrics, printers, export queueing)',
      labelNames: ['stage'],
      index: new SeriesIndex(1),
    }).registerIn(store);
    this._cpuYields = new CounterVec({
      name: `${p}.agent.cpu.yields`,
      unit: '{yield}',
      promName: `${p}_agent_cpu_yields_total`,
      help: 'Times the agent gave its CPU to other threads in the middle of a drain (sched_yield every 0.25 ms of work, not when the drain is behind the ring), so that the application never waits long behind it',
      labelNames: [],
      index: none,
    }).registerIn(store);
    this._bytesLost = new CounterVec({
      name: `${p}.ingest.bytes.lost`,
      unit: 'By',
      promName: `${p}_ingest_bytes_lost_total`,
      help: 'Payload bytes that crossed a socket but were not captured (gaps past the captured prefix)',
      labelNames: [],
      index: none,
    }).registerIn(store);
    // ingest counters: absolute totals read from the ingest source at collection time
    const ingest = (fn: (s: IngestSnapshot) => void): void => {
      const s = this._ingestSnapshot();
      if (s !== undefined) fn(s);
    };
    const absolute = (name: string, help: string, read: (s: IngestSnapshot) => number): void => {
      const c: CounterVec = new CounterVec({
        name: `${p}.ingest.${name}`,
        help,
        labelNames: [],
        index: none,
        collect: () => ingest((s) => c.setTotal(0, read(s))),
      }).registerIn(store);
    };
    absolute('malformed.records', 'Ring-buffer records whose type or length made no sense (skipped)', (s) => s.malformedRecords);
    absolute('connections.opened', 'Connections of traced processes seen', (s) => s.connectionsOpened);
    absolute('connections.evicted', 'Connections forgotten, oldest first, because the tracked-connection cap was reached', (s) => s.connectionsEvicted);
    absolute('connections.expired', 'Connections flushed after ebpf.max_transaction_time without an event', (s) => s.connectionsExpired);
    absolute('connections.unrecognized', 'Connections whose first segments no registered protocol recognised (ignored)', (s) => s.connectionsUnrecognized);
    absolute('connections.muted', 'Unrecognized connections muted in the kernel: their further socket reads and writes are neither copied nor submitted', (s) => s.connectionsMuted);
    const active: GaugeVec = new GaugeVec({
      name: `${p}.ingest.connections`,
      help: 'Connections tracked now',
      labelNames: [],
      index: none,
      collect: () => ingest((s) => active.set(0, s.connectionsActive)),
    }).registerIn(store);
    const tls: CounterVec = new CounterVec({
      name: `${p}.ingest.tls.segments`,
      help: 'TLS segments by outcome: ciphertext ignored (plaintext comes from the library), held and paired late, dropped unpaired, read after close',
      labelNames: ['outcome'],
      index: new SeriesIndex(1),
      collect: () =>
        ingest((s) => {
          tls.reset();
          for (const [outcome, n] of Object.entries(s.tlsSegments)) tls.setTotal(tls.index.id([outcome]), n);
        }),
    }).registerIn(store);
    const parserErrors: CounterVec = new CounterVec({
      name: `${p}.parser.errors`,
      help: 'Protocol parser errors by wire protocol and kind; each invalid_frame resynchronises the stream',
      labelNames: ['protocol', 'kind'],
      index: new SeriesIndex(2),
      collect: () =>
        ingest((s) => {
          parserErrors.reset();
          for (const [protocol, k] of s.parsers) for (const [kind, field] of PARSER_ERROR_KINDS) parserErrors.setTotal(parserErrors.index.id([protocol, kind]), k[field]);
        }),
    }).registerIn(store);
    const parserDropped: CounterVec = new CounterVec({
      name: `${p}.parser.bytes.dropped`,
      unit: 'By',
      promName: `${p}_parser_bytes_dropped_total`,
      help: 'Wire bytes a protocol parser discarded: buffer caps, resynchronisation skips, partial frames at close',
      labelNames: ['protocol'],
      index: new SeriesIndex(1),
      collect: () =>
        ingest((s) => {
          parserDropped.reset();
          for (const [protocol, k] of s.parsers) parserDropped.setTotal(parserDropped.index.id([protocol]), k.droppedBytes);
        }),
    }).registerIn(store);
    this._tracerFlushes = new HistogramVec({
      name: `${p}.ebpf.tracer.flushes`,
      help: 'Length of the groups of traces flushed from the eBPF tracer to the next pipeline stage',
      labelNames: [],
      buckets: TRACER_FLUSH_BUCKETS,
      index: none,
    }).registerIn(store);
    this._instrumented = new GaugeVec({
      name: `${p}.instrumented.processes`,
      help: 'Total number of instrumented processes by process name',
      labelNames: ['process_name'],
      index: new SeriesIndex(1),
      upDown: true,
    }).registerIn(store);
    this._avoided = new GaugeVec({
      name: `${p}.avoided.services`,
      help: 'Services avoided due to existing OpenTelemetry instrumentation',
      labelNames: ['service_name', 'service_namespace', 'service_instance_id', 'telemetry_type'],
      index: new SeriesIndex(4),
    }).registerIn(store);
    this._instrumentationErrors = new CounterVec({
      name: `${p}.instrumentation.errors`,
      help: 'Total number of instrumentation errors by process name and error type',
      labelNames: ['process_name', 'error_type'],
      index: new SeriesIndex(2),
    }).registerIn(store);
    this._spansDropped = new CounterVec({
      name: `${p}.spans.dropped`,
      help: 'Spans dropped before export, by reason',
      labelNames: ['reason'],
      index: new SeriesIndex(1),
    }).registerIn(store);
    this._promRequests = new CounterVec({
      name: `${p}.prometheus.http.requests`,
      help: 'Requests towards the Prometheus Scrape endpoint',
      labelNames: ['port', 'path'],
      index: new SeriesIndex(2),
    }).registerIn(store);
    const http2: CounterVec = new CounterVec({
      name: `${p}.http2.streams.events`,
      help:
        'HTTP/2 parser events: partial (a stream whose headers were only partly decoded: HPACK table unknown), unreported (of those, not reported: no method/path), ' +
        'header_block_lost (a header block not decodable: not captured, malformed, over the cap), desync (protocol violation or loss of frame sync), dropped (a stream dropped: cap, or open at close)',
      labelNames: ['event'],
      index: new SeriesIndex(1),
      collect: () => {
        const src = this._http2Source?.();
        if (src === undefined) return;
        for (const [event, v] of Object.entries(src)) if (v > 0) http2.setTotal(http2.index.id([event]), v);
      },
    }).registerIn(store);
  }

  /** `n` events decoded from the ring buffer (call once per drain). */
  eventsRead(n: number): void {
    if (n > 0) this._eventsRead.inc(0, n);
  }

  /** One ring-buffer drain delivered `bytes` bytes. */
  bytesRead(bytes: number): void {
    if (bytes > 0) this._bytesRead.inc(0, bytes);
  }

  /** `seconds` spent in one pipeline `stage` during one drain (`obi_agent_stage_seconds_total{stage}`). */
  stageTime(stage: AgentStage, seconds: number): void {
    if (seconds > 0) this._stageSeconds.inc(this._stageSeconds.index.id([stage]), seconds);
  }

  /** The agent yielded its CPU `n` more times (`obi_agent_cpu_yields_total`). */
  cpuYields(n: number): void {
    if (n > 0) this._cpuYields.inc(0, n);
  }

  /** One ring-buffer drain delivered `events` events (`obi_ebpf_tracer_flushes`). */
  tracerFlush(events: number): void {
    this._tracerFlushes.observe(0, events);
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
    if (delta > 0) this._eventsDropped.inc(0, delta);
  }

  /** Read the count of series of exited processes removed at the cap (telemetry/exited.ts) at every collection. */
  setExitedSeriesSource(source: (() => number) | undefined): void {
    this._exitedSeriesSource = source;
  }

  /** Read the kernel drop count at every collection (scrape) instead of pushing it. */
  setKernelDropsSource(source: (() => number) | undefined): void {
    this._kernelDropsSource = source;
  }

  /** Read the ingest counters at every scrape. */
  setIngestSource(source: (() => IngestSnapshot) | undefined): void {
    this._ingestSource = source;
  }

  private _ingestSnapshot(): IngestSnapshot | undefined {
    return this._ingestSource?.();
  }

  /** the HTTP/2 parser's running totals (`obi_http2_streams_events_total{event}`), read at scrape time */
  setHttp2Source(source: (() => Readonly<Record<string, number>>) | undefined): void {
    this._http2Source = source;
  }

  /** Bytes known to have crossed a socket but not captured. */
  bytesLost(n: number): void {
    if (n > 0) this._bytesLost.inc(0, n);
  }

  instrumentProcess(processName: string): void {
    this._instrumented.add(this._instrumented.index.id([processName]), 1);
  }

  uninstrumentProcess(processName: string): void {
    this._instrumented.add(this._instrumented.index.id([processName]), -1);
  }

  /** `exclude_otel_instrumented_services`: obi-ts stopped emitting `telemetryType` (traces, metrics) for a service */
  avoidedService(name: string, namespace: string, instanceId: string, telemetryType: string): void {
    const id = this._avoided.index.id([name, namespace, instanceId, telemetryType]);
    this._avoided.set(id, 1);
    const ids = this._avoidedIds.get(instanceId) ?? [];
    if (!ids.includes(id)) ids.push(id);
    this._avoidedIds.set(instanceId, ids);
  }

  /** an avoided service instance went away */
  removeAvoidedService(instanceId: string): void {
    for (const id of this._avoidedIds.get(instanceId) ?? []) this._avoided.remove(id);
    this._avoidedIds.delete(instanceId);
  }

  instrumentationError(processName: string, errorType: InstrumentationErrorType): void {
    this._instrumentationErrors.inc(this._instrumentationErrors.index.id([processName, errorType]), 1);
  }

  spansDropped(reason: SpanDropReason, n = 1): void {
    if (n > 0) this._spansDropped.inc(this._spansDropped.index.id([reason]), n);
  }

  /** One request served by a Prometheus endpoint. */
  prometheusRequest(port: number, path: string): void {
    this._promRequests.inc(this._promRequests.index.id([String(port), path]), 1);
  }
}
