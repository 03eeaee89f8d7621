/**
 * OTLP trace export with a bounded queue (house rule 10; otel-js BatchSpanProcessor, OBI's
 * `otel_traces_export` batching keys).
 *
 * - `offer(spans)` runs on the capture path: it filters (instrumentations, sampler) and copies
 *   span references into a fixed-size ring; when the ring is full the newest spans are dropped
 *   and counted (`obi_spans_dropped_total{reason="queue_full"}`). It never waits, allocates
 *   per span or calls the network.
 * - Export happens later, on its own turn of the event loop: a batch of at most
 *   `maxExportBatchSize` spans as soon as that many are queued, else what is queued after
 *   `batchTimeoutMs`. One request is in flight at a time.
 * - A batch that fails with a retryable error is kept aside and retried with exponential
 *   back-off while new spans keep queueing (up to the bound); it is dropped and counted
 *   (`reason="export_failed"`) after `maxElapsedMs`, or at once on a non-retryable answer.
 *   Memory is thus bounded by `maxQueueSize + maxExportBatchSize` spans whatever the collector does.
 * - `shutdown()` flushes what is queued with one attempt per batch, then closes the exporter.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { MonoClock } from '../../telemetry/clock.ts';
import type { InternalMetrics } from '../../telemetry/internal.ts';
import type { Span } from '../../telemetry/span.ts';
import { EpochConverter, toReadableSpan } from './convert.ts';
import type { ResourceCache } from './convert.ts';
import { backoffDelay, isRetryable } from './retry.ts';
import type { BackoffPolicy } from './retry.ts';
import type { SpanSampler } from './sampler.ts';
import { exportErrorType } from './self-metrics.ts';
import type { OtlpExportMetrics } from './self-metrics.ts';
import type { OtlpSender } from './transport.ts';

/** What this module logs through (the agent's logger fits). */
export interface ExportLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface OtlpTraceExporterOptions {
  readonly sender: OtlpSender<ReadableSpan[]>;
  readonly resources: ResourceCache;
  readonly clock: MonoClock;
  /** default 4096 */
  readonly maxQueueSize?: number;
  /** default 512 */
  readonly maxExportBatchSize?: number;
  /** default 15000 */
  readonly batchTimeoutMs?: number;
  /** default: 5 s initial, 30 s max, 1 min max elapsed */
  readonly backoff?: BackoffPolicy;
  /** `otel_traces_export.instrumentations`; `*` = all; default all */
  readonly instrumentations?: readonly string[];
  /** default: every span */
  readonly sampler?: SpanSampler;
  /** where drops are counted (`obi_spans_dropped_total`) */
  readonly internal?: InternalMetrics;
  /** `obi_otel_trace_exports_total` / `obi_otel_trace_export_errors_total` */
  readonly selfMetrics?: OtlpExportMetrics;
  readonly log?: ExportLogger;
  /** the endpoint, for log lines */
  readonly endpoint?: string;
  /** ms clock for back-off bookkeeping; default `performance.now` */
  readonly now?: () => number;
  /** default `Math.random` (back-off jitter) */
  readonly random?: () => number;
}

export interface TraceExportStats {
  /** spans waiting in the queue */
  readonly queued: number;
  /** spans of the batch being sent or waiting for a retry */
  readonly pending: number;
  /** spans delivered */
  readonly exported: number;
  readonly droppedQueueFull: number;
  readonly droppedExportFailed: number;
  readonly sampledOut: number;
  /** failed requests */
  readonly errors: number;
  /** requests sent (successful or not) */
  readonly requests: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5000, maxMs: 30_000, maxElapsedMs: 60_000 };

