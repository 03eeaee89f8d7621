/**
 * What entering the kernel costs on the machine the benchmark runs on, measured once before the
 * load runs: a bare system call, and one uprobe hit on each kind of probed instruction.
 *
 * A TLS read or write under the capture is a uprobe hit (a breakpoint trap) plus a return probe,
 * on top of the system calls the application makes anyway. What a trap costs differs several-fold
 * between hosts (a virtual machine whose kernel switches page tables on every entry pays far more
 * than bare metal), so the report prints these numbers beside the ratios they explain.
 *
 * A small program (x86-64 assembly for the probed functions, compiled here with clang) calls a
 * function in a loop; the uprobe is a tracefs `uprobe_events` probe with no BPF program, enabled
 * only in a private tracing instance whose buffer is off, so a hit costs the trap and the
 * dispatch and nothing else. Each cost is the loop's time per call with the probe minus without
 * it, the median of three runs. The three functions begin with:
 * - `push %rbp`: the kernel emulates it (what the TLS probes are placed on; docs/devdocs/kernel.md,
 *   "Uprobe placement");
 * - `sub $8,%rsp`: the kernel single-steps it (two traps);
 * - a 5-byte nop: Linux 6.18 and later rewrite such a probe into a call to a trampoline that
 *   enters the kernel by a system call instead of a trap (earlier kernels: a trap like `push`).
 * The return probe's cost is a probe on `push` with a return probe, minus the entry probe alone.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFunctionSymbols, readElfInfo, withFile } from '../../src/discovery/elf.ts';
import { median } from './stats.ts';

export interface KernelEntryCosts {
  /** µs per `getppid` system call */
  readonly syscallUs: number;
  /** µs added to a call by an entry uprobe on an instruction the kernel emulates (`push %rbp`) */
  readonly uprobeEmulatedUs: number;
  /** the same on an instruction the kernel single-steps (`sub $8,%rsp`) */
  readonly uprobeSteppedUs: number;
  /** the same on a 5-byte nop (rewritten into a call on Linux 6.18+) */
  readonly uprobeNop5Us: number;
  /** µs a return probe adds on top of the entry probe */
  readonly uretprobeUs: number;
}

/** the costs, or why they could not be measured */
export type KernelEntryResult = KernelEntryCosts | { readonly error: string };

const SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

__asm__(".text\n"
  ".globl obi_push\n.type obi_push,@function\nobi_push:\n push %rbp\n mov %rsp,%rbp\n lea 1(%rdi),%eax\n pop %rbp\n ret\n.size obi_push,.-obi_push\n"
  ".globl obi_sub\n.type obi_sub,@function\nobi_sub:\n sub $8,%rsp\n lea 1(%rdi),%eax\n add $8,%rsp\n ret\n.size obi_sub,.-obi_sub\n"
  ".globl obi_nop5\n.type obi_nop5,@function\nobi_nop5:\n .byte 0x0f,0x1f,0x44,0x00,0x00\n lea 1(%rdi),%eax\n ret\n.size obi_nop5,.-obi_nop5\n");
