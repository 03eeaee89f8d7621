/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_SIGPROBE_H
#define OBI_MAPS_SIGPROBE_H
#include "sizing.h"
#include "../abi/events.h"
/* tgid -> its SIGUSR1 disposition, filled by probes/sigprobe.h on request of user space */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBI_MAX_SIGPROBES);
	__type(key, __u32);
	__type(value, struct obi_sig_probe);
} sigprobe SEC(".maps");
#endif
