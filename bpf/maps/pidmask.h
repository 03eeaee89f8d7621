/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_PIDMASK_H
#define OBI_MAPS_PIDMASK_H
#include "../abi/events.h"
/*
 * The fast PID filter: one bit per tgid in an ARRAY of u64 words. Array lookups are
 * inlined by the verifier (no hashing), so the tax on every foreign read/write is a
 * load and a bit test. `pids` (hash) stays the list user space reads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* user space sets bits atomically through a mapping */
	__uint(max_entries, OBI_PID_MASK_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} pidmask SEC(".maps");
#endif
