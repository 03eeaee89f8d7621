/**
 * `obi-ts doctor`: what will work on this host, with this configuration and these privileges,
 * before the agent starts. It reads the kernel's facts (version, BTF, lockdown, tracefs, bpffs,
 * cgroup v2, perf_event_paranoid, the capabilities held), then tries the real thing: it loads
 * the agent's BPF object and attaches one tracepoint and one uprobe (on the OpenSSL inside this
 * very `node`), and asks the kernel whether sockops and sk_msg programs load. Each feature
 * (HTTP capture, TLS, processes of other users, each propagation mode) is then said to work or
 * not, and why. Nothing is mounted and nothing is left attached.
 * `ok` is true when every feature the configuration asks for works (the exit code is 0 then).
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { EffectiveConfig } from '../config/index.ts';
import { resolveTlsProbes } from '../discovery/tls.ts';
import { join } from 'node:path';
import { BPF_PROG_TYPE, BpfObject, defaultBpfObjectPath, probeProgType, projectRoot, uprobeMultiSupported } from '../native/binding.ts';
import { capabilityStates, type CapabilityState } from './capabilities.ts';
import { lockdownMode } from './preflight.ts';
import { planPropagation } from './propagation.ts';

/** what `doctor` checks against without --config: the embedded default of `make run` */
export const DOCTOR_DEFAULT_CONFIG = join(projectRoot, 'deploy', 'default.yaml');

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

export interface FeatureResult {
  readonly feature: string;
  /** the configuration asks for it */
  readonly required: boolean;
  readonly works: boolean;
  readonly why: string;
}

export interface DoctorReport {
  readonly kernel: string;
  readonly uid: number;
  readonly btf: boolean;
  readonly lockdown: string;
  readonly tracefs: string | undefined;
  readonly bpffs: string | undefined;
  readonly cgroup2: string | undefined;
  readonly perfEventParanoid: number | undefined;
  readonly capabilities: readonly CapabilityState[];
  readonly probes: { readonly tracepoints: ProbeResult; readonly uprobes: ProbeResult; readonly sockops: ProbeResult; readonly sk_msg: ProbeResult };
  readonly features: readonly FeatureResult[];
  readonly ok: boolean;
}

export interface DoctorOptions {
  readonly bpfObjectPath?: string;
  readonly procRoot?: string;
  /** capability bits to assume (tests); default: this process's */
  readonly capabilityBits?: bigint;
}

function mountPoint(type: string, mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const f = line.split(' ');
    if (f[2] === type) return f[1];
  }
  return undefined;
}

function firstLine(msg: string): string {
  return msg.split('\n')[0];
}

/** load the agent's object and attach one tracepoint, then one uprobe; everything is closed again */
function tryObject(path: string): { tracepoints: ProbeResult; uprobes: ProbeResult } {
  let bpf: BpfObject | undefined;
  try {
    bpf = new BpfObject(path);
    bpf.setGlobal('self_pid', process.pid);
    // probed on their own (probeProgType): they (and the sockhash) need CAP_NET_ADMIN
    for (const prog of ['obi_sockops', 'obi_sk_msg', 'obi_sk_skb']) bpf.setAutoload(prog, false);
    bpf.setMapAutocreate('prop_sockmap', false);
    if (uprobeMultiSupported()) bpf.useUprobeMulti();
    bpf.load();
    const link = bpf.attach('obi_exec');
    bpf.detach(link);
  } catch (err) {
    bpf?.close();
    const msg = firstLine((err as Error).message);
    return { tracepoints: { ok: false, detail: msg }, uprobes: { ok: false, detail: `not tried: ${msg}` } };
  }
  const tracepoints = { ok: true, detail: 'the BPF object loads; sched_process_exec attaches' };
  let uprobes: ProbeResult;
  try {
    const res = resolveTlsProbes({ openPath: process.execPath, candidate: 'executable' });
    const probe = res?.probes[0];
    if (!probe) uprobes = { ok: false, detail: `no OpenSSL symbols in ${process.execPath} to try a uprobe on` };
    else {
      const link = bpf.attachUprobe(probe.program, { retprobe: false, pid: -1, path: process.execPath, offset: probe.offset });
      bpf.detach(link);
      uprobes = { ok: true, detail: `attached on ${probe.symbol} in ${process.execPath}` };
    }
  } catch (err) {
    uprobes = { ok: false, detail: firstLine((err as Error).message) };
  } finally {
    bpf.close();
  }
  return { tracepoints, uprobes };
}

function tryProgType(type: number, name: string): ProbeResult {
  let r: number;
  try {
    r = probeProgType(type);
  } catch (err) {
    return { ok: false, detail: firstLine((err as Error).message) };
  }
  if (r === 1) return { ok: true, detail: `${name} programs load` };
  if (r === 0) return { ok: false, detail: `the kernel does not support ${name} programs` };
  return { ok: false, detail: `loading a ${name} program was refused (errno ${-r}${r === -1 ? ', EPERM: CAP_NET_ADMIN is needed' : ''})` };
}

