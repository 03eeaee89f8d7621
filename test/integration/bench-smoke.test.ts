/**
 * The benchmark harness, briefly: its parsers and report logic on fixed inputs, then
 * `bench/run.ts --smoke` for real (nginx instrumented by obi-ts as a separate
 * process, 2 s of wrk), checking the JSON, the Markdown table and the SVG it writes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countOtlpJsonSpans, countOtlpSpans, lastPrinterCount, parsePrometheus, parseRedisCsv, parseWrk, parseWrkTime, spansFromMetrics, sumMetric } from '../../bench/lib/parse.ts';
import { renderSvg } from '../../bench/lib/chart.ts';
import { buildRows, buildTargets, propagationTable, renderMarkdown } from '../../bench/lib/report.ts';
import { rssTotal } from '../../bench/lib/memory.ts';
import { median, rotate, spread } from '../../bench/lib/stats.ts';
import { parseOptions } from '../../bench/run.ts';
import type { BenchResult, Sample } from '../../bench/lib/types.ts';
import { nodeBin, run } from '../helpers/harness.ts';
import { agentOf, sample } from '../helpers/bench-samples.ts';

const WRK_OUT = `Running 5s test @ http://127.0.0.1:18080/index.html
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   549.30us  236.44us   5.38ms   92.28%
    Req/Sec    59.62k    10.51k   71.13k    68.00%
  Latency Distribution
     50%  499.00us
     75%  578.00us
     90%  621.00us
     99%    1.39ms
  296025 requests in 5.00s, 236.58MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  59193.52
Transfer/sec:     47.31MB
`;

/** protobuf length-delimited field */
function ld(field: number, body: Buffer): Buffer {
  const tag = Buffer.from([(field << 3) | 2]);
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([tag, Buffer.from(len), body]);
}

function otlpSpan(name: string): Buffer {
  return Buffer.concat([
    ld(1, Buffer.alloc(16, 0xab)), // trace_id
    ld(2, Buffer.alloc(8, 0xcd)), // span_id
    ld(5, Buffer.from(name)), // name
    Buffer.from([6 << 3, 2]), // kind = SERVER (varint)
    Buffer.concat([Buffer.from([(7 << 3) | 1]), Buffer.alloc(8, 1)]), // start_time_unix_nano (fixed64)
    ld(9, Buffer.concat([ld(1, Buffer.from('http.route')), ld(2, ld(1, Buffer.from('x'.repeat(300))))])), // a long attribute: 2-byte lengths
  ]);
}

