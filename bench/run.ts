/**
 * obi-ts overhead benchmark: application throughput, latency and CPU with
 * and without instrumentation, and the agent's own CPU, memory, losses and span
 * counts, measured side by side on loopback, each configuration alternated and
 * repeated. Writes bench/results/<date>.{json,md,svg} (<date>-2… for a later run that day) and bench/results/latest.md.
 *
 *   node bench/run.ts [--smoke] [--reps N] [--duration S] [--warmup S] [--only nginx-http,node,redis]
 *                     [--configs none,idle,obi,sdk] [--https auto|on|off] [--no-micro] [--out DIR]
 *                     [--rate R]
 *
 * --smoke: one 2 s repetition of nginx instrumented by obi-ts, written to a temp dir
 * (CI runs this through test/integration/bench-smoke.test.ts). Needs root (BPF).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './lib/agent.ts';
import { OtlpReceiver } from './lib/otlp.ts';
import { describeKernelEntry, measureKernelEntry, type KernelEntryResult } from './lib/kernel-entry.ts';
import { bareNodeRss } from './lib/memory.ts';
import { commandVersion, loadAvg, sleep, startChild } from './lib/proc.ts';
import { renderSvg } from './lib/chart.ts';
import { buildRows, buildTargets, renderMarkdown } from './lib/report.ts';
import { makeCert, type TlsFiles } from './lib/servers.ts';
import { rotate } from './lib/stats.ts';
import type { BenchOptions, BenchResult, ConfigId, GroupId, MachineInfo, MicroResult, PropGroupId, RunError, Sample } from './lib/types.ts';
import { ensureSdk, runOne, type Ctx } from './lib/scenarios.ts';

const BENCH_DIR = import.meta.dirname;
const PROP_GROUPS: readonly PropGroupId[] = ['nginx-prop-off', 'nginx-prop-tcp', 'nginx-prop-headers', 'node-prop-off', 'node-prop-tcp', 'node-prop-headers'];
const ALL_GROUPS: readonly GroupId[] = ['nginx-http', 'nginx-http-noprop', 'nginx-https', 'node', 'redis', 'grpc', 'genai-https', 'genai-https-large', 'genai-h2', 'genai-h2-large', ...PROP_GROUPS];
const GROUP_CONFIGS: Readonly<Record<GroupId, readonly ConfigId[]>> = {
  'nginx-http': ['none', 'idle', 'obi'],
  // the same with context propagation disabled: nginx-http runs the default, tcp (docs/devdocs/propagation.md)
  'nginx-http-noprop': ['none', 'obi'],
  'nginx-https': ['none', 'idle', 'obi'],
  node: ['none', 'obi', 'sdk'],
  redis: ['none', 'obi'],
  grpc: ['none', 'obi'],
  'genai-https': ['none', 'obi'],
  'genai-https-large': ['none', 'obi'],
  'genai-h2': ['none', 'obi'],
  'genai-h2-large': ['none', 'obi'],
  // the cost of each context-propagation mode, the client (wrk) traced too: each mode against its own
  // same-repetition baseline, and the modes against each other (bench/lib/report.ts)
  'nginx-prop-off': ['none', 'obi'],
  'nginx-prop-tcp': ['none', 'obi'],
  'nginx-prop-headers': ['none', 'obi'],
  'node-prop-off': ['none', 'obi'],
  'node-prop-tcp': ['none', 'obi'],
  'node-prop-headers': ['none', 'obi'],
};
/** processes the agent must select for each group (nginx: master + worker) */

const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

