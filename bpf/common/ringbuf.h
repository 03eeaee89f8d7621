/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Submission with batched wake-ups. The default ring-buffer notification wakes
 * the reader once per record from inside the traced syscall (~10 us/request
 * measured here); we submit with BPF_RB_NO_WAKEUP and let user space drain on
 * a timer, forcing a wake-up only when the fill passes `wakeup_bytes`.
 */
#ifndef OBI_COMMON_RINGBUF_H
#define OBI_COMMON_RINGBUF_H
#include "../maps/events.h"
#include "stats.h"
#include "tunables.h"

static __always_inline __u64 rb_flags(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail + size >= wakeup_bytes) {
		stat_inc(OBI_STAT_WAKEUPS);
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* copy `size` bytes from `rec` into the ring; counts the record or the drop */
static __always_inline void rb_emit(void *rec, __u64 size)
{
	if (bpf_ringbuf_output(&events, rec, size, rb_flags(size)) == 0)
		stat_inc(OBI_STAT_EVENTS);
	else
		stat_inc(OBI_STAT_DROPPED);
}
#endif
