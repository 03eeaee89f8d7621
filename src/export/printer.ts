/**
 * Trace printer (`trace_printer` / `OTEL_EBPF_TRACE_PRINTER`): `disabled`, `counter`,
 * `text`, `json`, `json_indent`. Writes to an injected stream (default stdout), one
 * `write()` per batch of spans.
 *
 * `text`: one line per span, modelled on OBI's text printer:
 *
 *     <start> (<duration>) <TYPE> <status> <METHOD> <path>[ route=<route>] [<client>]->[<server>] contentLen:<n>B responseLen:<n>B svc=[<job> <language>] traceparent=[00-<trace id>-<span id>[<parent span id>]-<flags>]
 *
 * - `<start>`: wall-clock start, ISO-8601 UTC with microseconds;
 * - `<duration>`: end − start in Go's duration notation (`850µs`, `12.5ms`, `1.2s`, `1m3s`);
 * - `<TYPE>`: the protocol upper-cased, `Client` appended for client spans (`HTTP`, `HTTPClient`);
 * - `<path>`: `url.path` (server) or `url.full` (client), query redacted as in the span;
 * - `<client>`/`<server>`: `<ip>:<port> as <name>` (IPv6 as `[<ip>]:<port>`); the instrumented side is named
 *   `<service>[.<namespace>]`, the peer by `server.address` (client spans) or its IP;
 * - `<job>`: `<namespace>/<service>`, or `<service>` without namespace;
 * - `<parent span id>`: 16 zeros for a root span.
 *
 * `json` / `json_indent`: one JSON object per span ({@link spanToJSON}); `json` puts one
 * per line, `json_indent` indents with one space (as OBI does). OBI itself prints one
 * JSON array per batch; obi-ts prints JSON Lines so the output can be streamed.
 *
 * `counter`: counts spans and prints `Processed <N> requests` every interval (1 s by
 * default) when the count changed, and once more on `close()`.
 */
import type { Writable } from 'node:stream';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { ATTR_HTTP_REQUEST_BODY_SIZE, ATTR_HTTP_RESPONSE_BODY_SIZE } from '@opentelemetry/semantic-conventions/incubating';
import type { MonoClock } from '../telemetry/clock.ts';
import { serviceJob } from '../telemetry/metrics.ts';
import type { Span } from '../telemetry/span.ts';

export type TracePrinterMode = 'disabled' | 'counter' | 'text' | 'json' | 'json_indent';

export const TRACE_PRINTER_MODES: readonly TracePrinterMode[] = ['disabled', 'counter', 'text', 'json', 'json_indent'];

export interface PrinterTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface TracePrinterOptions {
  /** default `process.stdout` */
  readonly out?: Pick<Writable, 'write'>;
  /** monotonic → wall clock; required for `text`, `json`, `json_indent` */
  readonly clock?: MonoClock;
  /** `counter` mode print period; default 1000 ms */
  readonly intervalMs?: number;
  /** default the global `setInterval`/`clearInterval` (the timer is unref'd when it can be) */
  readonly timers?: PrinterTimers;
}

const ZERO_SPAN_ID = '0000000000000000';

const defaultTimers: PrinterTimers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** Go's `time.Duration.String()` notation for a duration in ns. */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  let n = Math.round(ns);
  if (n === 0) return '0s';
  const sign = n < 0 ? '-' : '';
  if (n < 0) n = -n;
  const frac = (value: number, unit: number, digits: number, suffix: string): string => {
    const whole = Math.floor(value / unit);
    const rest = value - whole * unit;
    if (rest === 0) return `${whole}${suffix}`;
    const f = rest.toString().padStart(digits, '0').replace(/0+$/, '');
    return `${whole}.${f}${suffix}`;
  };
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return sign + frac(n, 1e3, 3, 'µs');
  if (n < 1e9) return sign + frac(n, 1e6, 6, 'ms');
  const hours = Math.floor(n / 3.6e12);
  const minutes = Math.floor((n - hours * 3.6e12) / 6e10);
  const secNs = n - hours * 3.6e12 - minutes * 6e10;
  const secs = frac(secNs, 1e9, 9, 's');
  if (hours > 0) return `${sign}${hours}h${minutes}m${secs}`;
  if (minutes > 0) return `${sign}${minutes}m${secs}`;
  return sign + secs;
}