export function parseOptions(argv: readonly string[]): BenchOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`${name}=`));
    return eq?.slice(name.length + 1);
  };
  const num = (name: string, dflt: number): number => {
    const v = get(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, not "${v}"`);
    return n;
  };
  const known = new Set(['--smoke', '--no-micro', '--reps', '--duration', '--warmup', '--only', '--configs', '--https', '--out', '--connections', '--redis-requests', '--rate']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i].split('=')[0];
    if (!known.has(a)) throw new Error(`unknown argument "${argv[i]}"`);
    if (!argv[i].includes('=') && !['--smoke', '--no-micro'].includes(a)) i++;
  }
  const smoke = argv.includes('--smoke');
  const list = <T extends string>(name: string, all: readonly T[], dflt: readonly T[]): T[] => {
    const v = get(name);
    if (v === undefined) return [...dflt];
    const xs = v.split(',').map((s) => s.trim()).filter(Boolean) as T[];
    for (const x of xs) if (!all.includes(x)) throw new Error(`${name}: unknown "${x}" (one of ${all.join(', ')})`);
    return xs;
  };
  const https = (get('--https') ?? 'auto') as BenchOptions['https'];
  if (!['auto', 'on', 'off'].includes(https)) throw new Error('--https takes auto, on or off');
  return {
    smoke,
    reps: num('--reps', smoke ? 1 : 3),
    durationS: num('--duration', smoke ? 2 : 10),
    warmupS: num('--warmup', smoke ? 1 : 2),
    connections: num('--connections', 32),
    wrkThreads: 1,
    redisRequests: num('--redis-requests', smoke ? 20_000 : 300_000),
    redisClients: 32,
    rate: num('--rate', 5000),
    groups: list('--only', ALL_GROUPS, smoke ? ['nginx-http'] : ALL_GROUPS),
    configs: list('--configs', ['none', 'idle', 'obi', 'sdk'] as const, smoke ? ['obi'] : ['none', 'idle', 'obi', 'sdk']),
    https,
    micro: !smoke && !argv.includes('--no-micro'),
    /** '' = a fresh temp dir (smoke) */
    outDir: get('--out') ?? (smoke ? '' : join(BENCH_DIR, 'results')),
  };
}

function tlsCaptureBuilt(): boolean {
  try {
    return readdirSync(join(REPO_ROOT, 'bpf', 'probes')).some((f) => /^ssl.*\.h$/.test(f));
  } catch {
    return false;
  }
}

async function runMicro(): Promise<MicroResult[]> {
  const out: MicroResult[] = [];
  for (const dir of ['protocols', 'telemetry']) {
    let files: string[] = [];
    try {
      files = readdirSync(join(BENCH_DIR, dir)).filter((f) => f.endsWith('.bench.ts')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const rel = `bench/${dir}/${f}`;
      log(`micro-benchmark ${rel}`);
      const t0 = performance.now();
      const c = startChild(process.execPath, [join(BENCH_DIR, dir, f)], { cwd: REPO_ROOT });
      const code = await c.exited;
      out.push({ file: rel, seconds: (performance.now() - t0) / 1000, output: code === 0 ? c.stdout() : c.output(), ok: code === 0 });
    }
  }
  return out;
}

function machineInfo(loadStart: number[], kernelEntry: KernelEntryResult, sdk?: string): MachineInfo {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const head = git('rev-parse', '--short', 'HEAD');
  const commit = head ? `${head}${git('status', '--porcelain', '--untracked-files=no') ? ' + uncommitted changes' : ''}` : undefined;
  return {
    kernel: release(),
    kernelEntry,
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cpus: cpus().length,
    memMB: totalmem() / 1e6,
    node: process.version,
    nginx: commandVersion('nginx', ['-v'])?.replace('nginx version: ', ''),
    wrk: commandVersion('wrk', ['-v'])?.split(' [')[0]?.replace(/^wrk (debian\/)?/, 'wrk '),
    redis: commandVersion('redis-server', ['--version'])?.split(' sha=')[0],
    sdk,
    commit,
    loadAvgStart: loadStart,
    loadAvgEnd: loadAvg(),
  };
}

const METHOD_NOTES = (o: BenchOptions): string[] => [
  'Loopback only. Every run starts the application fresh in a temp dir; obi-ts runs as a separate process (`bin/obi-ts`, configured by environment: `OTEL_EBPF_OPEN_PORT`, `OTEL_EBPF_TRACE_PRINTER=counter`, `OTEL_EBPF_PROMETHEUS_PORT`; everything else default, e.g. 10 ms ring-buffer drain) and is started after the application and waited for until it has selected it.',
  `Configurations of one application are alternated within each repetition, and the order rotates from one repetition to the next; applications are interleaved too. Ratios pair each run with the same repetition's uninstrumented run. A warm-up of ${o.warmupS} s precedes each measured window.`,
  `nginx: ${'`worker_processes 1`'}, ${'`sendfile on`'}, ${'`access_log off`'}, a 612 B static file; wrk -t${o.wrkThreads} -c${o.connections} -d${o.durationS}s --latency (HTTP/1.1 keep-alive). Node.js: \`http\` server computing a 2000-step loop and the JSON of a small object per request, same wrk settings. Redis: redis-benchmark -c ${o.redisClients} -n ${o.redisRequests} -P 1 -r 100000, SET then GET. gRPC: a @grpc/grpc-js server with one unary method (64 B messages) and a grpc-js client keeping ${o.connections} calls in flight on one HTTP/2 connection for ${o.durationS}s.`,
  `Fixed-rate scenarios (\`-paced\`): after the saturation phase, the same application gets ${o.rate} req/s for ${o.durationS} s from bench/apps/pace.mjs (the same pacer for every configuration: ${o.connections} keep-alive connections, one request in flight on each, open loop); latency is measured from each request's scheduled send time, so waiting for a free connection counts (no coordinated omission). Redis and gRPC have no fixed-rate phase.`,
  'Breakdown per request (obi-ts rows): ring records and bytes read from the ring buffer (what the kernel copied), agent CPU, and the agent\'s wall time in its two timed stages (`obi_agent_stage_seconds_total`: ingest = decode, streams, parsers, record to span; process = filters, metrics, printer); CPU not in either stage is the native drain, timers, garbage collection and scrapes.',
  'OTel Node SDK row: the same Node.js app with `--require @opentelemetry/auto-instrumentations-node/register` (every default instrumentation), traces and metrics exported as OTLP/HTTP protobuf to a receiver inside the harness that counts requests and decodes spans; resource detectors limited to env,host,os,process (no cloud metadata probes on loopback).',
  'Application CPU per request: utime+stime deltas of the application processes (/proc/PID/stat; nginx master + worker) over the load window, divided by requests completed. Agent CPU: the agent process\'s utime+stime from the start of the window until it has drained the tail (events read unchanged for 400 ms, then the printer caught up), over the window length, in millicores per 10k req/s of the application\'s measured throughput (conservative: includes the idle tail).',
  'Agent RSS steady: median VmRSS sampled every 250 ms over the second half of the load window; peak: VmHWM at the end of the run (includes start-up: Node, TypeScript loading, BPF load). Where it is: /proc/PID/smaps at the end of each window, summed into the node executable, other mapped files, anonymous memory and BPF maps (bench/lib/memory.ts); a bare node process (an idle timer) measured the same way before the runs. MB = 10^6 bytes.',
  'Events dropped: delta of `obi_ebpf_events_dropped_total` (ring-buffer reserve failures counted in the kernel, plus any record a drain consumed but had no memory to keep) over the window, read from the agent\'s /metrics; the losses from the agent\'s start to the window (its first seconds under the warm-up\'s load) are counted apart and fail the lost-events target too. Spans: delta of the `counter` trace printer\'s total over the window (every protocol), compared with the requests the load generator completed; wrk stops with up to one request per connection in flight, so the bound is ± connections (redis-benchmark completes every request, plus a couple of CONFIG GETs of its own). For HTTP the delta of the agent\'s `*_duration_seconds_count` RED histograms is recorded too (`spansMetrics` in the JSON) and must agree.',
  'Context propagation (`<app>-prop-<mode>` rows): the same nginx and Node.js servers with wrk traced as well (bench/apps/trace-wrk.yaml selects it at its exec), so every request yields a client and a server span (spans = 2 × requests) and the client\'s ids leave the process: in the TCP option (`tcp`, the default), in a traceparent header inserted by the kernel (`headers`), or not at all (`off`, ebpf.context_propagation disabled). Each mode has its own same-repetition baseline without the agent; the cost of a mode is its ratio over the `off` ratio. wrk\'s CPU per request is reported because a traced client pays its share (the id decision at each request\'s first write, the option, the sk_msg insertion) in its own syscalls.',
  'Machine: 2 vCPUs shared by the load generator, the application and the agent; other sessions may have been running tests at the same time (see the load averages). Treat differences of a few percent as noise; min–max show the spread.',
];

const USAGE = `Usage: node bench/run.ts [--smoke] [--reps N] [--duration S] [--warmup S] [--redis-requests N]
                         [--only nginx-http,nginx-http-noprop,nginx-https,node,redis,grpc,genai-https,genai-https-large,genai-h2,genai-h2-large,
                                 nginx-prop-off,nginx-prop-tcp,nginx-prop-headers,node-prop-off,node-prop-tcp,node-prop-headers] [--configs none,idle,obi,sdk]
                         [--https auto|on|off] [--no-micro] [--out DIR] [--rate R]
       node bench/run.ts --render bench/results/<name>.json   (rewrite its .md, .svg and latest.md)
Overhead of obi-ts vs no instrumentation (and the OTel Node SDK); see bench/README.md.
`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (argv[0] === '--render' && argv[1]) return rerender(argv[1]);
  let opts: BenchOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 64;
  }
  if (!opts.outDir) opts = { ...opts, outDir: mkdtempSync(join(tmpdir(), 'obi-bench-smoke-')) };
  const needsAgent = opts.configs.some((c) => c === 'idle' || c === 'obi');
  if (needsAgent && process.getuid?.() !== 0) {
    process.stderr.write('bench: the agent needs root (BPF); run as root\n');
    return 77;
  }
  if (needsAgent && !existsSync(join(REPO_ROOT, 'build', 'bpf', 'obi.bpf.o'))) {
    process.stderr.write('bench: build/bpf/obi.bpf.o missing; run `make build` first (or `make bench`)\n');
    return 69;
  }
  const startedAt = new Date().toISOString();
  const loadStart = loadAvg();
  const kernelEntry = measureKernelEntry(opts.smoke ? 0.1 : 1);
  log(describeKernelEntry(kernelEntry) ?? '');
  const bareNode = await bareNodeRss();
  const pending: string[] = [];
  const groups = [...opts.groups];
  const httpsWanted = groups.includes('nginx-https');
  if (httpsWanted && opts.https !== 'on' && (opts.https === 'off' || !tlsCaptureBuilt())) {
    groups.splice(groups.indexOf('nginx-https'), 1);
    if (!opts.smoke) pending.push(opts.https === 'off' ? 'nginx-https rows: skipped (--https off)' : 'nginx-https rows: pending: TLS capture is not in this build (no bpf/probes/ssl*.h); run again once the TLS issue has landed (or force with --https on)');
  }

  let sdkRegister: string | undefined;
  let sdkVersion: string | undefined;
  let receiver: OtlpReceiver | undefined;
  if (groups.includes('node') && opts.configs.includes('sdk')) {
    const s = await ensureSdk();
    if (s.register) {
      sdkRegister = s.register;
      sdkVersion = s.version;
      receiver = new OtlpReceiver();
      await receiver.start();
    } else pending.push(`node/OTel SDK rows: ${s.why}`);
  }
  let tls: TlsFiles | undefined;
  const tlsDir = groups.some((g) => g === 'nginx-https' || g.startsWith('genai-')) ? mkdtempSync(join(tmpdir(), 'obi-bench-tls-')) : undefined;
  if (tlsDir) tls = await makeCert(tlsDir);

  const ctx: Ctx = { opts, receiver, sdkRegister, tls, cpus: cpus().length, seq: 0 };
  const samples: Sample[] = [];
  const errors: RunError[] = [];
  const plan: { group: GroupId; config: ConfigId; rep: number }[] = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const group of groups) {
      const configs = GROUP_CONFIGS[group].filter((c) => opts.configs.includes(c) && (c !== 'sdk' || sdkRegister));
      for (const config of rotate(configs, rep)) plan.push({ group, config, rep });
    }
  }
  log(`${plan.length} runs: ${opts.reps} repetition(s) of ${groups.join(', ')}; results to ${opts.outDir}`);
  for (const [i, p] of plan.entries()) {
    log(`run ${i + 1}/${plan.length}: ${p.group} / ${p.config} (repetition ${p.rep + 1})`);
    try {
      const got = await runOne(p.group, p.config, p.rep, ctx);
      for (const s of got) {
        samples.push(s);
        const a = s.agent;
        log(`  ${s.scenario}: ${Math.round(s.rps)} req/s, p50 ${Math.round(s.p50Us)} µs, p99 ${Math.round(s.p99Us)} µs, app ${s.appCpuUsPerRequest.toFixed(2)} µs/req, machine ${s.machineBusyCores.toFixed(2)} cores busy (load gen ${s.loadGenCores.toFixed(2)}, other ${s.otherCores.toFixed(2)})` +
          (a ? `, agent ${a.mcPer10k.toFixed(1)} m/10k req/s, RSS ${a.rssSteadyMB.toFixed(1)} MB (peak ${a.hwmMB.toFixed(1)}), ${a.eventsPerRequest.toFixed(2)} events/req, dropped ${a.dropped}${s.config === 'obi' ? `, spans−requests ${a.spanDiff}` : ''}` : '') +
          (s.sdk ? `, SDK spans ${s.sdk.spansReceived}/${s.sdk.requestsTotal} requests` : ''));
      }
    } catch (err) {
      const message = (err as Error).stack ?? String(err);
      log(`  FAILED: ${message}`);
      errors.push({ ...p, message });
    }
    await sleep(300);
  }
  await receiver?.stop();
  if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });

  if (samples.some((s) => s.scenario.startsWith('redis') && s.config === 'obi') && samples.filter((s) => s.scenario.startsWith('redis') && s.agent).every((s) => s.agent!.spansTotalPrinted === 0)) {
    pending.push('redis spans: obi-ts produced none (no Redis protocol parser in this build yet); the capture cost above is real either way');
  }
  const micro = opts.micro ? await runMicro() : [];
  const rows = buildRows(samples);
  const targets = buildTargets(rows, samples, pending, kernelEntry, bareNode);
  const finishedAt = new Date().toISOString();
  const date = startedAt.slice(0, 10);
  const result: BenchResult = {
    schema: 1,
    date,
    startedAt,
    finishedAt,
    machine: { ...machineInfo(loadStart, kernelEntry, sdkVersion), bareNodeRss: bareNode },
    options: opts,
    samples,
    errors,
    rows,
    targets,
    pending,
    notes: METHOD_NOTES(opts),
    micro,
  };
  writeResult(result, opts.outDir);
  return errors.length ? 1 : 0;
}