export class OtlpTraceExporter {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly batchTimeoutMs: number;
  private readonly _o: OtlpTraceExporterOptions;
  private readonly _backoff: BackoffPolicy;
  private readonly _now: () => number;
  private readonly _random: () => number;
  private readonly _all: boolean;
  private readonly _instrumentations: ReadonlySet<string>;
  private readonly _ring: (Span | undefined)[];
  private _head = 0;
  private _len = 0;
  /** the batch in flight or waiting for its retry */
  private _pending: Span[] | undefined;
  private _pendingConverted: ReadableSpan[] | undefined;
  private _attempt = 0;
  private _firstFailureAt = 0;
  private _sending: Promise<void> | undefined;
  private _timer: NodeJS.Timeout | undefined;
  private _timerIsRetry = false;
  private _kicked = false;
  private _flushing = 0;
  private _closed = false;
  private _failing = false;
  private _exported = 0;
  private _droppedQueueFull = 0;
  private _droppedExportFailed = 0;
  private _sampledOut = 0;
  private _errors = 0;
  private _requests = 0;

  constructor(options: OtlpTraceExporterOptions) {
    this._o = options;
    this.maxQueueSize = positiveInt(options.maxQueueSize ?? 4096, 'maxQueueSize');
    this.maxExportBatchSize = Math.min(positiveInt(options.maxExportBatchSize ?? 512, 'maxExportBatchSize'), this.maxQueueSize);
    this.batchTimeoutMs = Math.max(1, options.batchTimeoutMs ?? 15_000);
    this._backoff = options.backoff ?? DEFAULT_BACKOFF;
    this._now = options.now ?? (() => performance.now());
    this._random = options.random ?? Math.random;
    const inst = options.instrumentations ?? ['*'];
    this._all = inst.includes('*');
    this._instrumentations = new Set(inst);
    this._ring = new Array<Span | undefined>(this.maxQueueSize).fill(undefined);
  }

  stats(): TraceExportStats {
    return {
      queued: this._len,
      pending: this._pending?.length ?? 0,
      exported: this._exported,
      droppedQueueFull: this._droppedQueueFull,
      droppedExportFailed: this._droppedExportFailed,
      sampledOut: this._sampledOut,
      errors: this._errors,
      requests: this._requests,
    };
  }

