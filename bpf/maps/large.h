/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_LARGE_H
#define OBI_MAPS_LARGE_H
#include "sizing.h"

/* HTTP/1 connections whose payloads the larger capture copies (bpf/protocols/http1_large.h) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_LARGE);
	__type(key, struct obi_large_key);
	__type(value, __u8);
} large_conns SEC(".maps");
#endif
