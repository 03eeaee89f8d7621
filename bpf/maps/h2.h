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

/* streams of one direction whose body the HTTP/2 body capture follows (h2_body_bytes) */
#define OBI_H2_BODY_SLOTS 4

/* where the next frame header is, relative to the start of the next payload of this direction */
struct obi_h2_state {
	__u32 skip;   /* bytes of the current frame still to come */
	__u8 hdr_len; /* bytes of a frame header cut by the end of the last payload (then skip = 0) */
	__u8 hdr[9];
	__u8 _pad[2];
	/* body capture (h2_body_bytes): bytes of the current DATA frame still to copy at the start of
	 * the next payload, and per stream (id, body bytes copied so far); id 0 = free slot */
	__u32 b_left;
	__u32 b_sid[OBI_H2_BODY_SLOTS];
	__u32 b_done[OBI_H2_BODY_SLOTS];
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
	/* HTTP/2 body capture (protocols/http2.h): body bytes wanted up to this payload offset, the
	 * stream slots of the direction being walked (copied from and back to its obi_h2_state) */
	__u64 b_end;
	__u32 b_sid[OBI_H2_BODY_SLOTS];
	__u32 b_done[OBI_H2_BODY_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct obi_h2_iovs);
} h2_iovs SEC(".maps");
#endif
