/**
 * Integration-test harness: runs the real agent in-process (real kernel, real
 * BPF) with the JSON trace printer captured, and real servers/clients as child
 * processes. The test process is the agent, so clients must be other processes.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { loadConfig } from '../../src/config/index.ts';
import { Agent } from '../../src/pipeline/agent.ts';
import { createLogger } from '../../src/pipeline/log.ts';

export interface SpanJSON {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  start: string;
  end: string;
  durationNs: number;
  status: string;
  statusMessage?: string;
  /** the instrumentation (`http`, `sql`, `mongo`) */
  protocol?: string;
  attributes: Record<string, string | number | boolean>;
  service: { name: string; namespace: string; instanceId: string; pid: number; language: string };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** ports freePort handed out in this process */
const givenPorts = new Set<number>();

/**
 * A port nothing listens on now, and one this process was not given before: the kernel may give
 * the same ephemeral port to two binds in a row once the first is closed (two servers of one test
 * were given the same port: nginx merged their listen directives and refused the configuration).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (!givenPorts.has(port) || attempt >= 50) {
      givenPorts.add(port);
      return port;
    }
  }
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 15_000): Promise<void> {
  await waitFor(`port ${port}`, () =>
    new Promise<boolean>((resolve) => {
      const c = connect(port, host);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    }), timeoutMs, 50);
}

export class TestAgent {
  readonly agent: Agent;
  readonly promPort: number;
  private readonly _lines: string[] = [];
  private _partial = '';
  readonly logs: string[] = [];

  private constructor(agent: Agent, promPort: number) {
    this.agent = agent;
    this.promPort = promPort;
  }

  static async start(env: Record<string, string>): Promise<TestAgent> {
    const promPort = await freePort();
    const config = loadConfig({
      env: { OTEL_EBPF_TRACE_PRINTER: 'json', OTEL_EBPF_PROMETHEUS_PORT: String(promPort), OTEL_EBPF_BPF_DRAIN_INTERVAL: '5ms', ...env },
    });
    const holder: { t?: TestAgent } = {};
    const out = {
      write: (s: string): boolean => {
        holder.t!._onOut(s);
        return true;
      },
    };
    const logs: string[] = [];
    // every drain poisoned once walked: a record's view kept past its call fails the test (AgentOptions)
    const agent = new Agent(config, { log: createLogger('DEBUG', 'text', (l) => void logs.push(l)), out, poisonDrains: true });
    const t = new TestAgent(agent, promPort);
    holder.t = t;
    (t as { logs: string[] }).logs = logs;
    await agent.start();
    return t;
  }

  private _onOut(s: string): void {
    const text = this._partial + s;
    const parts = text.split('\n');
    this._partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) this._lines.push(p);
  }

  spans(filter?: (s: SpanJSON) => boolean): SpanJSON[] {
    const all = this._lines.map((l) => JSON.parse(l) as SpanJSON);
    return filter ? all.filter(filter) : all;
  }

  async waitSpans(count: number, filter: (s: SpanJSON) => boolean, timeoutMs = 10_000): Promise<SpanJSON[]> {
    try {
      return await waitFor(`${count} spans`, () => {
        const s = this.spans(filter);
        return s.length >= count ? s : undefined;
      }, timeoutMs);
    } catch (err) {
      // say how far it got, and what: a slow agent, a lost span and a misread connection fail differently
      const got = this.spans(filter);
      const names = got.slice(0, 20).map((s) => `${s.protocol}:${JSON.stringify(s.name)}`);
      throw new Error(`${(err as Error).message} (${got.length} arrived${got.length > 0 ? `: ${names.join(', ')}` : ''})`, { cause: err });
    }
  }

  /** waits until pid is instrumented (selected and in the kernel filter) */
  async waitTracked(pid: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(`pid ${pid} tracked`, () => this.agent.status().tracked.some((p) => p.pid === pid) && this.agent.kernelPids().includes(pid), timeoutMs);
  }

  async metrics(): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.promPort}/metrics`);
    return await r.text();
  }

  /** value of the first series of `name` whose labels include all of `labels` */
  async metricValue(name: string, labels: Record<string, string>): Promise<number | undefined> {
    const text = await this.metrics();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await this.agent.stop();
  }
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  kill(): Promise<void>;
}

export function startProcess(cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
      await exited;
    },
  };
}

/** run a command to completion; rejects on non-zero exit */
export async function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  const p = startProcess(cmd, args, opts);
  const code = await new Promise<number | null>((r) => p.child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${p.output()}`);
  return p.output();
}

export const nodeBin = process.execPath;