describe('bench harness: parsers and report (pure)', () => {
  test('wrk output: totals, rate, latency percentiles in µs, errors', () => {
    const r = parseWrk(WRK_OUT);
    assert.equal(r.threads, 1);
    assert.equal(r.connections, 32);
    assert.equal(r.requests, 296025);
    assert.equal(r.durationS, 5);
    assert.equal(r.rps, 59193.52);
    assert.deepEqual(r.latencyUs, { '50': 499, '75': 578, '90': 621, '99': 1390 });
    assert.equal(r.socketErrors, 6);
    assert.equal(r.non2xx, 7);
    assert.equal(parseWrkTime('2.00s'), 2e6);
    assert.equal(parseWrkTime('1.00m'), 60e6);
    assert.throws(() => parseWrk(WRK_OUT.replace(/Latency Distribution[\s\S]*?99%\s+1.39ms\n/, '')), /--latency/);
  });

  test('redis-benchmark CSV', () => {
    const rows = parseRedisCsv('"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"\n"SET","74294.21","0.235","0.056","0.223","0.311","0.503","5.095"\n');
    assert.deepEqual(rows, [{ test: 'SET', rps: 74294.21, p50Us: 223, p99Us: 503 }]);
    assert.throws(() => parseRedisCsv('Could not connect to Redis at 127.0.0.1:1: Connection refused\n'), /no CSV rows/);
  });

  test('Prometheus text: labels with spaces, braces and quotes; spans from the RED histograms', () => {
    const text = [
      '# HELP obi_ebpf_events_dropped_total Events the eBPF programs could not submit',
      '# TYPE obi_ebpf_events_dropped_total counter',
      'obi_ebpf_events_dropped_total 3',
      'http_server_request_duration_seconds_count{http_route="/a b",service_name="x{y}",q="say \\"}\\""} 10',
      'http_server_request_duration_seconds_count{http_route="/c"} 5 1700000000000',
      'http_client_request_duration_seconds_count{server_port="80"} 2',
      'http_server_request_duration_seconds_sum{http_route="/c"} 0.5',
      'obi_fake_duration_seconds_count 100',
      'obi_instrumented_processes{process_name="nginx"} 2',
    ].join('\n');
    const s = parsePrometheus(text);
    assert.equal(s.length, 7);
    assert.equal(s[1].labels, 'http_route="/a b",service_name="x{y}",q="say \\"}\\""');
    assert.equal(s[1].value, 10);
    assert.equal(sumMetric(s, 'obi_ebpf_events_dropped_total'), 3);
    assert.equal(spansFromMetrics(s), 17);
    assert.equal(sumMetric(s, 'obi_instrumented_processes'), 2);
  });

  test('the counter printer total is its last line', () => {
    assert.equal(lastPrinterCount('Processed 10 requests\nProcessed 250 requests\n'), 250);
    assert.equal(lastPrinterCount(''), 0);
  });

  test('OTLP trace requests: spans counted in protobuf and JSON', () => {
    const scope = ld(1, Buffer.from([0x0a, 0x04, 0x74, 0x65, 0x73, 0x74])); // InstrumentationScope{name:"test"}
    const ss1 = ld(2, Buffer.concat([scope, ld(2, otlpSpan('GET /a')), ld(2, otlpSpan('GET /b')), ld(3, Buffer.from('https://schema'))]));
    const ss2 = ld(2, Buffer.concat([scope, ld(2, otlpSpan('GET /c'))]));
    const resource = ld(1, ld(1, Buffer.concat([ld(1, Buffer.from('service.name')), ld(2, ld(1, Buffer.from('svc')))])));
    const req = Buffer.concat([ld(1, Buffer.concat([resource, ss1, ss2])), ld(1, Buffer.concat([resource, ss2]))]);
    assert.equal(countOtlpSpans(req), 4);
    assert.equal(countOtlpSpans(Buffer.alloc(0)), 0);
    assert.throws(() => countOtlpSpans(req.subarray(0, req.length - 3)), /truncated/);
    assert.equal(countOtlpJsonSpans(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{}, {}] }, { spans: [{}] }] }] })), 3);
  });

  test('medians, spreads, rotation, options', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.deepEqual(spread([5, undefined, 1, NaN, 3]), { median: 3, min: 1, max: 5, n: 3 });
    assert.equal(spread([]), undefined);
    assert.deepEqual([0, 1, 2].map((k) => rotate(['a', 'b', 'c'], k).join('')), ['abc', 'bca', 'cab']);
    const smoke = parseOptions(['--smoke']);
    assert.equal(smoke.reps, 1);
    assert.equal(smoke.durationS, 2);
    assert.deepEqual(smoke.groups, ['nginx-http']);
    assert.deepEqual(smoke.configs, ['obi']);
    assert.equal(smoke.micro, false);
    const full = parseOptions(['--reps', '5', '--only=node,redis', '--no-micro']);
    assert.equal(full.reps, 5);
    assert.equal(full.durationS, 10);
    assert.deepEqual(full.groups, ['node', 'redis']);
    assert.throws(() => parseOptions(['--only', 'mongo']), /unknown "mongo"/);
    assert.throws(() => parseOptions(['--fast']), /unknown argument/);
  });

  test('rows pair each run with its repetition\'s baseline; targets pass and fail on the thresholds', () => {
    const samples: Sample[] = [];
    const base = [100_000, 90_000, 110_000];
    base.forEach((b, rep) => {
      samples.push(sample('nginx-http', 'none', rep, b));
      samples.push(sample('nginx-http', 'idle', rep, b * 0.92, { agent: agentOf(b * 0.92, { mcPer10k: 1, spans: 0, spanDiff: -b * 9.2 }) }));
      samples.push(sample('nginx-http', 'obi', rep, b * [0.91, 0.95, 0.93][rep], { agent: agentOf(b, { dropped: rep === 2 ? 4 : 0, spanDiff: rep === 1 ? -33 : 12 }) }));
      samples.push(sample('node', 'none', rep, 40_000));
      samples.push(sample('node', 'obi', rep, 40_000 * 0.9, { agent: agentOf(36_000, { mcPer10k: 25, rssSteadyMB: 130, hwmMB: 160 }) }));
      samples.push(sample('node', 'sdk', rep, 40_000 * 0.3, { sdk: { spansReceived: 120_032, requestsTotal: 120_000, traceRequests: 300, metricRequests: 1 } }));
      samples.push(sample('nginx-http-paced', 'none', rep, 5000, { p50Us: 200, p99Us: 400 }));
      samples.push(sample('nginx-http-paced', 'obi', rep, 5000, { p50Us: 210, p99Us: [420, 480, 440][rep], agent: agentOf(5000) }));
    });
    const rows = buildRows(samples);
    assert.deepEqual(rows.map((r) => `${r.scenario}/${r.config}`), ['nginx-http/none', 'nginx-http/idle', 'nginx-http/obi', 'node/none', 'node/obi', 'node/sdk', 'nginx-http-paced/none', 'nginx-http-paced/obi']);
    const ngx = rows[2];
    assert.deepEqual(ngx.ratio, { median: 0.93, min: 0.91, max: 0.95, n: 3 });
    assert.equal(ngx.dropped, 4);
    assert.deepEqual(ngx.spanDiffs, [12, -33, 12]);
    assert.equal(rows[0].ratio, undefined);
    const t = buildTargets(rows, samples, []);
    const by = (m: string) => t.find((x) => x.measure.startsWith(m))!;
    assert.equal(by('nginx static file, HTTP').status, 'PASS');
    assert.equal(by('nginx static file, HTTP').measured, '0.930 (0.910–0.950)');
    assert.equal(by('Node.js http server').status, 'FAIL');
    assert.equal(by('agent CPU, nginx').status, 'PASS');
    assert.equal(by('agent CPU, Node.js').status, 'FAIL');
    assert.equal(by('agent memory, RSS steady').status, 'FAIL');
    assert.equal(by('agent memory, peak').status, 'FAIL');
    assert.equal(by('lost events').status, 'FAIL');
    assert.equal(by('spans vs requests').status, 'FAIL'); // −33 with 32 connections
    assert.match(by('spans vs requests').note, /nginx-http: \+12, -33, \+12 \(bound ±32\)/);
    assert.equal(t.some((x) => x.measure.includes('HTTPS')), false);
    // p99 ratios pair each run with its repetition's baseline: saturated 1500/1500, paced 420/400, 480/400, 440/400
    assert.equal(by('p99 latency with obi-ts / without, nginx static file, HTTP (1 worker').measured, '1.00 (1.00–1.00)');
    assert.equal(by('p99 latency with obi-ts / without, nginx static file, HTTP (1 worker').status, 'PASS');
    assert.equal(by('p99 latency with obi-ts / without, nginx static file, HTTP, at a fixed rate').measured, '1.10 (1.05–1.20)');
    assert.equal(by('p99 latency with obi-ts / without, nginx static file, HTTP, at a fixed rate').status, 'PASS');
    assert.equal(t.filter((x) => x.measure.startsWith('agent CPU, nginx static file, HTTP, at a fixed rate')).length, 0);
    const svg = renderSvg(rows, 'test & <chart>');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('test &amp; &lt;chart&gt;'));
    assert.equal((svg.match(/<rect x="250" y="\d+" width="[\d.]+" height="16"/g) ?? []).length, 4); // idle, obi (nginx), obi, sdk (node)
    const md = renderMarkdown({ schema: 1, date: '2026-01-01', startedAt: 'a', finishedAt: 'b', machine: { kernel: 'k', cpu: 'c', cpus: 2, memMB: 1000, node: 'v24', loadAvgStart: [0], loadAvgEnd: [1] }, options: parseOptions([]), samples, errors: [], rows, targets: t, pending: ['nginx-https rows: pending'], notes: ['n'], micro: [] } satisfies BenchResult, 'x.svg');
    assert.match(md, /\| nginx static file, HTTP \(1 worker, wrk keep-alive\): throughput with obi-ts \/ without \| ≥ 0.9 \| 0.930 \(0.910–0.950\) \| \*\*PASS\*\* \|/);
    assert.match(md, /!\[throughput with instrumentation \/ without\]\(x.svg\)/);
    assert.match(md, /SDK spans received \/ requests: 120032\/120000/);
    assert.match(md, /Per request with obi-ts \(medians\): 3\.00 ring records, 1,500 bytes read from the ring; agent 4\.00 µs CPU, of which ingest 2\.00 µs and process 0\.50 µs \(wall time in those stages\), the rest 1\.50 µs \(native drain, timers, GC, scrapes\); the CPU given away mid-drain 27\.5 times per 1,000 requests\./);
  });
});

