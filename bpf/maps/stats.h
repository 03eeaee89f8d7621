/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_STATS_H
#define OBI_MAPS_STATS_H
/* kernel-side counters (enum obi_stat), per CPU so increments need no atomics */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OBI_STAT__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");
#endif
