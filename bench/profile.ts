/**
 * CPU profile of the agent under a load of `make bench`: `--group nginx` (default: nginx, 1 worker,
 * static file, wrk) or `--group grpc` (the grpc-js unary server and load client), the agent
 * selecting the server, load for --duration seconds; the profile is taken through the
 * agent's inspector after it has loaded its BPF programs (--cpu-prof from the start would have
 * the profiler's signals interrupt the verifier: EAGAIN). Prints the functions with the most
 * self time and writes the .cpuprofile for Chrome DevTools.
 *
 *   node bench/profile.ts [--group nginx|grpc] [--duration 10] [--top 40] [--out /tmp/agent.cpuprofile] [--env K=V ...]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorMemory } from '../test/helpers/inspector.ts';
import { AgentProcess } from './lib/agent.ts';
import { wrk } from './lib/load.ts';
import { freePort } from './lib/proc.ts';
import { runCommand } from './lib/proc.ts';
import { startGrpcServer, startNginx } from './lib/servers.ts';

const BENCH_DIR = import.meta.dirname;

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
  const grpc = arg('--group', 'nginx') === 'grpc';
  const app = grpc ? await startGrpcServer(port, join(BENCH_DIR, 'apps', 'grpc-server.mjs')) : await startNginx(port);
  const load = async (seconds: number): Promise<number> => {
    if (!grpc) return (await wrk({ url: `http://127.0.0.1:${port}/`, durationS: seconds, threads: 1, connections: 32 })).rps;
    const out = await runCommand(process.execPath, [join(BENCH_DIR, 'apps', 'grpc-load.mjs'), String(port), String(seconds), '32']);
    return (JSON.parse(out.trim().split('\n').pop()!) as { rps: number }).rps;
  };
  const agent = await AgentProcess.start({ openPort: String(port), expectInstrumented: grpc ? 1 : 2, env: { NODE_OPTIONS: InspectorMemory.nodeOptions(inspectPort, ''), ...extraEnv } });
  const insp = new InspectorMemory(inspectPort);
  try {
    await load(2);
    await insp.command('Profiler.enable');
    await insp.command('Profiler.setSamplingInterval', { interval: 200 });
    await insp.command('Profiler.start');
    let peakKiB = 0;
    const sampler = setInterval(() => {
      peakKiB = Math.max(peakKiB, agent.mem()?.rssKiB ?? 0);
    }, 250);
    const rps = await load(durationS);
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
    console.log(`wrk: ${Math.round(rps)} req/s; agent spans ${c.spansMetrics}; samples ${total}; profile ${out}`);
    console.log(`agent RSS peak under load ${(peakKiB / 1024).toFixed(1)} MiB; after a full GC: RSS ${m.rss.toFixed(1)} heap used ${m.heapUsed.toFixed(1)} external ${m.external.toFixed(1)} MiB`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  } finally {
    insp.close();
    await agent.stop();
    await app.stop();
  }
}

await main();
