/**
 * Process plumbing for the benchmark: child processes with captured output, free
 * ports, and the /proc readings every measurement is built from (CPU ticks from
 * /proc/PID/stat, VmRSS/VmHWM from /proc/PID/status).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `port ${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => resolve(false));
      }),
    timeoutMs,
    50,
  );
}

export interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout + stderr so far */
  output(): string;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves when the process is gone */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function startChild(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  let out = '';
  let so = '';
  let se = '';
  child.stdout?.on('data', (d: Buffer) => {
    const s = d.toString();
    out += s;
    so += s;
  });
  child.stderr?.on('data', (d: Buffer) => {
    const s = d.toString();
    out += s;
    se += s;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.once('error', () => undefined);
  return {
    child,
    pid: child.pid,
    output: () => out,
    stdout: () => so,
    stderr: () => se,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion; rejects on a non-zero exit with its output. */
export async function runCommand(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Promise<string> {
  const c = startChild(cmd, args, opts);
  const code = await c.exited;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${c.output().slice(-2000)}`);
  return c.output();
}

let _clkTck: number | undefined;
/** USER_HZ, the unit of utime/stime in /proc/PID/stat */
export function clkTck(): number {
  if (_clkTck === undefined) {
    try {
      _clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      _clkTck = 100;
    }
  }
  return _clkTck;
}

/** utime + stime of a whole process (all its threads), in ticks; `undefined` once it is gone */
export function cpuTicks(pid: number): number | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // fields after "(comm)": state is field 3, utime 14, stime 15
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** CPU seconds used by a set of processes (summed); processes that are gone count 0 */
export function cpuSeconds(pids: readonly number[]): number {
  let t = 0;
  for (const p of pids) t += cpuTicks(p) ?? 0;
  return t / clkTck();
}

/** CPU seconds of this process's reaped children (cutime + cstime): the load generator's, measured around its run */
export function reapedChildrenCpuSeconds(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / clkTck();
}

export interface MachineCpu {
  /** ticks not idle (iowait counts as idle), all CPUs */
  readonly busy: number;
  readonly total: number;
}

/** aggregate CPU time of the machine from /proc/stat, in ticks */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

export interface MemStatus {
  /** resident set now, KiB */
  readonly rssKiB: number;
  /** high-water mark of the resident set since start, KiB */
  readonly hwmKiB: number;
}

export function memStatus(pid: number): MemStatus | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const get = (k: string): number => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s);
    return m ? Number(m[1]) : 0;
  };
  return { rssKiB: get('VmRSS'), hwmKiB: get('VmHWM') };
}

/** direct children of a process (nginx workers of a master) */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** first non-empty line of a command's stdout + stderr (nginx -v writes to stderr), or `undefined` when it cannot run */
export function commandVersion(cmd: string, args: readonly string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.error) return undefined;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean);
}

export function loadAvg(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** the environment without OTEL_* variables (the agent and SDK get exactly what a run sets) */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}
