/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_EVENTS_H
#define OBI_MAPS_EVENTS_H
#include "sizing.h"
/* every record to user space; drained on a timer, woken only past a watermark */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OBI_RINGBUF_DEFAULT);
} events SEC(".maps");
#endif
