/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_GO_TLS_H
#define OBI_MAPS_GO_TLS_H
#include "sizing.h"

/* a goroutine of a process: its g pointer (register r14 in Go's register ABI on x86-64) */
struct obi_go_key {
	__u32 pid;
	__u32 _pad;
	__u64 g;
};

/* a crypto/tls.(*Conn).Read in progress, saved at entry for the probes on its RET instructions */
struct obi_go_call {
	__u64 conn; /* *tls.Conn */
	__u64 buf;  /* the byte slice's data pointer */
	__u32 fd;   /* the socket under the connection; ~0: not found */
	__u8 ingress;
	__u8 _pad[3];
};

/* keyed by goroutine, not thread: a goroutine that blocks in Read resumes on another thread;
 * LRU because a call that never returns (a panic, the process killed) must not pin an entry */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_GO_CALLS);
	__type(key, struct obi_go_key);
	__type(value, struct obi_go_call);
} go_tls_calls SEC(".maps");
#endif
