/**
 * Pure parsers for what the benchmark reads: wrk's report, redis-benchmark's CSV,
 * Prometheus text exposition, the trace printer's counter lines, and OTLP/HTTP
 * protobuf trace requests (spans counted by walking the wire format).
 */

/** wrk's time notation (`499.00us`, `1.39ms`, `2.00s`, `1.00m`) in microseconds */
export function parseWrkTime(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  if (!m) throw new Error(`not a wrk time: "${s}"`);
  const v = Number(m[1]);
  const unit = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 }[m[2] as 'us' | 'ms' | 's' | 'm' | 'h'];
  return v * unit;
}

export interface WrkResult {
  readonly threads: number;
  readonly connections: number;
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  /** latency percentiles (50, 75, 90, 99) in µs */
  readonly latencyUs: Readonly<Record<'50' | '75' | '90' | '99', number>>;
  /** socket errors (connect + read + write + timeout) */
  readonly socketErrors: number;
  readonly non2xx: number;
}

export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk output has no ${what}:\n${out}`);
    return m;
  };
  const tc = num(/(\d+) threads and (\d+) connections/, 'thread/connection line');
  const total = num(/(\d+) requests in ([\d.]+\w+),/, 'request total');
  const rps = num(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const lat: Record<string, number> = {};
  for (const p of ['50', '75', '90', '99']) lat[p] = parseWrkTime(num(new RegExp(`^\\s+${p}%\\s+(\\S+)\\s*$`, 'm'), `${p}% latency (run wrk with --latency)`)[1]);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const n2 = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    threads: Number(tc[1]),
    connections: Number(tc[2]),
    requests: Number(total[1]),
    durationS: parseWrkTime(total[2]) / 1e6,
    rps: Number(rps[1]),
    latencyUs: lat as WrkResult['latencyUs'],
    socketErrors: se ? Number(se[1]) + Number(se[2]) + Number(se[3]) + Number(se[4]) : 0,
    non2xx: n2 ? Number(n2[1]) : 0,
  };
}

export interface RedisBenchRow {
  readonly test: string;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** `redis-benchmark --csv` (Redis 7: test, rps, avg, min, p50, p95, p99, max latency in ms) */
export function parseRedisCsv(out: string): RedisBenchRow[] {
  const lines = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('"'));
  if (lines.length < 2) throw new Error(`redis-benchmark printed no CSV rows:\n${out}`);
  const cells = (l: string): string[] => l.split(',').map((c) => c.replace(/^"|"$/g, ''));
  const head = cells(lines[0]);
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`redis-benchmark CSV has no "${name}" column: ${lines[0]}`);
    return i;
  };
  const [ti, ri, p50, p99] = [col('test'), col('rps'), col('p50_latency_ms'), col('p99_latency_ms')];
  return lines.slice(1).map((l) => {
    const c = cells(l);
    return { test: c[ti], rps: Number(c[ri]), p50Us: Number(c[p50]) * 1000, p99Us: Number(c[p99]) * 1000 };
  });
}

export interface PromSample {
  readonly name: string;
  /** the raw label block without braces ('' when none) */
  readonly labels: string;
  readonly value: number;
}

/** Prometheus text exposition → samples (comments skipped; a trailing timestamp is ignored) */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let name: string;
    let labels = '';
    let rest: string;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      let i = brace + 1;
      let inQ = false;
      for (; i < line.length; i++) {
        const ch = line[i];
        if (inQ && ch === '\\') i++;
        else if (ch === '"') inQ = !inQ;
        else if (ch === '}' && !inQ) break;
      }
      labels = line.slice(brace + 1, i);
      rest = line.slice(i + 1).trim();
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const v = rest.split(/\s+/)[0];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    out.push({ name, labels, value });
  }
  return out;
}

/** sum of every series of the metrics `match` accepts */
export function sumMetric(samples: readonly PromSample[], match: string | ((name: string) => boolean)): number {
  const ok = typeof match === 'string' ? (n: string) => n === match : match;
  let t = 0;
  for (const s of samples) if (ok(s.name)) t += s.value;
  return t;
}

/**
 * Spans the agent produced, as seen on /metrics: every span is recorded once in its
 * RED duration histogram, so the sum of the `_count` series of every
 * `*_duration_seconds` histogram (HTTP server and client today; database and
 * messaging ones as they land) counts them. Agent self-metrics (`obi_*`) excluded.
 */
export function spansFromMetrics(samples: readonly PromSample[]): number {
  return sumMetric(samples, (n) => n.endsWith('_duration_seconds_count') && !n.startsWith('obi_'));
}

/** last `Processed <N> requests` line of the `counter` trace printer, 0 if none */
export function lastPrinterCount(stdout: string): number {
  let n = 0;
  const re = /^Processed (\d+) requests$/gm;
  for (let m = re.exec(stdout); m; m = re.exec(stdout)) n = Number(m[1]);
  return n;
}

/**
 * Calls `fn(field, wireType, start, end)` for each field of the protobuf message in
 * `buf[start, end)`; for length-delimited fields `[start, end)` is the payload, for
 * the others it spans the value. Throws on a malformed message.
 */
export function forEachField(buf: Uint8Array, start: number, end: number, fn: (field: number, wireType: number, start: number, end: number) => void): void {
  let i = start;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let n = 0; n < 10; n++) {
      if (i >= end) throw new Error('truncated varint');
      const b = buf[i++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new Error('varint too long');
  };
  while (i < end) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    const s = i;
    switch (wt) {
      case 0:
        varint();
        break;
      case 1:
        i += 8;
        break;
      case 2: {
        const len = varint();
        fn(field, wt, i, i + len);
        i += len;
        if (i > end) throw new Error('truncated field');
        continue;
      }
      case 5:
        i += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wt}`);
    }
    if (i > end) throw new Error('truncated field');
    fn(field, wt, s, i);
  }
}

/**
 * Spans in an OTLP `ExportTraceServiceRequest` (protobuf): resource_spans = 1,
 * ResourceSpans.scope_spans = 2, ScopeSpans.spans = 2.
 */
export function countOtlpSpans(buf: Uint8Array): number {
  let n = 0;
  forEachField(buf, 0, buf.length, (f, wt, s, e) => {
    if (f !== 1 || wt !== 2) return;
    forEachField(buf, s, e, (f2, wt2, s2, e2) => {
      if (f2 !== 2 || wt2 !== 2) return;
      forEachField(buf, s2, e2, (f3, wt3) => {
        if (f3 === 2 && wt3 === 2) n++;
      });
    });
  });
  return n;
}

/** spans in an OTLP/JSON trace request */
export function countOtlpJsonSpans(body: string): number {
  const doc = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
  let n = 0;
  for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}