export function runDoctor(config: EffectiveConfig, opts: DoctorOptions = {}): DoctorReport {
  const procRoot = opts.procRoot ?? '/proc';
  const mounts = readFileSync(`${procRoot}/mounts`, 'utf8');
  const tracefs = mountPoint('tracefs', mounts);
  const bpffs = mountPoint('bpf', mounts);
  const cgroup2 = mountPoint('cgroup2', mounts);
  let paranoid: number | undefined;
  try {
    paranoid = Number(readFileSync(`${procRoot}/sys/kernel/perf_event_paranoid`, 'utf8').trim());
  } catch {
    paranoid = undefined;
  }
  const btf = existsSync('/sys/kernel/btf/vmlinux');
  const caps = capabilityStates(opts.capabilityBits);
  const has = (name: string): boolean => caps.some((c) => c.name === name && c.present);
  const missing = (...names: string[]): string[] => names.filter((n) => !has(n));

  const { tracepoints, uprobes } = tryObject(opts.bpfObjectPath ?? defaultBpfObjectPath);
  const sockops = tryProgType(BPF_PROG_TYPE.SOCK_OPS, 'sockops');
  const skMsg = tryProgType(BPF_PROG_TYPE.SK_MSG, 'sk_msg');

  const features: FeatureResult[] = [];
  const capWhy = (names: string[]): string => (names.length > 0 ? `missing ${names.join(', ')}` : '');
  {
    const why: string[] = [];
    if (!btf) why.push('no BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y is needed)');
    const m = missing('CAP_BPF', 'CAP_PERFMON');
    if (m.length > 0) why.push(capWhy(m));
    if (!tracefs) why.push('tracefs is not mounted (the agent mounts it at start, which needs CAP_SYS_ADMIN; or mount it at /sys/kernel/tracing)');
    if (!tracepoints.ok) why.push(tracepoints.detail);
    features.push({ feature: 'HTTP and database capture (syscall tracepoints)', required: true, works: why.length === 0, why: why.join('; ') || tracepoints.detail });
  }
  {
    const m = missing('CAP_SYS_PTRACE');
    features.push({
      feature: 'processes of other users (discovery by /proc)',
      required: false,
      works: m.length === 0,
      why: m.length === 0 ? 'CAP_SYS_PTRACE held' : `${capWhy(m)}: only processes of uid ${process.getuid?.()} can be selected and read`,
    });
  }
  {
    const why: string[] = [];
    if (!uprobes.ok) why.push(uprobes.detail);
    if (!existsSync('/sys/bus/event_source/devices/uprobe/type')) why.push('no uprobe PMU (CONFIG_UPROBE_EVENTS)');
    const m = missing('CAP_SYS_PTRACE');
    const works = why.length === 0;
    features.push({
      feature: 'TLS plaintext (OpenSSL, GnuTLS uprobes)',
      required: true,
      works,
      why: works ? (m.length > 0 ? `${uprobes.detail}; ${capWhy(m)}: only for processes of the agent's own user` : uprobes.detail) : why.join('; '),
    });
  }
  const modes = planPropagation(config.ebpf.context_propagation);
  const propWhy = (needMsg: boolean): string[] => {
    const why: string[] = [];
    const m = missing('CAP_NET_ADMIN');
    if (m.length > 0) why.push(capWhy(m));
    if (!cgroup2) why.push('no cgroup v2 hierarchy mounted');
    if (!sockops.ok) why.push(sockops.detail);
    if (needMsg && !skMsg.ok) why.push(skMsg.detail);
    return why;
  };
  {
    const why = propWhy(true);
    features.push({ feature: 'context propagation: headers (sockops + sk_msg)', required: modes.headers, works: why.length === 0, why: why.join('; ') || `${sockops.detail}; ${skMsg.detail}; cgroup v2 at ${cgroup2}` });
  }
  {
    const why = propWhy(false);
    features.push({ feature: 'context propagation: tcp (sockops TCP option)', required: modes.tcp, works: why.length === 0, why: why.join('; ') || `${sockops.detail}; cgroup v2 at ${cgroup2}` });
  }
  return {
    kernel: release(),
    uid: process.getuid?.() ?? -1,
    btf,
    lockdown: lockdownMode(),
    tracefs,
    bpffs,
    cgroup2,
    perfEventParanoid: paranoid,
    capabilities: caps,
    probes: { tracepoints, uprobes, sockops, sk_msg: skMsg },
    features,
    ok: features.every((f) => !f.required || f.works),
  };
}

/** The report for people. */
export function formatDoctor(r: DoctorReport): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'NO');
  const lines = [
    'obi-ts doctor',
    '',
    `kernel              ${r.kernel}`,
    `running as uid      ${r.uid}`,
    `BTF                 ${yes(r.btf)}`,
    `lockdown            ${r.lockdown}`,
    `tracefs             ${r.tracefs ?? 'not mounted'}`,
    `bpffs               ${r.bpffs ?? 'not mounted'}`,
    `cgroup v2           ${r.cgroup2 ?? 'not mounted'}`,
    `perf_event_paranoid ${r.perfEventParanoid ?? 'unknown'}`,
    '',
    'capabilities:',
    ...r.capabilities.map((c) => `  ${c.present ? 'present' : 'MISSING'}  ${c.name.padEnd(20)}${c.present ? '' : ` blocks ${c.blocks}`}`),
    '',
    'kernel programs:',
    ...Object.entries(r.probes).map(([k, p]) => `  ${p.ok ? 'ok  ' : 'FAIL'}  ${k.padEnd(12)} ${p.detail}`),
    '',
    'features:',
    ...r.features.map((f) => `  ${f.works ? 'works   ' : "WON'T WORK"}  ${f.feature}${f.required ? '' : ' (not asked for)'}\n              ${f.why}`),
    '',
    r.ok ? 'everything the configuration asks for will work' : 'some of what the configuration asks for will NOT work (see above)',
    '',
  ];
  return lines.join('\n');
}
