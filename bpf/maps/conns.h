/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_CONNS_H
#define OBI_MAPS_CONNS_H
#include "sizing.h"

/* unix stream sockets (capture_unix): reported only when their first payload starts a FastCGI
 * request (probes/sock_io.h); the others cost one map entry and are never reported */
enum obi_unix_gate {
	OBI_UNIX_NONE = 0,      /* an inet socket */
	OBI_UNIX_UNDECIDED = 1, /* a unix stream socket, no payload yet */
	OBI_UNIX_FASTCGI = 2,   /* its first payload was a FastCGI BEGIN_REQUEST: reported */
};

/* kernel-only value: what we know of one fd of a traced process */
struct obi_conn_info {
	__u64 sock_id; /* 0: the fd is not an inet stream socket (negative cache) */
	struct obi_conn_tuple tuple;
	__u8 role;      /* enum obi_role */
	__u8 tls;       /* a TLS library uprobe owns this socket: its raw (encrypted) bytes are not captured */
	__u8 udp;       /* a UDP socket (capture_udp): each read or write is one datagram */
	__u8 h2;        /* began with the HTTP/2 client preface: the kernel follows its frames (protocols/http2.h) */
	__u8 unix_gate; /* enum obi_unix_gate: a unix stream socket waiting for its first payload */
	__u8 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_CONNS);
	__type(key, struct obi_conn_key);
	__type(value, struct obi_conn_info);
} conns SEC(".maps");
#endif