test('events lost in a warm-up fail the lost-events target and show in the row, though the windows lost none', () => {
  const samples: Sample[] = [];
  for (const rep of [0, 1, 2]) {
    samples.push(sample('nginx-http', 'none', rep, 100_000));
    samples.push(sample('nginx-http', 'obi', rep, 60_000, { agent: agentOf(60_000, { droppedWarmup: rep === 1 ? 587 : 0 }) }));
  }
  const rows = buildRows(samples);
  assert.equal(rows[1].dropped, 0);
  assert.equal(rows[1].droppedWarmup, 587);
  const lost = buildTargets(rows, samples, []).find((x) => x.measure.startsWith('lost events'))!;
  assert.equal(lost.status, 'FAIL');
  assert.equal(lost.measured, '0 dropped in 3 instrumented runs');
  assert.match(lost.note, /587 more lost in the warm-ups \(nginx-http\)/);
  const clean = buildRows(samples.map((s) => (s.agent ? { ...s, agent: { ...s.agent, droppedWarmup: 0 } } : s)));
  const ok = buildTargets(clean, samples.map((s) => (s.agent ? { ...s, agent: { ...s.agent, droppedWarmup: 0 } } : s)), []).find((x) => x.measure.startsWith('lost events'))!;
  assert.equal(ok.status, 'PASS');
  assert.match(ok.note, /0 lost in the warm-ups/);
  // a window's loss below the sustained rate fails it too, and says where
  const slow = samples.map((s) => (s.agent ? { ...s, agent: { ...s.agent, droppedWarmup: 0 } } : s));
  slow.push(sample('genai-https-large', 'obi', 0, 6000, { agent: agentOf(6000, { dropped: 78 }) }));
  const slowLost = buildTargets(buildRows(slow), slow, []).find((x) => x.measure.startsWith('lost events'))!;
  assert.equal(slowLost.status, 'FAIL');
  assert.match(slowLost.note, /0 events lost; 78 lost below that rate \(genai-https-large rep 0: 78 at 6,000 req\/s\)/);
});

