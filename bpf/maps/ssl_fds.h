/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_SSL_FDS_H
#define OBI_MAPS_SSL_FDS_H
#include "sizing.h"

/* a TLS session of a process (sessions are heap addresses: forked workers share them, so the pid is part of the key) */
struct obi_ssl_key {
	__u32 pid;
	__u32 _pad;
	__u64 ssl;
};

/* (process, session) -> the fd of its socket, learned from the socket I/O the session does (see common/ssl.h) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_SSL);
	__type(key, struct obi_ssl_key);
	__type(value, __u32);
} ssl_fds SEC(".maps");
#endif
