/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_COMMON_PIDFILTER_H
#define OBI_COMMON_PIDFILTER_H
#include "../maps/pids.h"
#include "tunables.h"
/* the first thing every data-path program does: one hash lookup, ~100 ns for foreign processes */
static __always_inline int pid_traced(__u32 tgid)
{
	return tgid != self_pid && bpf_map_lookup_elem(&pids, &tgid) != 0;
}
#endif
