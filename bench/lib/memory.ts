/**
 * Where the agent's resident memory is: /proc/PID/smaps summed by what each mapping holds, so the
 * report can say which part of the RSS target a run misses by, and how much of it any Node.js
 * process has before it does anything (a bare `node` measured once per run of `make bench`).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { f1 } from './format.ts';
import { sleep } from './proc.ts';
import { spread } from './stats.ts';
import type { AgentMeasure, Row, RssByKind } from './types.ts';

/** Resident memory of `pid` by kind, or undefined when the process is gone. */
export function rssByKind(pid: number): RssByKind | undefined {
  let text: string;
  let exe: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
  const kib = { executable: 0, libraries: 0, anonymous: 0, bpf: 0 };
  let kind: keyof typeof kib = 'anonymous';
  for (const line of text.split('\n')) {
    // a mapping's header: "start-end perms offset dev inode [name]"; its fields follow, one per line
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1];
      kind = name === exe ? 'executable' : name.startsWith('anon_inode:bpf') ? 'bpf' : name.startsWith('/') ? 'libraries' : 'anonymous';
      continue;
    }
    if (line.startsWith('Rss:')) kib[kind] += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  const mb = (k: number): number => (k * 1024) / 1e6;
  return { executable: mb(kib.executable), libraries: mb(kib.libraries), anonymous: mb(kib.anonymous), bpf: mb(kib.bpf) };
}

/** A bare Node.js process (this one's executable, an idle timer), its memory after a second. */
export async function bareNodeRss(): Promise<RssByKind | undefined> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    await sleep(1000);
    return child.pid === undefined ? undefined : rssByKind(child.pid);
  } finally {
    child.kill('SIGKILL');
  }
}

export function rssTotal(m: RssByKind): number {
  return m.executable + m.libraries + m.anonymous + m.bpf;
}

function describe(m: RssByKind): string {
  return `the node executable ${f1(m.executable)} MB, other files ${f1(m.libraries)} MB, anonymous memory (V8's heaps, malloc) ${f1(m.anonymous)} MB, BPF maps (the ring buffer) ${f1(m.bpf)} MB`;
}

/** The median of each kind over a row's runs; undefined when a run did not measure them. */
export function rssKindMedians(runs: readonly AgentMeasure[]): RssByKind | undefined {
  if (runs.length === 0 || runs.some((a) => !a.rssByKind)) return undefined;
  const med = (k: keyof RssByKind): number => spread(runs.map((a) => a.rssByKind![k]))!.median;
  return { executable: med('executable'), libraries: med('libraries'), anonymous: med('anonymous'), bpf: med('bpf') };
}

const signed = (mb: number): string => `${mb >= 0 ? '+' : '−'}${f1(Math.abs(mb))} MB`;

/**
 * Why the RSS target (`targetMB`) is missed, from the breakdowns measured: the agent with nothing
 * selected (the largest of those rows), the worst row, and a bare node process for the floor; and
 * what would close it: the start-up footprint when the idle agent is over the target by more than
 * the load adds, else what the load keeps. Undefined when no run measured them.
 */
export function rssMissNote(idleRows: readonly Row[], worst: Row, bare: RssByKind | undefined, targetMB: number): string | undefined {
  const w = worst.agentRssByKind;
  if (!w) return undefined;
  const idle = idleRows.filter((r) => r.agentRssByKind).reduce<Row | undefined>((a, b) => (a && rssTotal(a.agentRssByKind!) >= rssTotal(b.agentRssByKind!) ? a : b), undefined);
  const parts = [`in ${worst.scenario} (medians): ${describe(w)}`];
  if (idle?.agentRssByKind) parts.push(`with nothing selected: ${describe(idle.agentRssByKind)}`);
  if (bare) parts.push(`a bare node process (an idle timer) holds ${f1(rssTotal(bare))} MB (${f1(bare.executable)} MB of it its executable), so the agent's code, modules and state add ${f1(rssTotal(idle?.agentRssByKind ?? w) - rssTotal(bare))} MB${idle?.agentRssByKind ? ' before any traffic' : ''}`);
  const startUp = 'a smaller start-up footprint (fewer and lazier imports, a V8 heap cap)';
  if (!idle?.agentRssByKind) return `; where it is, ${parts.join('; ')}; closing it needs ${startUp}`;
  const i = idle.agentRssByKind;
  const added = rssTotal(w) - rssTotal(i);
  const overIdle = rssTotal(i) - targetMB;
  parts.push(`the load adds ${signed(added)} (anonymous memory ${signed(w.anonymous - i.anonymous)}, BPF maps ${signed(w.bpf - i.bpf)}, the executable ${signed(w.executable - i.executable)})`);
  const closing = overIdle >= added ? `mostly ${startUp}: the agent is over the target by ${f1(overIdle)} MB before any traffic` : `mostly less memory held under load (fewer objects and captured bytes in flight, a smaller ring where the capture allows it), then ${startUp}`;
  return `; where it is, ${parts.join('; ')}; closing it needs ${closing}`;
}
