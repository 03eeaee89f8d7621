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

/* the value, struct obi_conn_info, is in abi/events.h: user space sets its `muted` */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_CONNS);
	__type(key, struct obi_conn_key);
	__type(value, struct obi_conn_info);
} conns SEC(".maps");
#endif
