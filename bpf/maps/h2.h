/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_H2_H
#define OBI_MAPS_H2_H
#include "sizing.h"

/* one direction of one HTTP/2 connection of one process: the socket (sock_id) or TLS session (SSL*) */
struct obi_h2_key {
	__u64 id;
	__u32 pid;
	__u8 dir; /* enum obi_direction */
	__u8 _pad[3];
};

/* where the next frame header is, relative to the start of the next payload of this direction */
struct obi_h2_state {
	__u32 skip;   /* bytes of the current frame still to come */
	__u8 hdr_len; /* bytes of a frame header cut by the end of the last payload (then skip = 0) */
	__u8 hdr[9];
	__u8 _pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_H2);
	__type(key, struct obi_h2_key);
	__type(value, struct obi_h2_state);
} h2_conns SEC(".maps");

/* the walk of one payload: per CPU, not on the stack, so that the verifier sees unknown scalars
 * at each bpf_loop iteration and its states converge */
struct obi_h2_iovs {
	/* the payload: one buffer (iovp 0: base0/len0) or an iovec array of cnt entries in user memory */
	__u64 iovp;
	__u64 base0;
	__u64 len0;
	__u32 cnt;
	/* cursor: the run holding the last offset read (runs are visited in increasing offset) */
	__u32 cur_i;
	__u64 cur_start;
	__u64 cur_base;
	__u64 cur_len;
	__u8 cur_valid;
	__u8 io_to_hdr;
	__u8 w_hdr_len; /* out: bytes of a header cut by the payload end */
	__u8 w_stop;    /* 1: walked to the end; 2: lost (stop following) */
	__u8 _pad[4];
	__u8 hdr[32];   /* a frame header being read */
	__u64 w_off;    /* next frame header, from the payload start */
	__u32 w_ret;    /* payload length */
	__u32 w_pstart; /* current piece: start, and bytes captured from there */
	__u32 w_pcap;
	__u32 w_skip; /* out: bytes of the last frame past the payload */
	__u64 io_off; /* transfer: payload offset, bytes wanted and done, destination */
	__u32 io_n;
	__u32 io_got;
	__u32 io_dst;
	__u8 _pad2[4];
	/* the larger HTTP capture (protocols/http1_large.h): bytes to copy, bytes copied past the prefix */
	__u32 l_limit;
	__u32 l_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct obi_h2_iovs);
} h2_iovs SEC(".maps");
#endif
