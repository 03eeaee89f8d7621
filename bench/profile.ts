/**
 * CPU profile of the agent under the nginx-http load of `make bench`: nginx (1 worker, static
 * file), the agent selecting it, wrk for --duration seconds; the profile is taken through the
 * agent's inspector after it has loaded its BPF programs (--cpu-prof from the start would have
 * the profiler's signals interrupt the verifier: EAGAIN). Prints the functions with the most
 * self time and writes the .cpuprofile for Chrome DevTools.
 *
 *   node bench/profile.ts [--duration 10] [--top 40] [--out /tmp/agent.cpuprofile] [--env K=V ...]
 */
import { writeFileSync } from 'node:fs';
import { InspectorMemory } from '../test/helpers/inspector.ts';
import { AgentProcess } from './lib/agent.ts';
import { wrk } from './lib/load.ts';
import { freePort } from './lib/proc.ts';
import { startNginx } from './lib/servers.ts';

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
  const app = await startNginx(port);
  const agent = await AgentProcess.start({ openPort: String(port), expectInstrumented: 2, env: { NODE_OPTIONS: InspectorMemory.nodeOptions(inspectPort, ''), ...extraEnv } });
  const insp = new InspectorMemory(inspectPort);
  try {
    await wrk({ url: `http://127.0.0.1:${port}/`, durationS: 2, threads: 1, connections: 32 });
    await insp.command('Profiler.enable');
    await insp.command('Profiler.setSamplingInterval', { interval: 200 });
    await insp.command('Profiler.start');
    let peakKiB = 0;
    const sampler = setInterval(() => {
      peakKiB = Math.max(peakKiB, agent.mem()?.rssKiB ?? 0);
    }, 250);
    const r = await wrk({ url: `http://127.0.0.1:${port}/`, durationS, threads: 1, connections: 32 });
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
    console.log(`wrk: ${Math.round(r.rps)} req/s; agent spans ${c.spansMetrics}; samples ${total}; profile ${out}`);
    console.log(`agent RSS peak under load ${(peakKiB / 1024).toFixed(1)} MiB; after a full GC: RSS ${m.rss.toFixed(1)} heap used ${m.heapUsed.toFixed(1)} external ${m.external.toFixed(1)} MiB`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  } finally {
    insp.close();
    await agent.stop();
    await app.stop();
  }
}

await main();
