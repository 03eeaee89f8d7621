/**
 * Turns samples into the summary rows, the pass/fail table against the issue's
 * targets, the Markdown report and the SVG chart of throughput ratios. Pure.
 */
import { f0, f1, f2, f3, fmtSpread, fmtUs } from './format.ts';
import { describeKernelEntry, type KernelEntryResult } from './kernel-entry.ts';
import { rssKindMedians, rssMissNote } from './memory.ts';
import { propagationTable } from './propagation.ts';
import { spread, type Spread } from './stats.ts';
import { tlsCallsPerRequest, tlsCaptureNote } from './tls-report.ts';
import { CONFIG_LABEL, type BenchResult, type ConfigId, type Row, type RssByKind, type Sample, type TargetResult, type TargetStatus } from './types.ts';

/** scenario display order and names */
/** `prop`: a context-propagation cost row (client traced too); judged in its own table, not against the targets */
export const SCENARIOS: readonly { id: string; title: string; paced?: true; prop?: true }[] = [
  { id: 'nginx-http', title: 'nginx static file, HTTP (1 worker, wrk keep-alive)' },
  { id: 'nginx-http-noprop', title: 'the same with context propagation disabled (the row above runs the default, tcp)' },
  { id: 'nginx-https', title: 'nginx static file, HTTPS (1 worker, wrk keep-alive)' },
  { id: 'node', title: 'Node.js http server (small JSON + loop)' },
  { id: 'redis-set', title: 'Redis SET (redis-benchmark, no pipelining)' },
  { id: 'redis-get', title: 'Redis GET (redis-benchmark, no pipelining)' },
  { id: 'grpc-unary', title: 'gRPC unary (grpc-js server and client, one HTTP/2 connection)' },
  { id: 'genai-https', title: 'GenAI chat completions over HTTPS (20 KB JSON answers, GenAI on, capture prefix only)' },
  { id: 'genai-https-large', title: 'the same with the larger HTTP capture on (ebpf.buffer_sizes.http 65536)' },
  { id: 'genai-h2', title: 'GenAI chat completions over HTTP/2 through TLS (20 KB answers, 32 streams on one connection, GenAI on, capture prefix only)' },
  { id: 'genai-h2-large', title: 'the same with the HTTP/2 body capture on (ebpf.buffer_sizes.http 65536)' },
  { id: 'nginx-http-paced', title: 'nginx static file, HTTP, at a fixed rate', paced: true },
  { id: 'nginx-https-paced', title: 'nginx static file, HTTPS, at a fixed rate', paced: true },
  { id: 'node-paced', title: 'Node.js http server, at a fixed rate', paced: true },
  { id: 'nginx-prop-off', title: 'nginx static file, HTTP, wrk traced too, context propagation disabled', prop: true },
  { id: 'nginx-prop-tcp', title: 'the same, propagation tcp (the TCP option)', prop: true },
  { id: 'nginx-prop-headers', title: 'the same, propagation headers (traceparent inserted by sk_msg)', prop: true },
  { id: 'node-prop-off', title: 'Node.js http server, wrk traced too, context propagation disabled', prop: true },
  { id: 'node-prop-tcp', title: 'the same, propagation tcp (the TCP option)', prop: true },
  { id: 'node-prop-headers', title: 'the same, propagation headers (traceparent inserted by sk_msg)', prop: true },
];
export const isProp = (id: string): boolean => SCENARIOS.find((s) => s.id === id)?.prop === true;
export const isPaced = (id: string): boolean => SCENARIOS.find((s) => s.id === id)?.paced === true;
const CONFIG_ORDER: readonly ConfigId[] = ['none', 'idle', 'obi', 'sdk'];

export const TARGETS = {
  nginxRatio: 0.9,
  nodeRatio: 0.97,
  agentMcPer10k: 20,
  rssSteadyMB: 100,
  hwmMB: 150,
  lossRate: 50_000,
  /** p99 latency with obi-ts / without, at saturation */
  p99RatioSaturated: 1.25,
  /** the same at a fixed moderate rate */
  p99RatioPaced: 1.1,
} as const;

/** `field` of each run over the same repetition's uninstrumented run */
function pairedRatio(ss: readonly Sample[], base: readonly Sample[], field: (s: Sample) => number): Spread | undefined {
  return spread(ss.map((s) => {
    const b = base.find((x) => x.rep === s.rep);
    return b && field(b) > 0 ? field(s) / field(b) : undefined;
  }));
}

