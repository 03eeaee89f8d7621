/**
 * The capabilities the agent runs with instead of root, and what each one unlocks: one table,
 * used by the start-up checks (preflight.ts: errors and warnings that name the missing
 * capability and the feature it blocks) and by `obi-ts doctor`. README.md and
 * docs/guides/least-privilege.md state the same set.
 */
import { readFileSync } from 'node:fs';

export interface CapabilityNeed {
  readonly name: CapabilityName;
  /** bit number (linux/capability.h) */
  readonly bit: number;
  /** what is lost without it */
  readonly blocks: string;
  /** true: nothing is captured without it; false: one feature is lost */
  readonly essential: boolean;
}

export type CapabilityName = 'CAP_BPF' | 'CAP_PERFMON' | 'CAP_NET_ADMIN' | 'CAP_SYS_PTRACE' | 'CAP_DAC_READ_SEARCH';

/** The documented set, in the order the docs list it. */
export const REQUIRED_CAPABILITIES: readonly CapabilityNeed[] = [
  { name: 'CAP_BPF', bit: 39, essential: true, blocks: 'all capture: creating the BPF maps and loading the programs' },
  { name: 'CAP_PERFMON', bit: 38, essential: true, blocks: 'all capture: attaching the tracepoints and the TLS uprobes' },
  { name: 'CAP_DAC_READ_SEARCH', bit: 2, essential: true, blocks: 'all capture: reading the tracepoint ids in tracefs (readable by root only)' },
  {
    name: 'CAP_SYS_PTRACE',
    bit: 19,
    essential: false,
    blocks: "processes of other users: their executable, command line, sockets and environment in /proc, and their TLS libraries (HTTPS)",
  },
  { name: 'CAP_NET_ADMIN', bit: 12, essential: false, blocks: 'context propagation: loading the sockops and sk_msg programs and attaching them to the cgroup' },
];

/** CAP_SYS_ADMIN covers every one of them (and root has it). */
export const CAP_SYS_ADMIN_BIT = 21;

/** The effective capability bits of this process (CapEff of /proc/self/status). */
export function effectiveCapabilityBits(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export interface CapabilityState {
  readonly name: CapabilityName;
  readonly present: boolean;
  readonly blocks: string;
  readonly essential: boolean;
}

/** Each documented capability, present or missing (CAP_SYS_ADMIN counts for all). */
export function capabilityStates(bits = effectiveCapabilityBits()): CapabilityState[] {
  const admin = ((bits >> BigInt(CAP_SYS_ADMIN_BIT)) & 1n) === 1n;
  return REQUIRED_CAPABILITIES.map((c) => ({ name: c.name, essential: c.essential, blocks: c.blocks, present: admin || ((bits >> BigInt(c.bit)) & 1n) === 1n }));
}

/** `CAP_X (blocks: ...)` lines of the missing ones */
export function describeMissing(states: readonly CapabilityState[]): string[] {
  return states.filter((s) => !s.present).map((s) => `${s.name} missing: no ${s.blocks}`);
}
