/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exec admission: a process whose new executable may be selected by an exe_path or languages
 * selector is put into the PID filter in the sched_process_exec tracepoint itself, before it
 * returns to user space, so its first syscalls are captured without waiting for the agent.
 * The test is on the base name of the mapped executable (mm->exe_file, the file /proc/PID/exe
 * names: the interpreter of a #! script, the target of a symlink), against the facts user space
 * derived from the selectors: exact names (globs ending in a literal file name such as
 * `/usr/bin/curl` or `/usr/bin/{curl,wget}`; `node` for nodejs), prefixes (`python` for the
 * python language; `python3` for a glob whose last path segment is `python3*`) and suffixes
 * (`server` for a last segment `*server`). The facts are a superset of what the selectors
 * select (src/discovery/exec-admission.ts says where not); user space confirms each admission
 * with the full selector (glob, excludes, system paths) and revokes the ones it does not select.
 * Cost: one hash lookup per exec, plus one per registered prefix or suffix length; nothing on the
 * data path.
 */
#ifndef OBI_COMMON_EXEC_ADMIT_H
#define OBI_COMMON_EXEC_ADMIT_H
#include "../maps/exec_rules.h"
#include "tunables.h"

static __always_inline int exec_admitted(struct task_struct *task)
{
	struct obi_exec_rule_key key = {};
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (!exe)
		return 0;
	const unsigned char *name = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
	long n = bpf_probe_read_kernel_str(key.name, sizeof(key.name), name);
	if (n <= 1)
		return 0;
	if (bpf_map_lookup_elem(&exec_rules, &key))
		return 1;
	__u32 lens = exec_prefix_lens;
	if (lens) {
		/* shorten the name from the end: after step `len`, key.name holds its first len bytes */
#pragma unroll
		for (int len = OBI_EXEC_NAME_LEN - 1; len >= 1; len--) {
			key.name[len] = 0;
			if (!(lens & (1U << len)) || len > n - 1)
				continue;
			key.prefix_len = len;
			if (bpf_map_lookup_elem(&exec_rules, &key))
				return 1;
		}
	}
	lens = exec_suffix_lens;
	if (!lens)
		return 0;
	/* the last len bytes of the name (a name longer than the buffer has no suffix rules: user
	 * space confirms it after exec, as before) */
	if (n > OBI_EXEC_NAME_LEN - 1)
		return 0;
#pragma unroll
	for (int len = 1; len < OBI_EXEC_NAME_LEN; len++) {
		if (!(lens & (1U << len)) || len > n - 1)
			continue;
		__builtin_memset(key.name, 0, sizeof(key.name));
		if (bpf_probe_read_kernel(key.name, len, name + (n - 1 - len)))
			return 0;
		key.prefix_len = len | OBI_EXEC_SUFFIX;
		if (bpf_map_lookup_elem(&exec_rules, &key))
			return 1;
	}
	return 0;
}
#endif