export function buildRows(samples: readonly Sample[]): Row[] {
  const rows: Row[] = [];
  for (const sc of SCENARIOS) {
    const of = samples.filter((s) => s.scenario === sc.id);
    if (of.length === 0) continue;
    const base = of.filter((s) => s.config === 'none');
    const baseMedian = spread(base.map((s) => s.rps))?.median;
    for (const config of CONFIG_ORDER) {
      const ss = of.filter((s) => s.config === config);
      if (ss.length === 0) continue;
      const rps = spread(ss.map((s) => s.rps))!;
      let ratio: Spread | undefined;
      let ratioOfMedians: number | undefined;
      if (config !== 'none' && base.length > 0) {
        // paired with the same repetition's baseline, so slow drift of the machine cancels out
        ratio = pairedRatio(ss, base, (s) => s.rps);
        if (baseMedian) ratioOfMedians = rps.median / baseMedian;
      }
      const ag = ss.filter((s) => s.agent).map((s) => s.agent!);
      const withAgent = ag.length > 0;
      const prop = ag.filter((a) => a.propagation).map((a) => a.propagation!);
      const gen = ss.filter((s) => s.loadGenCpuUsPerRequest !== undefined).map((s) => s.loadGenCpuUsPerRequest!);
      rows.push({
        scenario: sc.id,
        config,
        label: CONFIG_LABEL[config],
        rps,
        ratio,
        ratioOfMedians,
        p50Us: spread(ss.map((s) => s.p50Us))!,
        p99Us: spread(ss.map((s) => s.p99Us))!,
        appCpuUsPerRequest: spread(ss.map((s) => s.appCpuUsPerRequest))!,
        machineBusyCores: spread(ss.map((s) => s.machineBusyCores))!,
        otherCores: spread(ss.map((s) => s.otherCores))!,
        agentMcPer10k: withAgent ? spread(ag.map((a) => a.mcPer10k)) : undefined,
        agentRssSteadyMB: withAgent ? spread(ag.map((a) => a.rssSteadyMB)) : undefined,
        agentRssByKind: rssKindMedians(ag),
        agentHwmMB: withAgent ? spread(ag.map((a) => a.hwmMB)) : undefined,
        eventsPerRequest: withAgent ? spread(ag.map((a) => a.eventsPerRequest)) : undefined,
        bytesPerRequest: withAgent ? spread(ag.map((a) => a.bytesPerRequest)) : undefined,
        agentUsPerRequest: withAgent ? spread(ag.map((a) => a.cpuUsPerRequest)) : undefined,
        ingestUsPerRequest: withAgent ? spread(ag.map((a) => a.ingestUsPerRequest)) : undefined,
        processUsPerRequest: withAgent ? spread(ag.map((a) => a.processUsPerRequest)) : undefined,
        yieldsPerKRequest: withAgent ? spread(ag.map((a) => a.yieldsPerKRequest)) : undefined,
        tlsCallsPerRequest: withAgent ? spread(ag.map((a) => a.tlsCallsPerRequest)) : undefined,
        tlsOtherCallsPerRequest: withAgent ? spread(ag.map((a) => a.tlsOtherCallsPerRequest)) : undefined,
        p50Ratio: config !== 'none' && base.length > 0 ? pairedRatio(ss, base, (s) => s.p50Us) : undefined,
        p99Ratio: config !== 'none' && base.length > 0 ? pairedRatio(ss, base, (s) => s.p99Us) : undefined,
        dropped: withAgent ? ag.reduce((t, a) => t + a.dropped, 0) : undefined,
        droppedWarmup: withAgent ? ag.reduce((t, a) => t + (a.droppedWarmup ?? 0), 0) : undefined,
        spanDiffs: config === 'obi' ? ag.map((a) => a.spanDiff) : undefined,
        spansPerRequest: config === 'obi' ? Math.max(1, ...ag.map((a) => a.spansPerRequestExpected ?? 1)) : undefined,
        loadGenCpuUsPerRequest: spread(gen),
        optionsWrittenPerRequest: prop.length ? spread(prop.map((p) => p.optionsWrittenPerRequest)) : undefined,
        parentsPerRequest: prop.length ? spread(prop.map((p) => p.parentsPerRequest)) : undefined,
        injectionsPerRequest: prop.length ? spread(prop.map((p) => p.injectionsPerRequest)) : undefined,
        linksPerRequest: prop.length ? linkMedians(prop.map((p) => p.linksPerRequest ?? {})) : undefined,
        propModes: prop.length ? [...new Set(prop.map((p) => p.mode))] : undefined,
        inFlightBound: Math.max(...ss.map((s) => s.inFlightBound)),
        sdkSpansVsRequests: config === 'sdk' ? ss.filter((s) => s.sdk).map((s) => `${s.sdk!.spansReceived}/${s.sdk!.requestsTotal}`) : undefined,
      });
    }
  }
  return rows;
}

