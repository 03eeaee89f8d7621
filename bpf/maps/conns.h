/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_CONNS_H
#define OBI_MAPS_CONNS_H
#include "sizing.h"

/* kernel-only value: what we know of one fd of a traced process */
struct obi_conn_info {
	__u64 sock_id; /* 0: the fd is not an inet stream socket (negative cache) */
	struct obi_conn_tuple tuple;
	__u8 role; /* enum obi_role */
	__u8 tls;  /* a TLS library uprobe owns this socket: its raw (encrypted) bytes are not captured */
	__u8 udp;  /* a UDP socket (capture_udp): each read or write is one datagram */
	__u8 h2;   /* began with the HTTP/2 client preface: the kernel follows its frames (protocols/http2.h) */
	__u8 _pad[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_CONNS);
	__type(key, struct obi_conn_key);
	__type(value, struct obi_conn_info);
} conns SEC(".maps");
#endif
