/**
 * The start-up self-test of header injection (`headers`, docs/devdocs/propagation.md): before any
 * application's socket can go into the sockhash, the agent runs its loopback peer
 * (native/selftest/obi-selftest.c) in a cgroup of its own with the sockops program attached and
 * injection on, traced as a selected process would be, and judges what it saw: FIONREAD right, three
 * keep-alive requests each arriving as sent plus one traceparent line and answered without a
 * delayed-ACK wait, and no EAGAIN from a blocking recv() after a 4 MiB send. Any failure: injection
 * stays off and the TCP option carries the context instead (pipeline/propagation.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ObiPropMode } from '../abi/events.ts';
import { projectRoot } from '../native/binding.ts';

/** what the peer prints (one JSON line) */
export interface SelfTestReport {
  readonly error?: string;
  readonly fionread?: number;
  readonly keepalive?: { rounds: number; answered: number; injected: number; exact: number; maxMs: number };
  readonly bigsend?: { rounds: number; ok: number; eagain: number; other: number };
}

export interface SelfTestOutcome {
  readonly ok: boolean;
  /** the checks that failed, in words (empty when ok) */
  readonly failed: string[];
  readonly report?: SelfTestReport;
}

/** a keep-alive round trip slower than this waited for a delayed ACK (~40 ms) */
export const SELFTEST_MAX_RTT_MS = 25;

export const defaultSelfTestPeer = join(projectRoot, 'build', 'native', 'obi-selftest');

/** the checks, on what the peer saw */
export function judgeSelfTest(r: SelfTestReport): string[] {
  if (r.error !== undefined) return [`the loopback peer failed: ${r.error}`];
  const failed: string[] = [];
  if (r.fionread !== 100) failed.push(`FIONREAD returned ${r.fionread} for 100 bytes received (sockhash sockets report 0 without the sk_skb verdict program)`);
  const k = r.keepalive;
  if (!k || k.answered !== k.rounds) failed.push(`keep-alive: ${k?.answered ?? 0} of ${k?.rounds ?? 3} requests answered`);
  else {
    if (k.injected !== k.rounds) failed.push(`keep-alive: ${k.injected} of ${k.rounds} requests arrived with a traceparent header`);
    if (k.exact !== k.rounds) failed.push(`keep-alive: ${k.rounds - k.exact} of ${k.rounds} requests arrived with other bytes changed`);
    if (k.maxMs > SELFTEST_MAX_RTT_MS) failed.push(`keep-alive: a round trip took ${k.maxMs} ms (a split head waiting for a delayed ACK)`);
  }
  const b = r.bigsend;
  if (!b || b.ok !== b.rounds) failed.push(`blocking recv() after a 4 MiB send: ${b?.ok ?? 0} of ${b?.rounds ?? 10} answered, ${b?.eagain ?? 0} EAGAIN, ${b?.other ?? 0} failed otherwise`);
  return failed;
}

/** what the self-test needs of the agent's kernel side */
export interface SelfTestKernel {
  tracePid(pid: number, on: boolean): void;
  setPropMode(pid: number, mode: number | undefined): void;
  readonly bpf: { attachCgroup(prog: string, dir: string): number; detach(link: number): void };
}

export interface SelfTestOptions {
  readonly kernel: SelfTestKernel;
  /** the cgroup v2 mount: the test's cgroup is made under it */
  readonly cgroupRoot: string;
  readonly sockopsProgram: string;
  readonly peerPath?: string;
  readonly timeoutMs?: number;
  /** the peer's pid (its records are the self-test's, not an application's) */
  readonly onPeer?: (pid: number) => void;
}

/** Run the peer in its own cgroup with the sockops program attached; never throws. */
export async function runHeaderSelfTest(o: SelfTestOptions): Promise<SelfTestOutcome> {
  const dir = join(o.cgroupRoot, `obi-ts-selftest-${process.pid}`);
  let link: number | undefined;
  let pid: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    link = o.kernel.bpf.attachCgroup(o.sockopsProgram, dir);
    const report = await new Promise<SelfTestReport>((resolve) => {
      const child = spawn(o.peerPath ?? defaultSelfTestPeer, [join(dir, 'cgroup.procs')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ error: `no answer within ${o.timeoutMs ?? 20_000} ms` });
      }, o.timeoutMs ?? 20_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ error: e.message });
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (pid === undefined && out.startsWith('ready\n')) {
          pid = child.pid!;
          o.onPeer?.(pid);
          o.kernel.setPropMode(pid, ObiPropMode.OBI_PROP_ROOT);
          o.kernel.tracePid(pid, true);
          child.stdin.write('go\n');
        }
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        try {
          if (line !== undefined) return resolve(JSON.parse(line) as SelfTestReport);
        } catch {
          /* below */
        }
        resolve({ error: `exited with ${code}: ${err.trim() || out.trim() || 'no output'}` });
      });
    });
    const failed = judgeSelfTest(report);
    return { ok: failed.length === 0, failed, report };
  } catch (e) {
    return { ok: false, failed: [`cannot run: ${(e as Error).message}`] };
  } finally {
    if (pid !== undefined) {
      try {
        o.kernel.tracePid(pid, false);
        o.kernel.setPropMode(pid, undefined);
      } catch {
        /* gone */
      }
    }
    if (link !== undefined) {
      try {
        o.kernel.bpf.detach(link);
      } catch {
        /* gone */
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      /* a peer still in it (killed): the directory goes when it exits */
    }
  }
}
