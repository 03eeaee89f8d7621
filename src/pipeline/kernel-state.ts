/**
 * Per-process kernel state that user space clears itself. The kernel purges a process's
 * entries when a traced process exits (bpf/probes/proc.h); a process that stops being traced
 * before it exits (an exec admission user space revoked, a process no longer selected) has its
 * entries removed here, so the maps return to their baseline under churn.
 */
import { OBI_EXEC_NAME_LEN, OBI_EXEC_RULE_KEY_SIZE, OBI_EXEC_SUFFIX, ObiConnKeyOffsets, ObiExecRuleKeyOffsets } from '../abi/events.ts';
import type { Selector } from '../common/selector.ts';
import { planExecAdmission, type ExecFact } from '../discovery/exec-admission.ts';
import { BPF_ANY, uprobeMultiSupported, type BpfObject } from '../native/binding.ts';
import type { Logger } from './log.ts';

/**
 * The per-process maps and where their keys hold the process id: `conns` (struct obi_conn_key),
 * `ssl_fds` (struct obi_ssl_key, bpf/maps/ssl_fds.h: pid first) and `h2_conns` (struct
 * obi_h2_key, bpf/maps/h2.h: pid after the 8-byte id) and `prop_pids` (the propagation rule,
 * keyed by pid). The kernel purges the same at exit (bpf/probes/proc.h).
 */
export const PER_PROCESS_MAPS: readonly { readonly map: string; readonly pidOffset: number }[] = [
  { map: 'conns', pidOffset: ObiConnKeyOffsets.pid },
  { map: 'ssl_fds', pidOffset: 0 },
  { map: 'h2_conns', pidOffset: 8 },
  { map: 'prop_pids', pidOffset: 0 },
];

/** Deletes the entries of `pid` in the per-process maps; returns how many. */
export function purgeKernelState(bpf: Pick<BpfObject, 'mapKeys' | 'mapDelete'>, pid: number): number {
  let n = 0;
  for (const { map, pidOffset } of PER_PROCESS_MAPS) {
    for (const key of bpf.mapKeys(map)) {
      if (key.readUInt32LE(pidOffset) === pid && bpf.mapDelete(map, key)) n++;
    }
  }
  return n;
}

/** the `exec_rules` key of an exec admission fact (struct obi_exec_rule_key) */
export function execRuleKey(f: ExecFact): Buffer {
  const key = Buffer.alloc(OBI_EXEC_RULE_KEY_SIZE);
  key.writeUInt32LE(f.suffix ? f.bytes.length | OBI_EXEC_SUFFIX : f.prefix ? f.bytes.length : 0, ObiExecRuleKeyOffsets.prefixLen);
  f.bytes.copy(key, ObiExecRuleKeyOffsets.name);
  return key;
}

/**
 * Exec admission (discovery/exec-admission.ts, bpf/common/exec_admit.h) for these selectors:
 * `beforeLoad` sets the load-time tunable (and loads the TLS uprobes for uprobe_multi links, which
 * need no CAP_SYS_ADMIN), `install` writes the facts into `exec_rules` after load.
 */
export function prepareExecAdmission(selectors: readonly Selector[], log: Logger): { beforeLoad: (b: BpfObject) => void; install: (b: BpfObject) => void } {
  const plan = planExecAdmission(selectors, OBI_EXEC_NAME_LEN);
  return {
    beforeLoad: (b) => {
      b.setGlobal('exec_prefix_lens', plan.prefixLengths);
      b.setGlobal('exec_suffix_lens', plan.suffixLengths);
      if (uprobeMultiSupported()) b.useUprobeMulti();
    },
    install: (b) => {
      const value = Buffer.alloc(4);
      for (const f of plan.facts) {
        value.writeUInt32LE(f.selector);
        b.mapUpdate('exec_rules', execRuleKey(f), value, BPF_ANY);
      }
      for (const s of plan.unsupported) log.info('selector admitted from user space after exec (its first request may be missed)', { exe_path: s.exePath, languages: s.languages });
    },
  };
}