test('a missed p99 target says why: at saturation Little\'s law from the throughput ratio; at a fixed rate the added CPU and the agent\'s cores', () => {
  const samples: Sample[] = [];
  for (let rep = 0; rep < 3; rep++) {
    samples.push(sample('nginx-http', 'none', rep, 100_000, { p50Us: 300, p99Us: 1000 }));
    samples.push(sample('nginx-http', 'obi', rep, 50_000, { p50Us: 600, p99Us: 4000, agent: agentOf(50_000) }));
    samples.push(sample('nginx-http-paced', 'none', rep, 5000, { p50Us: 200, p99Us: 400, appCpuUsPerRequest: 10 }));
    samples.push(sample('nginx-http-paced', 'obi', rep, 5000, { p50Us: 250, p99Us: 800, appCpuUsPerRequest: 14, agent: agentOf(5000, { mcPer10k: 40 }) }));
  }
  const t = buildTargets(buildRows(samples), samples, []);
  const sat = t.find((x) => x.measure.startsWith('p99 latency with obi-ts / without, nginx static file, HTTP (1 worker'))!;
  assert.equal(sat.status, 'FAIL');
  assert.match(sat.note, /keeps 32 requests in flight .* the throughput ratio 0\.500 alone predicts 2\.00 for every percentile; the measured p50 ratio is 2\.00, and the p99's excess over the prediction \(×2\.00\)/);
  const paced = t.find((x) => x.measure.startsWith('p99 latency with obi-ts / without, nginx static file, HTTP, at a fixed rate'))!;
  assert.equal(paced.status, 'FAIL');
  assert.match(paced.note, /application CPU \+4\.00 µs, in its syscalls\) and waiting for a core: the agent used 0\.02 cores/);
  // no tail beyond Little's law, and no added application CPU: each note says so instead
  const flat = samples.map((s) => (s.scenario === 'nginx-http' && s.config === 'obi' ? { ...s, p99Us: 2000 } : s.scenario === 'nginx-http-paced' && s.config === 'obi' ? { ...s, appCpuUsPerRequest: 9.5 } : s));
  const t2 = buildTargets(buildRows(flat), flat, []);
  const sat2 = t2.find((x) => x.measure === sat.measure)!;
  assert.equal(sat2.status, 'FAIL');
  assert.match(sat2.note, /the p99 is within the prediction \(×1\.00\), so this miss is the throughput's alone\. At saturation/);
  const paced2 = t2.find((x) => x.measure === paced.measure)!;
  assert.match(paced2.note, /the application's CPU per request did not rise \(-0\.50 µs\), so at a fixed rate the extra latency is waiting for a core: the agent used 0\.02 cores/);
});

test('propagation rows: 2 spans per request bound the span check; each mode against its baseline and against off; kept out of the targets', () => {
  const samples: Sample[] = [];
  const prop = (mode: string, opt: number, inj: number, links: Record<string, number>) => ({ optionsWrittenPerRequest: opt, optionsReadPerRequest: opt, parentsPerRequest: opt, injectionsPerRequest: inj, skippedPerRequest: 0, fallbacks: 0, mode, linksPerRequest: links });
  const modes = [
    { id: 'off', ratio: 0.5, p: prop('disabled', 0, 0, { connection_join: 1 }) },
    { id: 'tcp', ratio: 0.45, p: prop('tcp', 1, 0, { connection_join: 1 }) },
    { id: 'headers', ratio: 0.4, p: prop('headers', 0, 1, { remote_parent: 1, connection_join: 0.001 }) },
  ];
  for (let rep = 0; rep < 3; rep++) {
    for (const m of modes) {
      const scenario = `nginx-prop-${m.id}`;
      samples.push(sample(scenario, 'none', rep, 60_000, { group: scenario as Sample['group'], loadGenCpuUsPerRequest: 10 }));
      samples.push(sample(scenario, 'obi', rep, 60_000 * m.ratio, { group: scenario as Sample['group'], loadGenCpuUsPerRequest: 14, agent: agentOf(30_000, { spanDiff: rep === 0 ? 63 : 2, spansPerRequestExpected: 2, propagation: m.p }) }));
    }
  }
  const rows = buildRows(samples);
  const hdr = rows.find((r) => r.scenario === 'nginx-prop-headers' && r.config === 'obi')!;
  assert.equal(hdr.spansPerRequest, 2);
  assert.deepEqual(hdr.injectionsPerRequest, { median: 1, min: 1, max: 1, n: 3 });
  assert.deepEqual(hdr.propModes, ['headers']);
  const t = buildTargets(rows, samples, []);
  // +63 is within 32 connections × 2 spans; no throughput, p99 or agent-CPU target for these rows
  assert.equal(t.find((x) => x.measure === 'spans vs requests completed')!.status, 'PASS');
  assert.match(t.find((x) => x.measure === 'spans vs requests completed')!.note, /nginx-prop-headers: \+63, \+2, \+2 \(bound ±64, 2 spans per request\)/);
  assert.equal(t.filter((x) => x.measure.includes('propagation')).length, 0);
  assert.deepEqual(t.map((x) => x.measure), ['lost events at ≥ 50,000 req/s sustained', 'spans vs requests completed']); // no ratio, p99, agent CPU or memory target
  const table = propagationTable(rows).join('\n');
  assert.match(table, /\| off \(disabled\) \| 30,000 \(30,000–30,000\) \| 0\.500 \(0\.500–0\.500\) \| 1 \|/);
  assert.match(table, /\| tcp \(tcp\) \| 27,000 \(27,000–27,000\) \| 0\.450 \(0\.450–0\.450\) \| 0\.900 \|.*\| 14\.00 µs \(14\.00–14\.00\) \(none 10\.00\) \|.*\| 1\.00 \(1\.00–1\.00\) \| 1\.00 \(1\.00–1\.00\) \| 0\.00 \(0\.00–0\.00\) \| connection_join 1\.00 \|$/m);
  assert.match(table, /\| headers \(headers\) \| 24,000 \(24,000–24,000\) \| 0\.400 \(0\.400–0\.400\) \| 0\.800 \|.*\| remote_parent 1\.00 \|$/m);
  assert.equal(propagationTable(buildRows(samples.filter((s) => !s.scenario.includes('prop')))).length, 0);
});

describe('bench/run.ts --smoke on the real kernel', () => {
  test('one short instrumented nginx run writes JSON, table and chart with consistent numbers', async (t) => {
    assert.equal(process.getuid?.(), 0, 'the integration tests run as root (BPF programs)');
    const out = mkdtempSync(join(tmpdir(), 'obi-bench-smoke-test-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const t0 = Date.now();
    await run(nodeBin, [join(import.meta.dirname, '../../bench/run.ts'), '--smoke', '--out', out]);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 120_000, `smoke took ${elapsed} ms`); // a hang guard, not a speed check
    const files = readdirSync(out).sort();
    assert.equal(files.length, 4);
    const date = files[0].slice(0, 10);
    assert.deepEqual(files, [`${date}.json`, `${date}.md`, `${date}.svg`, 'latest.md']);
    const r = JSON.parse(readFileSync(join(out, `${date}.json`), 'utf8')) as BenchResult;
    assert.equal(r.schema, 1);
    assert.deepEqual(r.errors, []);
    assert.equal(r.options.smoke, true);
    assert.equal(r.samples.length, 2);
    const s = r.samples[0];
    assert.equal(s.scenario, 'nginx-http');
    assert.equal(s.config, 'obi');
    assert.equal(s.errors, 0);
    assert.equal(s.inFlightBound, 32);
    assert.ok(s.durationS >= 1.9 && s.durationS < 3, `window ${s.durationS} s`);
    assert.ok(s.requests > 1000, `${s.requests} requests`);
    assert.ok(s.appCpuUsPerRequest > 0 && s.appCpuUsPerRequest < 1000, `${s.appCpuUsPerRequest} µs/request`);
    assert.ok(s.loadGenCores > 0.05 && s.loadGenCores <= 1.05, `wrk used ${s.loadGenCores} cores`); // one wrk thread
    assert.ok(s.machineBusyCores > s.loadGenCores && s.machineBusyCores <= r.machine.cpus + 0.05, `machine ${s.machineBusyCores} cores busy`);
    assert.ok(s.otherCores >= 0 && s.otherCores <= s.machineBusyCores);
    const a = s.agent!;
    assert.equal(a.dropped, 0);
    assert.equal(a.droppedExported, true);
    assert.ok(Math.abs(a.spanDiff) <= 32, `spans − requests = ${a.spanDiff}`);
    assert.equal(a.spans, s.requests + a.spanDiff);
    assert.equal(a.spansMetrics, a.spans); // HTTP: the printer and the RED histograms agree
    assert.equal(a.spansTotalPrinted, a.spansTotalSettled); // nothing left over for shutdown
    assert.ok(a.eventsPerRequest >= 2, `${a.eventsPerRequest} events per request`); // at least the request read and the response write
    assert.ok(a.cpuS > 0 && a.mcPer10k > 0);
    assert.ok(a.rssSteadyMB > 10 && a.hwmMB >= a.rssSteadyMB, `RSS ${a.rssSteadyMB} MB, peak ${a.hwmMB} MB`);
    // where the agent's memory is (bench/lib/memory.ts), read at the window's end: node's executable, the ring buffer's mapping, the rest
    const kinds = a.rssByKind!;
    assert.ok(kinds.executable > 10 && kinds.anonymous > 5 && kinds.bpf > 0, JSON.stringify(kinds));
    assert.ok(Math.abs(rssTotal(kinds) - a.rssSteadyMB) < 0.2 * a.rssSteadyMB, `${JSON.stringify(kinds)} vs steady ${a.rssSteadyMB} MB`);
    assert.ok(rssTotal(r.machine.bareNodeRss!) < rssTotal(kinds), JSON.stringify(r.machine.bareNodeRss));
    assert.ok(a.bytesPerRequest > 0 && a.ingestUsPerRequest > 0 && a.processUsPerRequest > 0, JSON.stringify(a));
    // a saturated drain is milliseconds of work: the agent gave its CPU away within drains (src/pipeline/yield.ts),
    // flushing the spans decided so far each time, and the span counts above are still exact
    assert.ok(a.yieldsPerKRequest! > 0, `${a.yieldsPerKRequest} yields per 1,000 requests`);
    // the fixed-rate phase: every scheduled request completes, so spans equal requests exactly
    const p = r.samples[1];
    assert.equal(p.scenario, 'nginx-http-paced');
    assert.equal(p.requests, r.options.rate * r.options.durationS);
    assert.equal(p.errors, 0);
    assert.equal(p.agent!.spanDiff, 0);
    assert.equal(p.agent!.dropped, 0);
    // kernel entry costs, measured before the load: a single-stepped probe takes two traps where an emulated one takes one
    const k = r.machine.kernelEntry!;
    assert.ok(k && !('error' in k), JSON.stringify(k));
    assert.ok(k.syscallUs > 0 && k.uprobeEmulatedUs > 0 && k.uretprobeUs > 0 && k.uprobeNop5Us > 0, JSON.stringify(k));
    assert.ok(k.uprobeSteppedUs > k.uprobeEmulatedUs, JSON.stringify(k));
    const md = readFileSync(join(out, `${date}.md`), 'utf8');
    assert.equal(readFileSync(join(out, 'latest.md'), 'utf8'), md);
    assert.match(md, /^Kernel entry costs on this machine, measured before the runs \(bench\/lib\/kernel-entry\.ts\): a system call [\d.]+ µs; a uprobe hit [\d.]+ µs on an instruction the kernel emulates/m);
    assert.match(md, /\| spans vs requests completed \| equal, ± in-flight at the cut-off \| [^|]+ \| \*\*PASS\*\* \|/);
    assert.match(md, /\| obi-ts instrumenting \| [\d,]+ \|/);
    const svg = readFileSync(join(out, `${date}.svg`), 'utf8');
    assert.match(svg, /^<svg /);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  });
});
