/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_PIDS_H
#define OBI_MAPS_PIDS_H
#include "sizing.h"
/* the in-kernel PID filter: tgid -> info. Written by user space (selection) and by the fork hook (children). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBI_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct obi_pid_info);
} pids SEC(".maps");
#endif