function endpoint(addr: string, port: number): string {
  return addr.indexOf(':') >= 0 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function serviceLabel(span: Span): string {
  return span.service.namespace.length > 0 ? `${span.service.name}.${span.service.namespace}` : span.service.name;
}

function attrStr(span: Span, key: string): string | undefined {
  const v = span.attributes[key];
  return v === undefined ? undefined : String(v);
}

/** The `text` line of one span (without the newline). */
export function formatSpanText(span: Span, clock: MonoClock): string {
  const isClient = span.kind === 'client';
  const type = span.protocol.toUpperCase() + (isClient ? 'Client' : '');
  const status = attrStr(span, ATTR_HTTP_RESPONSE_STATUS_CODE) ?? '-';
  const method = attrStr(span, ATTR_HTTP_REQUEST_METHOD) ?? span.name;
  const path = (isClient ? attrStr(span, ATTR_URL_FULL) : attrStr(span, ATTR_URL_PATH)) ?? '-';
  const route = attrStr(span, ATTR_HTTP_ROUTE);
  let peers = '';
  const c = span.conn;
  if (c !== undefined) {
    const self = serviceLabel(span);
    if (isClient) {
      const serverName = attrStr(span, ATTR_SERVER_ADDRESS) ?? c.remoteAddr;
      peers = ` [${endpoint(c.localAddr, c.localPort)} as ${self}]->[${endpoint(c.remoteAddr, c.remotePort)} as ${serverName}]`;
    } else {
      peers = ` [${endpoint(c.remoteAddr, c.remotePort)} as ${c.remoteAddr}]->[${endpoint(c.localAddr, c.localPort)} as ${self}]`;
    }
  }
  const req = attrStr(span, ATTR_HTTP_REQUEST_BODY_SIZE) ?? '0';
  const resp = attrStr(span, ATTR_HTTP_RESPONSE_BODY_SIZE) ?? '0';
  const flags = span.traceFlags.toString(16).padStart(2, '0');
  return (
    `${clock.toISO(span.startNs)} (${formatDuration(span.endNs - span.startNs)}) ${type} ${status} ${method} ${path}` +
    (route === undefined ? '' : ` route=${route}`) +
    `${peers} contentLen:${req}B responseLen:${resp}B svc=[${serviceJob(span.service)} ${span.service.language}]` +
    ` traceparent=[00-${span.traceId}-${span.spanId}[${span.parentSpanId ?? ZERO_SPAN_ID}]-${flags}]`
  );
}

/** The object `json` / `json_indent` print for one span. */
export function spanToJSON(span: Span, clock: MonoClock): Record<string, unknown> {
  const o: Record<string, unknown> = {
    traceId: span.traceId,
    spanId: span.spanId,
  };
  if (span.parentSpanId !== undefined) o.parentSpanId = span.parentSpanId;
  o.traceFlags = span.traceFlags;
  o.name = span.name;
  o.kind = span.kind;
  o.protocol = span.protocol;
  o.start = clock.toISO(span.startNs);
  o.end = clock.toISO(span.endNs);
  o.durationNs = span.endNs - span.startNs;
  o.status = span.status;
  if (span.statusMessage !== undefined) o.statusMessage = span.statusMessage;
  o.attributes = span.attributes;
  o.service = {
    name: span.service.name,
    namespace: span.service.namespace,
    instanceId: span.service.instanceId,
    pid: span.service.pid,
    language: span.service.language,
  };
  if (span.conn !== undefined) o.conn = span.conn;
  return o;
}

export class TracePrinter {
  readonly mode: TracePrinterMode;
  private readonly _out: Pick<Writable, 'write'>;
  private readonly _clock: MonoClock | undefined;
  private readonly _timers: PrinterTimers;
  private _timer: unknown;
  private _count = 0;
  private _printedCount = 0;
  private _closed = false;

  constructor(mode: TracePrinterMode, options: TracePrinterOptions = {}) {
    if (!TRACE_PRINTER_MODES.includes(mode)) throw new RangeError(`unknown trace printer mode '${mode}'`);
    this.mode = mode;
    this._out = options.out ?? process.stdout;
    this._clock = options.clock;
    this._timers = options.timers ?? defaultTimers;
    if ((mode === 'text' || mode === 'json' || mode === 'json_indent') && this._clock === undefined) {
      throw new RangeError(`trace printer mode '${mode}' needs a clock`);
    }
    if (mode === 'counter') {
      const interval = options.intervalMs ?? 1000;
      if (!(interval > 0)) throw new RangeError(`intervalMs must be > 0, got ${interval}`);
      this._timer = this._timers.setInterval(() => this.flush(), interval);
    }
  }

  /** true unless `disabled` (a printer counts as an exporter when enabled) */
  get enabled(): boolean {
    return this.mode !== 'disabled';
  }

  /** spans seen (counter mode) */
  get count(): number {
    return this._count;
  }

  /** Print a batch: one write for the whole batch. */
  print(spans: readonly Span[]): void {
    if (this._closed || spans.length === 0) return;
    switch (this.mode) {
      case 'disabled':
        return;
      case 'counter':
        this._count += spans.length;
        return;
      case 'text': {
        let s = '';
        for (let i = 0; i < spans.length; i++) s += formatSpanText(spans[i], this._clock!) + '\n';
        this._out.write(s);
        return;
      }
      case 'json':
      case 'json_indent': {
        const indent = this.mode === 'json_indent' ? ' ' : undefined;
        let s = '';
        for (let i = 0; i < spans.length; i++) s += JSON.stringify(spanToJSON(spans[i], this._clock!), null, indent) + '\n';
        this._out.write(s);
        return;
      }
    }
  }

  /** Counter mode: print the total now if it changed since the last print. */
  flush(): void {
    if (this.mode !== 'counter' || this._count === this._printedCount) return;
    this._printedCount = this._count;
    this._out.write(`Processed ${this._count} requests\n`);
  }

  /** Stop the counter timer and print the final count if it changed. Idempotent. */
  close(): void {
    if (this._closed) return;
    if (this._timer !== undefined) {
      this._timers.clearInterval(this._timer);
      this._timer = undefined;
    }
    this.flush();
    this._closed = true;
  }
}