  /** Queue finished spans for export (capture path: O(spans), no I/O). */
  offer(spans: readonly Span[]): void {
    if (spans.length === 0) return;
    const cap = this.maxQueueSize;
    const ring = this._ring;
    const sampler = this._o.sampler;
    let dropped = 0;
    let sampledOut = 0;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (!this._all && !this._instrumentations.has(s.protocol)) continue;
      if (sampler !== undefined && !sampler(s)) {
        sampledOut++;
        continue;
      }
      if (this._len === cap || this._closed) {
        dropped++;
        continue;
      }
      let at = this._head + this._len;
      if (at >= cap) at -= cap;
      ring[at] = s;
      this._len++;
    }
    if (dropped > 0) {
      this._droppedQueueFull += dropped;
      this._o.internal?.spansDropped('queue_full', dropped);
    }
    if (sampledOut > 0) {
      this._sampledOut += sampledOut;
      this._o.internal?.spansDropped('sampled_out', sampledOut);
    }
    if (this._closed) return;
    if (this._len >= this.maxExportBatchSize) this._kick();
    else if (this._len > 0 && this._timer === undefined && this._sending === undefined) this._arm(this.batchTimeoutMs, false);
  }

  /** Export everything queued now (each batch tried once more, no back-off waits). */
  async flush(): Promise<void> {
    this._flushing++;
    try {
      if (this._sending !== undefined) await this._sending;
      this._clearTimer();
      while (this._pending !== undefined || this._len > 0) {
        const ok = await this._sendOne(true);
        if (!ok) {
          // the collector is not taking anything: do not spend one timeout per remaining batch
          this._dropQueued();
          break;
        }
      }
    } finally {
      this._flushing--;
    }
  }

  /** Flush, stop accepting spans, close the exporter's connections. */
  async shutdown(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    await this.flush();
    await this._o.sender.shutdown();
  }

  private _kick(): void {
    if (this._kicked || this._sending !== undefined || this._closed) return;
    if (this._timer !== undefined && this._timerIsRetry) return; // back-off in progress
    this._clearTimer();
    this._kicked = true;
    setImmediate(() => {
      this._kicked = false;
      this._run();
    });
  }

  private _arm(ms: number, isRetry: boolean): void {
    this._clearTimer();
    this._timerIsRetry = isRetry;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._run();
    }, ms);
    this._timer.unref?.();
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
    this._timerIsRetry = false;
  }

  private _run(): void {
    if (this._sending !== undefined || this._closed || this._flushing > 0) return;
    if (this._pending === undefined && this._len === 0) return;
    this._sending = this._sendOne(false).then(
      () => {
        this._sending = undefined;
        this._afterSend();
      },
      () => {
        this._sending = undefined;
        this._afterSend();
      },
    );
  }

  private _afterSend(): void {
    if (this._closed || this._flushing > 0) return;
    if (this._pending !== undefined) {
      // waiting for a retry
      this._arm(backoffDelay(this._backoff, this._attempt - 1, this._random), true);
      return;
    }
    if (this._len >= this.maxExportBatchSize) this._kick();
    else if (this._len > 0) this._arm(this.batchTimeoutMs, false);
  }

  /** Take up to one batch out of the ring. */
  private _take(): Span[] {
    const n = Math.min(this._len, this.maxExportBatchSize);
    const out = new Array<Span>(n);
    const cap = this.maxQueueSize;
    for (let i = 0; i < n; i++) {
      out[i] = this._ring[this._head]!;
      this._ring[this._head] = undefined;
      this._head = this._head + 1 === cap ? 0 : this._head + 1;
    }
    this._len -= n;
    return out;
  }

  private _dropQueued(): void {
    let n = this._len;
    while (this._len > 0) this._take();
    if (this._pending !== undefined) {
      n += this._pending.length;
      this._pending = undefined;
      this._pendingConverted = undefined;
    }
    if (n > 0) {
      this._droppedExportFailed += n;
      this._o.internal?.spansDropped('export_failed', n);
    }
  }

  /**
   * Send the pending batch (or a new one). Returns whether it was delivered. On a retryable
   * failure the batch stays pending (unless `final`, or it is too old); otherwise it is dropped.
   */
  private async _sendOne(final: boolean): Promise<boolean> {
    if (this._pending === undefined) {
      if (this._len === 0) return true;
      this._pending = this._take();
      this._pendingConverted = undefined;
      this._attempt = 0;
    }
    const batch = this._pending;
    if (this._pendingConverted === undefined) {
      const resources = this._o.resources;
      const epoch = new EpochConverter(this._o.clock);
      const converted = new Array<ReadableSpan>(batch.length);
      let lastService: Span['service'] | undefined;
      let resource = undefined as ReturnType<ResourceCache['get']> | undefined;
      for (let i = 0; i < batch.length; i++) {
        const svc = batch[i].service;
        if (svc !== lastService) {
          resource = resources.get(svc);
          lastService = svc;
        }
        converted[i] = toReadableSpan(batch[i], resource!, epoch);
      }
      this._pendingConverted = converted;
    }
    this._requests++;
    const outcome = await this._o.sender.send(this._pendingConverted);
    if (outcome.ok) {
      this._exported += batch.length;
      this._o.selfMetrics?.traceExport(batch.length);
      this._pending = undefined;
      this._pendingConverted = undefined;
      this._attempt = 0;
      if (this._failing) {
        this._failing = false;
        this._o.log?.info('OTLP trace export resumed', { endpoint: this._o.endpoint });
      }
      return true;
    }
    this._errors++;
    this._o.selfMetrics?.traceExportError(outcome.error);
    const now = this._now();
    if (this._attempt === 0) this._firstFailureAt = now;
    this._attempt++;
    const maxElapsed = this._backoff.maxElapsedMs;
    const giveUp = final || !isRetryable(outcome.error) || (maxElapsed > 0 && now - this._firstFailureAt >= maxElapsed);
    if (!this._failing) {
      this._failing = true;
      this._o.log?.warn('OTLP trace export failing; spans are queued (bounded) and retried', {
        endpoint: this._o.endpoint,
        error: exportErrorType(outcome.error),
        detail: (outcome.error as Error | undefined)?.message,
      });
    }
    if (giveUp) {
      this._droppedExportFailed += batch.length;
      this._o.internal?.spansDropped('export_failed', batch.length);
      this._pending = undefined;
      this._pendingConverted = undefined;
      this._attempt = 0;
    }
    return false;
  }
}

function positiveInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  return n;
}
