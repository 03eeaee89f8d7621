/**
 * Start-up checks: privileges, BTF, tracefs/bpffs (mounted when missing).
 * Each failure is a clear AgentError with its own exit code.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { AgentError, NotSupportedError } from '../errors.ts';
import { loadBinding } from '../native/binding.ts';
import { capabilityStates, describeMissing } from './capabilities.ts';

/** capability bit numbers (linux/capability.h) */
const CAPS = { CAP_SYS_ADMIN: 21, CAP_SYS_PTRACE: 19, CAP_DAC_READ_SEARCH: 2, CAP_NET_ADMIN: 12, CAP_PERFMON: 38, CAP_BPF: 39 } as const;

export interface KernelReport {
  kernel: string;
  btf: boolean;
  tracefs: string;
  bpffs: string;
  capabilities: string[];
  lockdown: string;
  /** features lost to a missing capability, one line each naming both */
  warnings: string[];
}

/** names of the capabilities of interest that this process holds */
export function effectiveCapabilities(status = readFileSync('/proc/self/status', 'utf8')): Set<string> {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const bits = m ? BigInt(`0x${m[1]}`) : 0n;
  const out = new Set<string>();
  for (const [name, bit] of Object.entries(CAPS)) if ((bits >> BigInt(bit)) & 1n) out.add(name);
  return out;
}

function mounted(type: string, path: string): boolean {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => {
    const f = l.split(' ');
    return f[1] === path && f[2] === type;
  });
}

function ensureMount(type: string, path: string, altPath?: string): string {
  if (mounted(type, path)) return path;
  if (altPath && mounted(type, altPath)) return altPath;
  try {
    execFileSync('mount', ['-t', type, type, path], { stdio: 'pipe' });
  } catch (cause) {
    throw new AgentError('OBI_ERR_MOUNT', `${type} is not mounted at ${path} and mounting it failed: ${(cause as Error).message.trim()}`, { cause, exitCode: 4 });
  }
  return path;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function preflight(): KernelReport {
  // a non-root agent whose executable has permitted file capabilities (the Docker image) makes them effective
  try {
    loadBinding().raiseCapabilities();
  } catch {
    /* no addon yet: reported when the BPF object is opened */
  }
  const caps = effectiveCapabilities();
  const root = process.getuid?.() === 0;
  const states = capabilityStates();
  // tracefs may be mounted readable for the agent's user: CAP_DAC_READ_SEARCH is then not needed
  const fatal = states.filter((c) => !c.present && c.essential && !(c.name === 'CAP_DAC_READ_SEARCH' && readable('/sys/kernel/tracing/events')));
  if (fatal.length > 0) {
    throw new AgentError(
      'OBI_ERR_NOT_ROOT',
      `obi-ts needs root, or the capabilities CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE and CAP_NET_ADMIN: ${describeMissing(fatal).join('; ')} (running as uid ${process.getuid?.()}, effective: ${[...caps].join(',') || 'none'}; \`obi-ts doctor\` tells what works)`,
      { exitCode: 2 },
    );
  }
  const warnings = describeMissing(states.filter((c) => !c.present && !fatal.includes(c) && !c.essential));
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    throw new NotSupportedError(`BTF at /sys/kernel/btf/vmlinux in ${release()} (CONFIG_DEBUG_INFO_BTF=y, required for CO-RE)`, '5.4', undefined, 'OBI_ERR_NO_BTF');
  }
  const tracefs = ensureMount('tracefs', '/sys/kernel/tracing', '/sys/kernel/debug/tracing');
  const bpffs = ensureMount('bpf', '/sys/fs/bpf');
  return { kernel: release(), btf: true, tracefs, bpffs, capabilities: root ? ['root'] : [...caps], lockdown: lockdownMode(), warnings };
}

/** the active kernel lockdown mode (none, integrity, confidentiality), or unknown */
export function lockdownMode(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown'; // securityfs absent
  }
}
