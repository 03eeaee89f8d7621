/**
 * The benchmark's scenarios: how each group's server is started in each configuration (none,
 * idle agent, obi-ts, OpenTelemetry SDK), its load phases, and one measured repetition (runOne).
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AgentProcess, REPO_ROOT, type AgentCounters } from './agent.ts';
import { redisBenchmark, wrk } from './load.ts';
import { rssByKind } from './memory.ts';
import type { OtlpReceiver } from './otlp.ts';
import { cleanEnv, cpuSeconds, freePort, machineCpu, reapedChildrenCpuSeconds, runCommand } from './proc.ts';
import { startGenaiServer, startGrpcServer, startNginx, startNodeApp, startRedis, type App, type TlsFiles } from './servers.ts';
import { median } from './stats.ts';
import type { AgentMeasure, BenchOptions, ConfigId, GroupId, PropGroupId, PropMode, RssByKind, Sample } from './types.ts';

const BENCH_DIR = join(import.meta.dirname, '..');
const SDK_DIR = join(BENCH_DIR, 'sdk');
const NODE_APP = join(BENCH_DIR, 'apps', 'node-server.cjs');
/** selected processes per group with obi-ts: nginx master and worker, the others one */
const EXPECTED_INSTRUMENTED: Readonly<Record<GroupId, number>> = {
  'nginx-http': 2, 'nginx-http-noprop': 2, 'nginx-https': 2, node: 1, redis: 1, grpc: 1, 'genai-https': 1, 'genai-https-large': 1, 'genai-h2': 1, 'genai-h2-large': 1,
  // wrk is selected at its exec, after the agent is up
  'nginx-prop-off': 2, 'nginx-prop-tcp': 2, 'nginx-prop-headers': 2, 'node-prop-off': 1, 'node-prop-tcp': 1, 'node-prop-headers': 1,
};
/** the agent configuration that adds wrk to the selection (the prop groups) */
const TRACE_WRK = join(BENCH_DIR, 'apps', 'trace-wrk.yaml');
const PROP_SETTING: Readonly<Record<PropMode, string>> = { off: 'disabled', tcp: 'tcp', headers: 'headers' };
const GENAI_SERVER = join(BENCH_DIR, '..', 'test', 'helpers', 'apps', 'genai-server.mjs');
const GENAI_POST = join(BENCH_DIR, 'apps', 'genai-post.lua');
/** the agent's GenAI settings in the genai groups (environment, as OBI names them) */
const GENAI_ENV: Readonly<Record<string, string>> = { OTEL_EBPF_TRACES_INSTRUMENTATIONS: 'http,genai', OTEL_EBPF_HTTP_OPENAI_ENABLED: 'true' };
const GRPC_SERVER = join(BENCH_DIR, 'apps', 'grpc-server.mjs');
const GRPC_LOAD = join(BENCH_DIR, 'apps', 'grpc-load.mjs');
const H2_GENAI_LOAD = join(BENCH_DIR, 'apps', 'h2-genai-load.mjs');
const PACE = join(BENCH_DIR, 'apps', 'pace.mjs');
const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** installs bench/sdk from its lock file when missing or stale; returns the register hook's path, or why not */
export async function ensureSdk(): Promise<{ register?: string; version?: string; why?: string }> {
  const lock = join(SDK_DIR, 'package-lock.json');
  const installed = join(SDK_DIR, 'node_modules', '.package-lock.json');
  try {
    if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
      log('installing the OpenTelemetry Node SDK into bench/sdk (npm ci)');
      await runCommand(join(REPO_ROOT, 'scripts', 'npm.sh'), ['ci', '--prefix', SDK_DIR, '--no-audit', '--no-fund', '--loglevel=error']);
    }
    const req = createRequire(join(SDK_DIR, 'package.json'));
    const register = req.resolve('@opentelemetry/auto-instrumentations-node/register');
    const pkg = (name: string): string => (JSON.parse(readFileSync(join(SDK_DIR, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    return { register, version: `@opentelemetry/auto-instrumentations-node ${pkg('@opentelemetry/auto-instrumentations-node')}, sdk-node ${pkg('@opentelemetry/sdk-node')}` };
  } catch (err) {
    return { why: `could not install the OpenTelemetry Node SDK in bench/sdk: ${(err as Error).message.split('\n')[0]}` };
  }
}

export interface Ctx {
  readonly opts: BenchOptions;
  readonly receiver?: OtlpReceiver;
  readonly sdkRegister?: string;
  readonly tls?: TlsFiles;
  readonly cpus: number;
  seq: number;
}

interface PhaseResult {
  readonly scenario: string;
  readonly durationS: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly errors: number;
  readonly inFlightBound: number;
}

interface GroupSpec {
  start(config: ConfigId, port: number, ctx: Ctx): Promise<App>;
  /** more agent environment for this group */
  readonly agentEnv?: Readonly<Record<string, string>>;
  /** spans each request yields with obi-ts: 2 where the client is traced too */
  readonly spansPerRequest?: number;
  /** warm-up load; returns requests completed */
  warm(port: number, ctx: Ctx): Promise<number>;
  phases: readonly { scenario: string; run(port: number, ctx: Ctx): Promise<PhaseResult> }[];
}

const wrkPhase = (scenario: string, scheme: 'http' | 'https', path: string, script?: string) => ({
  scenario,
  async run(port: number, ctx: Ctx): Promise<PhaseResult> {
    const o = ctx.opts;
    const r = await wrk({ url: `${scheme}://127.0.0.1:${port}${path}`, durationS: o.durationS, threads: o.wrkThreads, connections: o.connections, script });
    return { scenario, durationS: r.durationS, requests: r.requests, rps: r.rps, p50Us: r.latencyUs['50'], p99Us: r.latencyUs['99'], errors: r.socketErrors + r.non2xx, inFlightBound: r.connections };
  },
});

/**
 * The fixed-rate phase: bench/apps/pace.mjs sends `opts.rate` requests/s on `connections`
 * keep-alive connections and measures latency from each request's scheduled time.
 */
const pacedPhase = (scenario: string, scheme: 'http' | 'https', path: string) => ({
  scenario,
  async run(port: number, ctx: Ctx): Promise<PhaseResult> {
    const o = ctx.opts;
    const out = await runCommand(process.execPath, [PACE, `${scheme}://127.0.0.1:${port}${path}`, String(o.rate), String(o.durationS), String(o.connections)]);
    const r = JSON.parse(out.trim().split('\n').pop()!) as { requests: number; rps: number; p50Us: number; p99Us: number; errors: number; wallS: number };
    return { scenario, durationS: r.wallS, requests: r.requests, rps: r.rps, p50Us: r.p50Us, p99Us: r.p99Us, errors: r.errors, inFlightBound: o.connections };
  },
});

const wrkWarm = (scheme: 'http' | 'https', path: string, script?: string) => async (port: number, ctx: Ctx): Promise<number> => {
  const r = await wrk({ url: `${scheme}://127.0.0.1:${port}${path}`, durationS: ctx.opts.warmupS, threads: ctx.opts.wrkThreads, connections: ctx.opts.connections, script });
  return r.requests;
};

const redisPhase = (op: 'set' | 'get') => ({
  scenario: `redis-${op}`,
  async run(port: number, ctx: Ctx): Promise<PhaseResult> {
    const o = ctx.opts;
    const r = await redisBenchmark({ port, test: op, requests: o.redisRequests, clients: o.redisClients, keyspace: 100_000 });
    return { scenario: `redis-${op}`, durationS: r.wallS, requests: o.redisRequests, rps: r.rps, p50Us: r.p50Us, p99Us: r.p99Us, errors: 0, inFlightBound: o.redisClients };
  },
});

/** gRPC unary calls from grpc-load.mjs: `connections` calls in flight on one HTTP/2 connection */
async function grpcLoad(port: number, seconds: number, concurrency: number): Promise<{ requests: number; rps: number; p50Us: number; p99Us: number; errors: number; wallS: number }> {
  const out = await runCommand(process.execPath, [GRPC_LOAD, String(port), String(Math.max(1, Math.round(seconds))), String(concurrency)]);
  return JSON.parse(out.trim().split('\n').pop()!) as { requests: number; rps: number; p50Us: number; p99Us: number; errors: number; wallS: number };
}

const grpcPhase = {
  scenario: 'grpc-unary',
  async run(port: number, ctx: Ctx): Promise<PhaseResult> {
    const r = await grpcLoad(port, ctx.opts.durationS, ctx.opts.connections);
    return { scenario: 'grpc-unary', durationS: r.wallS, requests: r.requests, rps: r.rps, p50Us: r.p50Us, p99Us: r.p99Us, errors: r.errors, inFlightBound: ctx.opts.connections };
  },
};

/** POSTs of 20 KB answers on one HTTP/2-over-TLS connection (bench/apps/h2-genai-load.mjs) */
async function h2GenaiLoad(port: number, seconds: number, concurrency: number): Promise<{ requests: number; rps: number; p50Us: number; p99Us: number; errors: number; wallS: number }> {
  const out = await runCommand(process.execPath, [H2_GENAI_LOAD, String(port), String(Math.max(1, Math.round(seconds))), String(concurrency)]);
  return JSON.parse(out.trim().split('\n').pop()!) as { requests: number; rps: number; p50Us: number; p99Us: number; errors: number; wallS: number };
}

const h2GenaiPhase = (scenario: string) => ({
  scenario,
  async run(port: number, ctx: Ctx): Promise<PhaseResult> {
    const r = await h2GenaiLoad(port, ctx.opts.durationS, ctx.opts.connections);
    return { scenario, durationS: r.wallS, requests: r.requests, rps: r.rps, p50Us: r.p50Us, p99Us: r.p99Us, errors: r.errors, inFlightBound: ctx.opts.connections };
  },
});

/**
 * nginx or the Node server with wrk traced as well, in one propagation mode: the client span's
 * ids leave in a TCP option (`tcp`) or a traceparent header (`headers`), or not at all (`off`).
 */
function propGroup(app: 'nginx' | 'node', mode: PropMode): GroupSpec {
  const path = app === 'nginx' ? '/index.html' : '/api/users/12345';
  return {
    start: (_c, port) => (app === 'nginx' ? startNginx(port) : startNodeApp(port, NODE_APP, { env: cleanEnv({}) })),
    agentEnv: { OTEL_EBPF_CONFIG_PATH: TRACE_WRK, OTEL_EBPF_BPF_CONTEXT_PROPAGATION: PROP_SETTING[mode] },
    spansPerRequest: 2,
    warm: wrkWarm('http', path),
    phases: [wrkPhase(`${app}-prop-${mode}`, 'http', path)],
  };
}

const PROP_GROUPS = Object.fromEntries(
  (['nginx', 'node'] as const).flatMap((app) => (['off', 'tcp', 'headers'] as const).map((mode) => [`${app}-prop-${mode}`, propGroup(app, mode)])),
) as Record<PropGroupId, GroupSpec>;

const GROUPS: Readonly<Record<GroupId, GroupSpec>> = {
  'nginx-http': { start: (_c, port) => startNginx(port), warm: wrkWarm('http', '/index.html'), phases: [wrkPhase('nginx-http', 'http', '/index.html'), pacedPhase('nginx-http-paced', 'http', '/index.html')] },
  // the agent's default is context propagation tcp; this row turns it off to show its cost on a server
  // (wrk is not traced, so no option is written here: the kernel's per-request id decisions only)
  'nginx-http-noprop': {
    start: (_c, port) => startNginx(port),
    agentEnv: { OTEL_EBPF_BPF_CONTEXT_PROPAGATION: 'disabled' },
    warm: wrkWarm('http', '/index.html'),
    phases: [wrkPhase('nginx-http-noprop', 'http', '/index.html')],
  },
  'nginx-https': { start: (_c, port, ctx) => startNginx(port, ctx.tls), warm: wrkWarm('https', '/index.html'), phases: [wrkPhase('nginx-https', 'https', '/index.html'), pacedPhase('nginx-https-paced', 'https', '/index.html')] },
  node: {
    start: (config, port, ctx) => {
      if (config !== 'sdk') return startNodeApp(port, NODE_APP, { env: cleanEnv({}) });
      return startNodeApp(port, NODE_APP, {
        require: ctx.sdkRegister,
        env: cleanEnv({
          OTEL_SERVICE_NAME: 'bench-node',
          OTEL_EXPORTER_OTLP_ENDPOINT: ctx.receiver!.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'none',
          // no cloud metadata probes from a loopback benchmark
          OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
        }),
      });
    },
    warm: wrkWarm('http', '/api/users/12345'),
    phases: [wrkPhase('node', 'http', '/api/users/12345'), pacedPhase('node-paced', 'http', '/api/users/12345')],
  },
  redis: {
    start: (_c, port) => startRedis(port),
    warm: async (port, ctx) => {
      const n = Math.max(1000, Math.round(ctx.opts.redisRequests / 10));
      await redisBenchmark({ port, test: 'set', requests: n, clients: ctx.opts.redisClients, keyspace: 100_000 });
      return n;
    },
    phases: [redisPhase('set'), redisPhase('get')],
  },
  // POST /v1/chat/completions answered with 20 KB of JSON: the prefix alone, then with the larger capture
  'genai-https': {
    start: (_c, port, ctx) => startGenaiServer(port, GENAI_SERVER, ctx.tls!),
    agentEnv: GENAI_ENV,
    warm: wrkWarm('https', '/v1/chat/completions', GENAI_POST),
    phases: [wrkPhase('genai-https', 'https', '/v1/chat/completions', GENAI_POST)],
  },
  'genai-https-large': {
    start: (_c, port, ctx) => startGenaiServer(port, GENAI_SERVER, ctx.tls!),
    agentEnv: { ...GENAI_ENV, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '65536' },
    warm: wrkWarm('https', '/v1/chat/completions', GENAI_POST),
    phases: [wrkPhase('genai-https-large', 'https', '/v1/chat/completions', GENAI_POST)],
  },
  // the same answers over HTTP/2 through TLS: the DATA frames past each write's prefix, then with
  // the HTTP/2 body capture (the same ebpf.buffer_sizes.http; bpf/protocols/http2.h)
  'genai-h2': {
    start: (_c, port, ctx) => startGenaiServer(port, GENAI_SERVER, ctx.tls!, true),
    agentEnv: GENAI_ENV,
    warm: async (port, ctx) => (await h2GenaiLoad(port, ctx.opts.warmupS, ctx.opts.connections)).requests,
    phases: [h2GenaiPhase('genai-h2')],
  },
  'genai-h2-large': {
    start: (_c, port, ctx) => startGenaiServer(port, GENAI_SERVER, ctx.tls!, true),
    agentEnv: { ...GENAI_ENV, OTEL_EBPF_BPF_BUFFER_SIZE_HTTP: '65536' },
    warm: async (port, ctx) => (await h2GenaiLoad(port, ctx.opts.warmupS, ctx.opts.connections)).requests,
    phases: [h2GenaiPhase('genai-h2-large')],
  },
  grpc: {
    start: (_c, port) => startGrpcServer(port, GRPC_SERVER),
    warm: async (port, ctx) => (await grpcLoad(port, ctx.opts.warmupS, ctx.opts.connections)).requests,
    phases: [grpcPhase],
  },
  ...PROP_GROUPS,
};

const MB = (kib: number): number => (kib * 1024) / 1e6;

function propagationOf(before: AgentCounters, after: AgentCounters, requests: number): AgentMeasure['propagation'] {
  const per = (k: Exclude<keyof AgentCounters['prop'], 'mode' | 'links'>): number => (after.prop[k] - before.prop[k]) / requests;
  return {
    optionsWrittenPerRequest: per('optionsWritten'),
    optionsReadPerRequest: per('optionsRead'),
    parentsPerRequest: per('parents'),
    injectionsPerRequest: per('injections'),
    skippedPerRequest: per('skipped'),
    fallbacks: after.prop.fallbacks - before.prop.fallbacks,
    mode: after.prop.mode,
    linksPerRequest: Object.fromEntries(Object.entries(after.prop.links).map(([k, v]) => [k, (v - (before.prop.links[k] ?? 0)) / requests])),
  };
}

export async function runOne(group: GroupId, config: ConfigId, rep: number, ctx: Ctx): Promise<Sample[]> {
  const spec = GROUPS[group];
  const port = await freePort();
  ctx.receiver?.reset();
  const app = await spec.start(config, port, ctx);
  let agent: AgentProcess | undefined;
  const samples: Sample[] = [];
  let rssSamples: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    if (config === 'idle' || config === 'obi') {
      const unused = await freePort();
      agent = await AgentProcess.start({ openPort: String(config === 'obi' ? port : unused), expectInstrumented: config === 'obi' ? EXPECTED_INSTRUMENTED[group] : 0, env: spec.agentEnv });
    }
    const atStart = agent ? await agent.counters() : undefined;
    let requestsTotal = await spec.warm(port, ctx);
    const pids = app.pids();
    const measured: {
      phase: PhaseResult;
      appCpuS: number;
      agentCpuS: number;
      before?: AgentCounters;
      after?: AgentCounters;
      rss: number[];
      rssKinds?: RssByKind;
      startedAt: string;
      loadGenCores: number;
      loadGenCpuS: number;
      busyCores: number;
      otherCores: number;
    }[] = [];
    for (const phase of spec.phases) {
      const before = agent ? await agent.settle() : undefined;
      rssSamples = [];
      if (agent) {
        const a = agent;
        sampler = setInterval(() => {
          const m = a.mem();
          if (m) rssSamples.push(m.rssKiB);
        }, 250);
      }
      const startedAt = new Date().toISOString();
      const mc0 = machineCpu();
      const gen0 = reapedChildrenCpuSeconds();
      const t0 = performance.now();
      const app0 = cpuSeconds(pids);
      const ag0 = agent?.cpuSeconds() ?? 0;
      const r = await phase.run(port, ctx);
      const app1 = cpuSeconds(pids);
      const rssKinds = agent ? rssByKind(agent.pid) : undefined;
      const agWindow = agent?.cpuSeconds() ?? 0;
      const gen1 = reapedChildrenCpuSeconds();
      const mc1 = machineCpu();
      const wallS = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      const after = agent ? await agent.settle() : undefined;
      const ag1 = agent?.cpuSeconds() ?? 0;
      requestsTotal += r.requests;
      const cpus = ctx.cpus;
      const busyCores = ((mc1.busy - mc0.busy) / (mc1.total - mc0.total)) * cpus;
      const loadGenCores = (gen1 - gen0) / wallS;
      const ownCores = (app1 - app0 + (agWindow - ag0)) / wallS + loadGenCores;
      measured.push({ phase: r, appCpuS: app1 - app0, agentCpuS: ag1 - ag0, before, after, rss: rssSamples, rssKinds, startedAt, loadGenCores, loadGenCpuS: gen1 - gen0, busyCores, otherCores: Math.max(0, busyCores - ownCores) });
    }
    const hwmKiB = agent?.mem()?.hwmKiB ?? 0;
    const droppedExported = agent ? (await agent.metrics()).some((s) => s.name === 'obi_ebpf_events_dropped_total') : false;
    const stopped = agent ? await agent.stop() : undefined;
    await app.stop();
    const sdkCounts = config === 'sdk' && ctx.receiver ? { ...ctx.receiver.counts } : undefined;
    const perRequest = spec.spansPerRequest ?? 1;
    for (const [i, m] of measured.entries()) {
      const r = m.phase;
      const sinceDropped = (i === 0 ? atStart : measured[i - 1].after)?.dropped ?? 0;
      let agentM: AgentMeasure | undefined;
      if (agent && m.before && m.after) {
        const steady = m.rss.slice(Math.floor(m.rss.length / 2));
        const events = m.after.eventsRead - m.before.eventsRead;
        const spans = m.after.spansPrinted - m.before.spansPrinted;
        agentM = {
          cpuS: m.agentCpuS,
          mcPer10k: ((m.agentCpuS / r.durationS) * 1000) / (r.rps / 10_000),
          rssSteadyMB: MB(steady.length ? median(steady) : (agent.mem()?.rssKiB ?? 0)),
          rssMaxMB: MB(m.rss.length ? Math.max(...m.rss) : 0),
          rssByKind: m.rssKinds,
          hwmMB: MB(hwmKiB),
          startMs: Math.round(agent.startMs),
          eventsRead: events,
          eventsPerRequest: events / r.requests,
          bytesPerRequest: (m.after.bytesRead - m.before.bytesRead) / r.requests,
          cpuUsPerRequest: (m.agentCpuS * 1e6) / r.requests,
          ingestUsPerRequest: ((m.after.ingestS - m.before.ingestS) * 1e6) / r.requests,
          processUsPerRequest: ((m.after.processS - m.before.processS) * 1e6) / r.requests,
          yieldsPerKRequest: ((m.after.cpuYields - m.before.cpuYields) * 1000) / r.requests,
          tlsCallsPerRequest: (m.after.tlsCalls.selected - m.before.tlsCalls.selected) / r.requests,
          tlsOtherCallsPerRequest: (m.after.tlsCalls.other - m.before.tlsCalls.other) / r.requests,
          dropped: m.after.dropped - m.before.dropped,
          droppedWarmup: m.before.dropped - sinceDropped,
          droppedExported,
          spans,
          spansMetrics: m.after.spansMetrics - m.before.spansMetrics,
          spanDiff: spans - perRequest * r.requests,
          spansPerRequestExpected: perRequest,
          propagation: propagationOf(m.before, m.after, r.requests),
          spansTotalSettled: measured[measured.length - 1].after!.spansPrinted,
          spansTotalPrinted: stopped?.printed ?? 0,
        };
      }
      samples.push({
        scenario: r.scenario,
        group,
        config,
        rep,
        seq: ctx.seq++,
        startedAt: m.startedAt,
        durationS: r.durationS,
        requests: r.requests,
        rps: r.rps,
        p50Us: r.p50Us,
        p99Us: r.p99Us,
        errors: r.errors,
        inFlightBound: r.inFlightBound,
        appCpuS: m.appCpuS,
        appCpuUsPerRequest: (m.appCpuS * 1e6) / r.requests,
        loadGenCores: m.loadGenCores,
        loadGenCpuUsPerRequest: (m.loadGenCpuS * 1e6) / r.requests,
        machineBusyCores: m.busyCores,
        otherCores: m.otherCores,
        agent: agentM,
        sdk: sdkCounts ? { spansReceived: sdkCounts.spans, requestsTotal, traceRequests: sdkCounts.traceRequests, metricRequests: sdkCounts.metricRequests } : undefined,
      });
    }
  } finally {
    clearInterval(sampler);
    await agent?.stop();
    await app.stop();
  }
  return samples;
}
