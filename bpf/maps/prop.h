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

/* `headers`: client sockets of selected processes (key: struct sock address), made at connect(); the
 * sk_msg program on this map injects headers (probes/inject.h), the no-op sk_skb verdict program on it
 * keeps FIONREAD true (sockhash sockets report 0 otherwise on this kernel) */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, OBI_MAX_PROP_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} prop_sockmap SEC(".maps");

/* sockets a traced process connect()ed (sockops TCP_CONNECT_CB, its context): once established
 * they get the per-segment option callbacks and (`headers`) join prop_sockmap (the only callback
 * where sockops may add a socket) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_PROP_THREADS);
	__type(key, __u64);
	__type(value, __u8);
} prop_want SEC(".maps");

/* [0]: 1 while header injection is allowed (set by user space after the start-up self-test) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} prop_ctl SEC(".maps");

/* per-CPU copy of a request's first bytes, scanned for its head (probes/inject.h) */
#define OBI_INJ_WINDOW 1024
struct obi_inj_scratch {
	__u8 data[2 * OBI_INJ_WINDOW];
	__u8 line[80]; /* the header line being written */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct obi_inj_scratch);
} inj_scratch SEC(".maps");
#endif
