/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_COMMON_PIDFILTER_H
#define OBI_COMMON_PIDFILTER_H
#include "../maps/pids.h"
#include "../maps/pidmask.h"
#include "tunables.h"

/* the first thing every data-path program does: a bit test in an inlined array lookup */
static __always_inline int pid_traced(__u32 tgid)
{
	__u32 word = tgid / OBI_PID_MASK_BITS;
	__u64 *w = bpf_map_lookup_elem(&pidmask, &word);
	return w && (*w & (1ULL << (tgid % OBI_PID_MASK_BITS))) && tgid != self_pid;
}

/* trace tgid (fork of a traced parent); user space does the same on selection */
static __always_inline void pid_trace(__u32 tgid)
{
	struct obi_pid_info info = {};
	__u32 word = tgid / OBI_PID_MASK_BITS;
	__u64 *w = bpf_map_lookup_elem(&pidmask, &word);
	bpf_map_update_elem(&pids, &tgid, &info, BPF_NOEXIST);
	if (w)
		__sync_fetch_and_or(w, 1ULL << (tgid % OBI_PID_MASK_BITS));
}

/* stop tracing tgid (its thread group is dead) */
static __always_inline void pid_untrace(__u32 tgid)
{
	__u32 word = tgid / OBI_PID_MASK_BITS;
	__u64 *w = bpf_map_lookup_elem(&pidmask, &word);
	bpf_map_delete_elem(&pids, &tgid);
	if (w)
		__sync_fetch_and_and(w, ~(1ULL << (tgid % OBI_PID_MASK_BITS)));
}
#endif
