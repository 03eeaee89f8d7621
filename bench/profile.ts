/**
 * CPU profile of the agent under a load of `make bench`: `--group nginx` (default: nginx, 1 worker,
 * static file, wrk), `--group grpc` (the grpc-js unary server and load client), `--group node`
 * (the Node.js http server, wrk) or `--group genai-h2` (GenAI answers over HTTP/2 through TLS, GenAI
 * on; add `--env OTEL_EBPF_BPF_BUFFER_SIZE_HTTP=65536` for the body capture), the agent
 * selecting the server, load for --duration seconds; the profile is taken through the
 * agent's inspector after it has loaded its BPF programs (--cpu-prof from the start would have
 * the profiler's signals interrupt the verifier: EAGAIN). Prints the functions with the most
 * self time and writes the .cpuprofile for Chrome DevTools.
 *
 * With --alloc, a sampling allocation profile instead (every allocation, the short-lived ones too:
 * they are what the young generation's scavenges cost): bytes allocated per request, by function.
 *
 * With --rate R (nginx, node), the load is the fixed-rate pacer of `make bench` at R requests/s
 * instead of wrk at saturation.
 *
 *   node bench/profile.ts [--group nginx|grpc|node|genai-h2] [--rate R] [--alloc] [--node-options '--max-semi-space-size=16'] [--duration 10] [--top 40] [--out /tmp/agent.cpuprofile] [--env K=V ...]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InspectorMemory } from '../test/helpers/inspector.ts';
import { AgentProcess } from './lib/agent.ts';
import { wrk } from './lib/load.ts';
import { freePort } from './lib/proc.ts';
import { cleanEnv, runCommand } from './lib/proc.ts';
import { makeCert, startGenaiServer, startGrpcServer, startNginx, startNodeApp } from './lib/servers.ts';

const BENCH_DIR = import.meta.dirname;

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  const durationS = Number(arg('--duration', '10'));
  const top = Number(arg('--top', '40'));
  const out = arg('--out', '/tmp/agent.cpuprofile');
  const extraEnv: Record<string, string> = {};
  process.argv.forEach((a, i) => {
    if (a === '--env') {
      const [k, ...v] = process.argv[i + 1].split('=');
      extraEnv[k] = v.join('=');
    }
  });
  const port = await freePort();
  const inspectPort = await freePort();
  const group = arg('--group', 'nginx');
  if (!['nginx', 'grpc', 'node', 'genai-h2'].includes(group)) throw new Error(`--group: nginx, grpc, node or genai-h2, not ${group}`);
  const grpc = group === 'grpc';
  const h2 = group === 'genai-h2';
  const tlsDir = h2 ? mkdtempSync(join(tmpdir(), 'obi-profile-tls-')) : undefined;
  const app =
    group === 'grpc'
      ? await startGrpcServer(port, join(BENCH_DIR, 'apps', 'grpc-server.mjs'))
      : group === 'node'
        ? await startNodeApp(port, join(BENCH_DIR, 'apps', 'node-server.cjs'), { env: cleanEnv({}) })
        : h2
          ? await startGenaiServer(port, join(BENCH_DIR, '..', 'test', 'helpers', 'apps', 'genai-server.mjs'), await makeCert(tlsDir!), true)
          : await startNginx(port);
  if (h2) Object.assign(extraEnv, { OTEL_EBPF_TRACES_INSTRUMENTATIONS: 'http,genai', OTEL_EBPF_HTTP_OPENAI_ENABLED: 'true' }, { ...extraEnv });
  const rate = Number(arg('--rate', '0'));
  const load = async (seconds: number): Promise<number> => {
    if (h2) {
      // the genai-h2 groups' load client (bench/lib/scenarios.ts)
      const out = await runCommand(process.execPath, [join(BENCH_DIR, 'apps', 'h2-genai-load.mjs'), String(port), String(seconds), '32']);
      return (JSON.parse(out.trim().split('\n').pop()!) as { rps: number }).rps;
    }
    if (!grpc && rate > 0) {
      // the fixed-rate phase's pacer (bench/lib/scenarios.ts)
      const out = await runCommand(process.execPath, [join(BENCH_DIR, 'apps', 'pace.mjs'), `http://127.0.0.1:${port}/`, String(rate), String(seconds), '32']);
      return (JSON.parse(out.trim().split('\n').pop()!) as { rps: number }).rps;
    }
    if (!grpc) return (await wrk({ url: `http://127.0.0.1:${port}/`, durationS: seconds, threads: 1, connections: 32 })).rps;
    const out = await runCommand(process.execPath, [join(BENCH_DIR, 'apps', 'grpc-load.mjs'), String(port), String(seconds), '32']);
    return (JSON.parse(out.trim().split('\n').pop()!) as { rps: number }).rps;
  };
  const agent = await AgentProcess.start({ openPort: String(port), expectInstrumented: group === 'nginx' ? 2 : 1, env: { NODE_OPTIONS: InspectorMemory.nodeOptions(inspectPort, arg('--node-options', '')), ...extraEnv } });
  const insp = new InspectorMemory(inspectPort);
  try {
    await load(2);
    if (process.argv.includes('--alloc')) {
      await insp.command('HeapProfiler.enable');
      await insp.command('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      const rps = await load(durationS);
      const c = await agent.settle();
      const stopped = await insp.command('HeapProfiler.stopSampling');
      const head = (stopped.result?.profile as { head: AllocNode }).head;
      const self = new Map<string, number>();
      let total = 0;
      const walk = (n: AllocNode): void => {
        const f = n.callFrame;
        const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) ?? 0) + n.selfSize);
        total += n.selfSize;
        for (const ch of n.children) walk(ch);
      };
      walk(head);
      const requests = rps * durationS;
      console.log(`load: ${Math.round(rps)} req/s; agent spans ${c.spansMetrics}; allocated ${(total / 2 ** 20).toFixed(1)} MiB, ${Math.round(total / requests)} bytes per request`);
      for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${String(Math.round(v / requests)).padStart(6)} B/req  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
      return;
    }
    await insp.command('Profiler.enable');
    await insp.command('Profiler.setSamplingInterval', { interval: 200 });
    await insp.command('Profiler.start');
    let peakKiB = 0;
    const sampler = setInterval(() => {
      peakKiB = Math.max(peakKiB, agent.mem()?.rssKiB ?? 0);
    }, 250);
    const mid = new Promise<string>((resolve) =>
      setTimeout(() => {
        const expression = `JSON.stringify({ rss: process.memoryUsage().rss >> 20, spaces: process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size >> 20, s.space_used_size >> 20]) })`;
        insp.command('Runtime.evaluate', { expression, returnByValue: true }).then((r) => resolve(String((r.result?.result as { value?: unknown } | undefined)?.value)), (e: Error) => resolve(e.message));
      }, (durationS * 1000) / 2),
    );
    const rps = await load(durationS);
    console.log(`agent memory mid-load (MiB; V8 spaces: name, size, used): ${await mid}`);
    clearInterval(sampler);
    const stopped = await insp.command('Profiler.stop');
    const profile = stopped.result?.profile as { nodes: ProfileNode[]; samples: number[] };
    writeFileSync(out, JSON.stringify(profile));
    const self = new Map<string, number>();
    let total = 0;
    for (const n of profile.nodes) {
      const f = n.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + (n.hitCount ?? 0));
      total += n.hitCount ?? 0;
    }
    const c = await agent.settle();
    const m = await insp.sample();
    for (const x of await agent.metrics()) if (x.name.startsWith('obi_nodejs')) console.log(`${x.name}{${x.labels}} ${x.value}`);
    console.log(`load: ${Math.round(rps)} req/s; agent spans ${c.spansMetrics}; samples ${total}; profile ${out}`);
    console.log(`agent RSS peak under load ${(peakKiB / 1024).toFixed(1)} MiB; after a full GC: RSS ${m.rss.toFixed(1)} heap used ${m.heapUsed.toFixed(1)} external ${m.external.toFixed(1)} MiB`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  } finally {
    insp.close();
    await agent.stop();
    await app.stop();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  }
}

await main();