/** the run's file name: its date, then `<date>-2`, `-3`… when that day has results already */
function freshName(outDir: string, date: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? date : `${date}-${i}`;
    if (!existsSync(join(outDir, `${name}.json`))) return name;
  }
}

function writeResult(result: BenchResult, outDir: string, name = freshName(outDir, result.date)): void {
  const date = result.date;
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, name);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 1)}\n`);
  writeFileSync(`${base}.svg`, renderSvg(result.rows, `obi-ts overhead, ${date}`));
  writeFileSync(`${base}.md`, renderMarkdown(result, `${name}.svg`));
  copyFileSync(`${base}.md`, join(outDir, 'latest.md'));
  log(`wrote ${relative(process.cwd(), base)}.{json,md,svg} and latest.md`);
  for (const t of result.targets) log(`${t.status.padEnd(8)} ${t.measure}: ${t.measured} (target ${t.target})`);
}

/** `--render FILE.json`: recompute rows and verdicts from the samples of an earlier run and rewrite its Markdown, SVG and latest.md */
function rerender(file: string): number {
  const old = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const rows = buildRows(old.samples);
  const result: BenchResult = { ...old, rows, targets: buildTargets(rows, old.samples, old.pending, old.machine.kernelEntry, old.machine.bareNodeRss), notes: METHOD_NOTES(old.options) };
  writeResult(result, dirname(file), basename(file, '.json'));
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

export { main };