function linkMedians(runs: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))].sort();
  return Object.fromEntries(keys.map((k) => [k, spread(runs.map((r) => r[k] ?? 0))!.median]));
}

function row(rows: readonly Row[], scenario: string, config: ConfigId): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.config === config);
}

const scenarioTitle = (id: string): string => SCENARIOS.find((s) => s.id === id)?.title ?? id;

export function buildTargets(rows: readonly Row[], samples: readonly Sample[], pending: readonly string[], kernel?: KernelEntryResult, bareNode?: RssByKind): TargetResult[] {
  const out: TargetResult[] = [];
  const status = (ok: boolean): TargetStatus => (ok ? 'PASS' : 'FAIL');
  const ratioTarget = (scenario: string, min: number, ref: string): void => {
    const r = row(rows, scenario, 'obi');
    if (!r?.ratio) {
      const why = pending.find((p) => p.includes(scenario));
      if (!why && !samples.some((s) => s.scenario === scenario)) return; // not part of this run
      out.push({ measure: `${scenarioTitle(scenario)}: throughput with obi-ts / without`, target: `≥ ${min}`, measured: '–', status: 'PENDING', note: why ?? 'no instrumented run with a same-repetition baseline in this run' });
      return;
    }
    const none = row(rows, scenario, 'none');
    const idle = row(rows, scenario, 'idle');
    const sdk = row(rows, scenario, 'sdk');
    const parts = [ref];
    if (idle?.ratio) parts.push(`attached-but-idle measured ${fmtSpread(idle.ratio, f3)}`);
    if (sdk?.ratio) parts.push(`OTel Node SDK measured ${fmtSpread(sdk.ratio, f3)}`);
    const ok = r.ratio.median >= min;
    if (!ok && none) {
      // where the throughput went, from the same runs: CPU per request inside the app, and the agent's share of the cores
      const app0 = none.appCpuUsPerRequest.median;
      const app1 = r.appCpuUsPerRequest.median;
      const agentCores = r.agentMcPer10k ? (r.agentMcPer10k.median * (r.rps.median / 1e4)) / 1000 : 0;
      const split = idle
        ? `${f2(idle.appCpuUsPerRequest.median - app0)} µs of it already with nothing selected, i.e. the tracepoint tax; the rest is the capture itself`
        : 'the capture in its syscalls';
      parts.push(`why: the application's own CPU per request rose from ${f2(app0)} to ${f2(app1)} µs (+${f0(((app1 - app0) / app0) * 100)}%: ${split}, ${fmtSpread(r.eventsPerRequest, f1)} ring-buffer records per request), and the agent took ${f2(agentCores)} cores of the machine the application and its load generator share; what would close it: a cheaper in-kernel capture per request and a lighter agent (see the agent CPU rows)`);
      if (scenario === 'nginx-https' && kernel && !('error' in kernel)) parts.push(tlsCaptureNote(r, none, kernel));
    }
    out.push({ measure: `${scenarioTitle(scenario)}: throughput with obi-ts / without`, target: `≥ ${min}`, measured: fmtSpread(r.ratio, f3), status: status(ok), note: parts.join('; ') });
  };
  ratioTarget('nginx-http', TARGETS.nginxRatio, 'reference: prototype with default wake-ups 0.41, tracepoint tax alone ~0.915');
  ratioTarget('nginx-https', TARGETS.nginxRatio, 'same target as HTTP');
  ratioTarget('node', TARGETS.nodeRatio, 'reference: OTel Node SDK full auto-instrumentation, published 0.19 of baseline');

  for (const sc of SCENARIOS) {
    const r = row(rows, sc.id, 'obi');
    if (!r?.p99Ratio || sc.prop) continue;
    const max = sc.paced ? TARGETS.p99RatioPaced : TARGETS.p99RatioSaturated;
    const none = row(rows, sc.id, 'none')!;
    const ok = r.p99Ratio.median <= max;
    let why = '';
    if (!ok && !sc.paced && r.ratio) {
      // a closed loop: wrk (or the client) keeps the same requests in flight, so mean latency = in flight / throughput
      const predicted = 1 / r.ratio.median;
      const excess = r.p99Ratio.median / predicted;
      // within 5% of the prediction the p99 has no tail of its own: the miss is the throughput's
      const tail =
        excess > 1.05
          ? `the p99's excess over the prediction (×${f2(excess)}) is the tail: requests that waited while the agent's drains held a core`
          : `the p99 is within the prediction (×${f2(excess)}), so this miss is the throughput's alone`;
      why = `; why: the load generator keeps ${r.inFlightBound} requests in flight whatever the rate, so latency scales with 1 / throughput (Little's law): the throughput ratio ${f3(r.ratio.median)} alone predicts ${f2(predicted)} for every percentile; the measured p50 ratio is ${f2(r.p50Ratio?.median ?? 0)}, and ${tail}. At saturation this target needs the throughput target first`;
    } else if (!ok && sc.paced) {
      const agentCores = r.agentMcPer10k ? (r.agentMcPer10k.median * (r.rps.median / 1e4)) / 1000 : 0;
      const added = r.appCpuUsPerRequest.median - none.appCpuUsPerRequest.median;
      const cores = `the agent used ${f2(agentCores)} cores in bursts (drains every 10 ms) on the 2 cores the application and the pacer share`;
      why =
        added > 0
          ? `; why: at a fixed rate the extra latency is the extra work per request (application CPU +${f2(added)} µs, in its syscalls) and waiting for a core: ${cores}`
          : `; why: the application's CPU per request did not rise (${f2(added)} µs), so at a fixed rate the extra latency is waiting for a core: ${cores}`;
    }
    out.push({
      measure: `p99 latency with obi-ts / without, ${sc.title}${sc.paced ? '' : ' (at saturation)'}`,
      target: `≤ ${max}`,
      measured: fmtSpread(r.p99Ratio, f2),
      status: status(ok),
      note: `p99 ${fmtUs(none.p99Us.median)} → ${fmtUs(r.p99Us.median)}; p50 ratio ${fmtSpread(r.p50Ratio, f2)} (${fmtUs(none.p50Us.median)} → ${fmtUs(r.p50Us.median)})${sc.paced ? `; application CPU per request ${f2(none.appCpuUsPerRequest.median)} → ${f2(r.appCpuUsPerRequest.median)} µs` : ''}${why}`,
    });
  }

  for (const sc of SCENARIOS) {
    const r = row(rows, sc.id, 'obi');
    if (!r?.agentMcPer10k || sc.paced || sc.prop) continue;
    const ok = r.agentMcPer10k.median <= TARGETS.agentMcPer10k;
    const parsed = samples.some((s) => s.scenario === sc.id && s.config === 'obi' && (s.agent?.spansTotalPrinted ?? 0) > 0);
    out.push({
      measure: `agent CPU, ${sc.title}`,
      target: `≤ ${TARGETS.agentMcPer10k} millicores per 10k req/s`,
      measured: fmtSpread(r.agentMcPer10k, f1, ' m'),
      status: status(ok),
      note: `${f2(r.agentMcPer10k.median / 10)} µs of agent CPU per request (the target allows ${f2(TARGETS.agentMcPer10k / 10)}), at ${fmtSpread(r.rps, f0)} req/s, ${fmtSpread(r.eventsPerRequest, f1)} events per request${parsed ? '' : '; no spans produced (no parser for this protocol in this build): events are read and decoded but never become spans, so this understates the eventual cost'}${ok ? '' : '; the agent handles every captured record in JavaScript (decode → per-connection stream → protocol parse → span → metrics and printer), so its cost scales with records; closing it needs a cheaper per-record path (the micro-benchmarks below time its parts) and fewer records per request'}`,
    });
  }

  // the propagation rows trace the client too (twice the spans): shown in their own table, not judged here
  const obiRows = rows.filter((r) => r.config === 'obi' && r.agentRssSteadyMB && !isProp(r.scenario));
  const agentRows = rows.filter((r) => r.agentHwmMB && !isProp(r.scenario));
  const idleRows = rows.filter((r) => r.config === 'idle' && r.agentRssSteadyMB);
  const idleRss = idleRows.length ? Math.max(...idleRows.map((r) => r.agentRssSteadyMB!.median)) : undefined;
  if (obiRows.length > 0) {
    const worst = obiRows.reduce((a, b) => (b.agentRssSteadyMB!.median > a.agentRssSteadyMB!.median ? b : a));
    const ok = worst.agentRssSteadyMB!.median <= TARGETS.rssSteadyMB;
    out.push({
      measure: 'agent memory, RSS steady',
      target: `≤ ${TARGETS.rssSteadyMB} MB`,
      measured: `${fmtSpread(worst.agentRssSteadyMB, f1, ' MB')} (${worst.scenario})`,
      status: status(ok),
      note: obiRows.map((r) => `${r.scenario} ${f1(r.agentRssSteadyMB!.median)} MB`).join(', ') + (idleRss ? `; with nothing selected ${f1(idleRss)} MB` : '') +
        (ok ? '' : (rssMissNote(idleRows, worst, bareNode, TARGETS.rssSteadyMB) ?? '; most of it is there before any traffic: the node executable\'s mapped code, V8\'s heap and the modules loaded at start-up, and the ring buffer\'s mapping; closing it needs a smaller start-up footprint (fewer and lazier imports, a V8 heap cap) rather than less data')),
    });
  }
  if (agentRows.length > 0) {
    const worst = agentRows.reduce((a, b) => (b.agentHwmMB!.median > a.agentHwmMB!.median ? b : a));
    const ok = worst.agentHwmMB!.max <= TARGETS.hwmMB;
    out.push({
      measure: 'agent memory, peak incl. start-up (VmHWM)',
      target: `≤ ${TARGETS.hwmMB} MB`,
      measured: `${fmtSpread(worst.agentHwmMB, f1, ' MB')} (${worst.scenario}, ${worst.config})`,
      status: status(ok),
      note: agentRows.map((r) => `${r.scenario}/${r.config} max ${f1(r.agentHwmMB!.max)} MB`).join(', '),
    });
  }

  const obiSamples = samples.filter((s) => s.config === 'obi' && s.agent);
  if (obiSamples.length > 0) {
    const dropped = obiSamples.reduce((t, s) => t + s.agent!.dropped, 0);
    // the warm-up's losses (the agent's first seconds under load) are losses too
    const droppedWarmup = obiSamples.reduce((t, s) => t + (s.agent!.droppedWarmup ?? 0), 0);
    const warmupNote = droppedWarmup > 0 ? `; ${droppedWarmup} more lost in the warm-ups (${[...new Set(obiSamples.filter((s) => (s.agent!.droppedWarmup ?? 0) > 0).map((s) => s.scenario))].join(', ')})` : '; 0 lost in the warm-ups';
    const maxRate = Math.max(...obiSamples.map((s) => s.rps));
    const exported = obiSamples.every((s) => s.agent!.droppedExported);
    const reached = obiSamples.filter((s) => s.rps >= TARGETS.lossRate);
    const droppedAtRate = reached.reduce((t, s) => t + s.agent!.dropped, 0);
    let st: TargetStatus;
    let note: string;
    if (!exported) {
      st = 'FAIL';
      note = 'obi_ebpf_events_dropped_total missing from /metrics';
    } else if (droppedWarmup > 0) {
      st = 'FAIL';
      note = `events lost while the agent warmed up under load`;
    } else if (reached.length === 0) {
      st = dropped === 0 ? 'UNTESTED' : 'FAIL';
      note = `the instrumented applications never reached ${f0(TARGETS.lossRate)} req/s on this machine (max ${f0(maxRate)} req/s); ${dropped} events lost at the rates reached; loss is counted in the kernel and exported as obi_ebpf_events_dropped_total`;
    } else {
      // a loss at a lower rate is a loss too (spans must equal requests in every row)
      st = status(dropped === 0);
      const where = [...new Set(reached.map((s) => s.scenario))].join(', ');
      const lossy = obiSamples.filter((s) => s.agent!.dropped > 0);
      const below = lossy.length > 0 && droppedAtRate < dropped ? `; ${dropped - droppedAtRate} lost below that rate (${lossy.filter((s) => s.rps < TARGETS.lossRate).map((s) => `${s.scenario} rep ${s.rep}: ${s.agent!.dropped} at ${f0(s.rps)} req/s`).join(', ')})` : '';
      note = `${reached.length} instrumented runs at ≥ ${f0(TARGETS.lossRate)} req/s (${where}; up to ${f0(maxRate)} req/s), ${droppedAtRate} events lost${below}; counted in the kernel and exported as obi_ebpf_events_dropped_total`;
    }
    out.push({ measure: `lost events at ≥ ${f0(TARGETS.lossRate)} req/s sustained`, target: '0, counted and exported', measured: `${dropped} dropped in ${obiSamples.length} instrumented runs`, status: st, note: note + warmupNote });
  }

  const spanRows = rows.filter((r) => r.config === 'obi' && r.spanDiffs && r.spanDiffs.length > 0);
  if (spanRows.length > 0) {
    const judged: string[] = [];
    const unparsed: string[] = [];
    let ok = true;
    for (const r of spanRows) {
      const ss = obiSamples.filter((s) => s.scenario === r.scenario);
      if (ss.every((s) => s.agent!.spansTotalPrinted === 0)) {
        unparsed.push(r.scenario);
        continue;
      }
      const bound = r.inFlightBound! * (r.spansPerRequest ?? 1);
      const within = r.spanDiffs!.every((d) => Math.abs(d) <= bound);
      ok &&= within;
      judged.push(`${r.scenario}: ${r.spanDiffs!.map((d) => (d >= 0 ? `+${d}` : String(d))).join(', ')} (bound ±${bound}${(r.spansPerRequest ?? 1) > 1 ? `, ${r.spansPerRequest} spans per request` : ''})`);
    }
    const note = [judged.join('; '), unparsed.length ? `no spans at all for ${unparsed.join(', ')} (that protocol is not parsed, or not captured, in this build; not judged)` : ''].filter(Boolean).join('; ');
    out.push({
      measure: 'spans vs requests completed',
      target: 'equal, ± in-flight at the cut-off',
      measured: judged.length ? 'spans − requests per run: see note' : '–',
      status: judged.length ? status(ok) : 'PENDING',
      note,
    });
  }
  return out;
}

