/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_PROP_H
#define OBI_MAPS_PROP_H
#include "sizing.h"

/* tgid -> how the kernel decides its client requests' trace ids (user space, per traced process) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBI_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct obi_prop_pid);
} prop_pids SEC(".maps");

/* struct sock address -> the trace context of its current exchange and the last option received */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_PROP_SOCKS);
	__type(key, __u64);
	__type(value, struct obi_prop_sock);
} prop_socks SEC(".maps");

/* client connections (their tuple) of traced processes that send no ids (rule OFF, or a thread serving
 * a request whose trace user space decides): the server end on this host leaves its trace to user
 * space too (the join), so that no id it sends on can contradict the span user space exports */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_PROP_SOCKS);
	__type(key, struct obi_conn_tuple);
	__type(value, __u8);
} prop_quiet SEC(".maps");

/* pid_tgid -> the server request the thread serves */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_PROP_THREADS);
	__type(key, __u64);
	__type(value, struct obi_prop_thread);
} prop_threads SEC(".maps");
#endif