int obi_push(int);
int obi_sub(int);
int obi_nop5(int);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  long n = atol(argv[2]);
  volatile int acc = 0;
  double t0 = now();
  if (!strcmp(argv[1], "syscall")) {
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
  } else {
    int (*f)(int) = !strcmp(argv[1], "push") ? obi_push : !strcmp(argv[1], "sub") ? obi_sub : !strcmp(argv[1], "nop5") ? obi_nop5 : 0;
    if (!f) return 2;
    for (long i = 0; i < n; i++) acc = f(acc);
  }
  printf("%.3f\n", (now() - t0) / n);
  return 0;
}
`;

const FUNCTIONS = ['obi_push', 'obi_sub', 'obi_nop5'] as const;
type Fn = 'push' | 'sub' | 'nop5';

/** calls per timed loop: about half a second each on a slow host */
const CALLS: Readonly<Record<Fn | 'syscall', number>> = { syscall: 400_000, push: 100_000, sub: 25_000, nop5: 200_000 };

function tracefsRoot(): string | undefined {
  for (const d of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) if (existsSync(join(d, 'uprobe_events'))) return d;
  return undefined;
}

/** ns per iteration of `mode`, median of `runs` */
function loop(bin: string, mode: Fn | 'syscall', calls: number, runs = 3): number {
  const got: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(bin, [mode, String(calls)], { encoding: 'utf8' });
    const ns = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(ns)) throw new Error(`${bin} ${mode} exited ${r.status}: ${r.stderr.trim()}`);
    got.push(ns);
  }
  return median(got);
}

/**
 * Measures the costs. `scale` < 1 shortens every loop (the smoke run). Needs x86-64, root, clang
 * and tracefs; anything missing is reported as the error, never thrown.
 */
export function measureKernelEntry(scale = 1): KernelEntryResult {
  if (arch() !== 'x64') return { error: `x86-64 only (this is ${arch()})` };
  const root = tracefsRoot();
  if (!root) return { error: 'no tracefs with uprobe_events (mount -t tracefs nodev /sys/kernel/tracing)' };
  const dir = mkdtempSync(join(tmpdir(), 'obi-bench-kentry-'));
  const group = `obibench${process.pid}`;
  const instance = join(root, 'instances', group);
  const events: string[] = [];
  try {
    const src = join(dir, 'kentry.c');
    const bin = join(dir, 'kentry');
    writeFileSync(src, SOURCE);
    const cc = spawnSync('clang', ['-O1', '-o', bin, src], { encoding: 'utf8' });
    if (cc.status !== 0) return { error: `clang failed: ${(cc.stderr || String(cc.error)).trim().slice(0, 300)}` };
    const offsets = withFile(bin, (fd) => {
      const info = readElfInfo(fd);
      return info ? findFunctionSymbols(fd, info, FUNCTIONS) : undefined;
    });
    const offset = (name: string): number => {
      const off = offsets?.get(name)?.fileOffset;
      if (off === undefined) throw new Error(`${name} not found in ${bin}`);
      return off;
    };
    const n = (mode: Fn | 'syscall'): number => Math.max(1000, Math.round(CALLS[mode] * scale));

    const base: Record<Fn, number> = { push: loop(bin, 'push', n('push')), sub: loop(bin, 'sub', n('sub')), nop5: loop(bin, 'nop5', n('nop5')) };
    const syscallUs = loop(bin, 'syscall', n('syscall')) / 1000;

    const add = (name: string, kind: 'p' | 'r', fn: string): void => {
      appendFileSync(join(root, 'uprobe_events'), `${kind}:${group}/${name} ${bin}:0x${offset(fn).toString(16)}\n`);
      events.push(name);
    };
    add('push', 'p', 'obi_push');
    add('sub', 'p', 'obi_sub');
    add('nop5', 'p', 'obi_nop5');
    add('push_ret', 'r', 'obi_push');
    mkdirSync(instance);
    writeFileSync(join(instance, 'tracing_on'), '0');
    /** µs per call added while `event` is enabled */
    const probed = (event: string, fn: Fn): number => {
      const enable = join(instance, 'events', group, event, 'enable');
      writeFileSync(enable, '1');
      try {
        return Math.max(0, loop(bin, fn, n(fn)) - base[fn]) / 1000;
      } finally {
        writeFileSync(enable, '0');
      }
    };
    const uprobeEmulatedUs = probed('push', 'push');
    const uprobeSteppedUs = probed('sub', 'sub');
    const uprobeNop5Us = probed('nop5', 'nop5');
    const uretprobeUs = Math.max(0, probed('push_ret', 'push') - uprobeEmulatedUs);
    return { syscallUs, uprobeEmulatedUs, uprobeSteppedUs, uprobeNop5Us, uretprobeUs };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    try {
      if (existsSync(instance)) rmdirSync(instance);
    } catch {
      // an instance still in use stays; its name carries our pid
    }
    for (const e of events) {
      try {
        appendFileSync(join(root, 'uprobe_events'), `-:${group}/${e}\n`);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** one line for the report's header */
export function describeKernelEntry(k: KernelEntryResult | undefined): string | undefined {
  if (!k) return undefined;
  if ('error' in k) return `Kernel entry costs on this machine: not measured (${k.error}).`;
  const f = (us: number): string => (us >= 10 ? us.toFixed(1) : us.toFixed(2));
  return (
    `Kernel entry costs on this machine, measured before the runs (bench/lib/kernel-entry.ts): a system call ${f(k.syscallUs)} µs; ` +
    `a uprobe hit ${f(k.uprobeEmulatedUs)} µs on an instruction the kernel emulates (\`push\`, where the TLS probes sit), ` +
    `${f(k.uprobeSteppedUs)} µs on one it single-steps (\`sub $imm,%rsp\`), ${f(k.uprobeNop5Us)} µs on a 5-byte nop; ` +
    `a return probe adds ${f(k.uretprobeUs)} µs. The capture adds a uprobe hit and a return probe to each TLS read and write of the application, and its BPF programs run inside each of its system calls, so ratios measured on hosts with other entry costs differ.`
  );
}