/** the per-request breakdown line under a scenario's table (obi-ts row; runs before the breakdown existed have none) */
function breakdown(x: Row | undefined): string | undefined {
  if (!x?.bytesPerRequest || !x.agentUsPerRequest) return undefined;
  const ingest = x.ingestUsPerRequest?.median ?? 0;
  const processUs = x.processUsPerRequest?.median ?? 0;
  const total = x.agentUsPerRequest.median;
  return `Per request with obi-ts (medians): ${f2(x.eventsPerRequest?.median ?? 0)} ring records, ${f0(x.bytesPerRequest.median)} bytes read from the ring; agent ${f2(total)} µs CPU, of which ingest ${f2(ingest)} µs and process ${f2(processUs)} µs (wall time in those stages), the rest ${f2(Math.max(0, total - ingest - processUs))} µs (native drain, timers, GC, scrapes)${x.yieldsPerKRequest ? `; the CPU given away mid-drain ${f1(x.yieldsPerKRequest.median)} times per 1,000 requests` : ''}${tlsCallsPerRequest(x)}.`;
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

export { fmtSpread, fmtUs, propagationTable };

export function renderMarkdown(r: BenchResult, svgName: string): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(`# obi-ts benchmark, ${r.date}${r.options.smoke ? ' (smoke)' : ''}`);
  L.push('');
  L.push(`Run ${r.startedAt} → ${r.finishedAt} on ${m.cpus} × ${m.cpu}, ${f0(m.memMB)} MB RAM, Linux ${m.kernel}; Node ${m.node}; ${m.nginx ?? 'nginx ?'}; ${m.wrk ?? 'wrk ?'}; ${m.redis ?? 'redis ?'}${m.sdk ? `; ${m.sdk}` : ''}${m.commit ? `; obi-ts ${m.commit}` : ''}.`);
  L.push(`Load average at start ${m.loadAvgStart.join(' ')}, at end ${m.loadAvgEnd.join(' ')} (anything above ~0 means other work shared the machine and the numbers are noisier).`);
  const entry = describeKernelEntry(m.kernelEntry);
  if (entry) L.push(entry);
  L.push(`Each configuration ran ${r.options.reps}× (order rotated per repetition), ${r.options.durationS} s of load after ${r.options.warmupS} s of warm-up; values are medians with (min–max).`);
  L.push('');
  L.push(`![throughput with instrumentation / without](${svgName})`);
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| measure | target | measured | result | note |');
  L.push('|---|---|---|---|---|');
  for (const t of r.targets) L.push(`| ${esc(t.measure)} | ${esc(t.target)} | ${esc(t.measured)} | **${t.status}** | ${esc(t.note)} |`);
  L.push('');
  L.push('## Results');
  for (const sc of SCENARIOS) {
    const rows = r.rows.filter((x) => x.scenario === sc.id);
    if (rows.length === 0) continue;
    L.push('');
    L.push(`### ${sc.title}`);
    L.push('');
    L.push('| configuration | req/s | ratio vs none | p50 | p99 | app CPU per request | agent CPU, m per 10k req/s | agent RSS steady / peak (MB) | events per request | events dropped | spans − requests | machine busy cores (other work) |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const x of rows) {
      const noSpans = x.config === 'obi' && r.samples.filter((s) => s.scenario === x.scenario && s.agent).every((s) => s.agent!.spansTotalPrinted === 0);
      const k = x.spansPerRequest ?? 1;
      const spans = noSpans ? 'no spans (not parsed or not captured in this build)' : x.spanDiffs ? `${x.spanDiffs.map((d) => (d >= 0 ? `+${d}` : String(d))).join(', ')} (±${x.inFlightBound! * k} in flight${k > 1 ? `; spans − ${k} × requests` : ''})` : x.sdkSpansVsRequests ? `SDK spans received / requests: ${x.sdkSpansVsRequests.join(', ')}` : '–';
      L.push(`| ${esc(x.label)} | ${fmtSpread(x.rps, f0)} | ${x.ratio ? fmtSpread(x.ratio, f3) : '1'} | ${fmtSpread(x.p50Us, fmtUs)} | ${fmtSpread(x.p99Us, fmtUs)} | ${fmtSpread(x.appCpuUsPerRequest, f2, ' µs')} | ${fmtSpread(x.agentMcPer10k, f1)} | ${x.agentRssSteadyMB ? `${f1(x.agentRssSteadyMB.median)} / ${f1(x.agentHwmMB!.median)} (max ${f1(x.agentHwmMB!.max)})` : '–'} | ${fmtSpread(x.eventsPerRequest, f2)} | ${x.dropped ?? '–'}${x.droppedWarmup ? ` (+${x.droppedWarmup} in the warm-ups)` : ''} | ${esc(spans)} | ${f2(x.machineBusyCores.median)} (${f2(x.otherCores.median)}) |`);
    }
    const b = breakdown(rows.find((x) => x.config === 'obi'));
    if (b) {
      L.push('');
      L.push(b);
    }
  }
  const prop = propagationTable(r.rows);
  if (prop.length) L.push('', ...prop);
  if (r.pending.length) {
    L.push('');
    L.push('## Pending');
    L.push('');
    for (const p of r.pending) L.push(`- ${p}`);
  }
  if (r.errors.length) {
    L.push('');
    L.push('## Failed runs');
    L.push('');
    for (const e of r.errors) L.push(`- ${e.group}/${e.config} rep ${e.rep}: ${esc(e.message.split('\n')[0])}`);
  }
  L.push('');
  L.push('## Method');
  L.push('');
  for (const n of r.notes) L.push(`- ${n}`);
  if (r.micro.length) {
    L.push('');
    L.push('## Micro-benchmarks (bench/protocols, bench/telemetry)');
    L.push('');
    L.push('```');
    for (const mb of r.micro) {
      L.push(`# ${mb.file} (${mb.seconds.toFixed(1)} s${mb.ok ? '' : ', FAILED'})`);
      L.push(mb.output.trim());
    }
    L.push('```');
  }
  L.push('');
  return L.join('\n');
}
