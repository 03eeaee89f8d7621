/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The larger HTTP capture (`ebpf.buffer_sizes.http`, opt-in; docs/devdocs/kernel.md). A payload
 * record carries a prefix of `capture_size` bytes; extractors that read bodies (GenAI: token usage
 * sits at the end of a response) need more. On an HTTP/1 connection (a socket or a TLS session
 * whose payload once began with a request line: marked here, in `large_conns`, so the first
 * exchange is covered too) a syscall's payload is copied up to `large_http` bytes, as consecutive
 * records of at most OBI_MAX_CAPTURE bytes each: pieces, as the HTTP/2 walk makes them, so user
 * space sees ordinary consecutive segments; the last piece carries the uncopied rest as a gap.
 * Connections followed as HTTP/2, UDP and other protocols never reach this. Counted in `stats`
 * (records, bytes past the prefix, drops).
 */
#ifndef OBI_PROTOCOLS_HTTP1_LARGE_H
#define OBI_PROTOCOLS_HTTP1_LARGE_H
#include "http2.h"
#include "../maps/large.h"

/* does the captured payload begin with an HTTP/1 request line's method? */
static __always_inline int http1_request_start(struct obi_scratch *s, __u32 got)
{
	if (got < 8)
		return 0;
	__u32 w = (__u32)s->data[0] | ((__u32)s->data[1] << 8) | ((__u32)s->data[2] << 16) | ((__u32)s->data[3] << 24);
	/* little-endian words of "GET ", "PUT ", "POST", "HEAD", "PATC", "DELE", "OPTI" */
	if (w == 0x20544547 || w == 0x20545550)
		return 1;
	if (w == 0x54534f50 || w == 0x44414548)
		return s->data[4] == ' ';
	if (w == 0x43544150)
		return s->data[4] == 'H' && s->data[5] == ' ';
	if (w == 0x454c4544)
		return s->data[4] == 'T' && s->data[5] == 'E' && s->data[6] == ' ';
	if (w == 0x4954504f)
		return s->data[4] == 'O' && s->data[5] == 'N' && s->data[6] == 'S' && s->data[7] == ' ';
	return 0;
}

/* one piece: copy up to OBI_MAX_CAPTURE bytes at v->w_off and submit them */
static long large_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	if (!s || !v)
		return 1;
	__u32 off = v->w_off;
	__u32 limit = v->l_limit;
	if (off >= limit || limit > OBI_LARGE_MAX)
		return 1;
	__u32 n = limit - off < OBI_MAX_CAPTURE ? limit - off : OBI_MAX_CAPTURE;
	__u32 c = h2_io(v, 0, off, n, 0);
	__u8 last = off + n >= limit || c != n;
	c &= 2 * OBI_MAX_CAPTURE - 1;
	s->ev.len = last ? v->w_ret - off : n;
	s->ev.captured = c;
	if (bpf_ringbuf_output(&events, s, sizeof(s->ev) + c, rb_flags(sizeof(s->ev) + c)) == 0) {
		stat_inc(OBI_STAT_EVENTS);
		stat_inc(OBI_STAT_LARGE_RECORDS);
		v->l_bytes += c;
	} else {
		stat_inc(OBI_STAT_DROPPED);
		stat_inc(OBI_STAT_LARGE_DROPPED);
	}
	v->w_off = off + n;
	return last;
}

/*
 * Called by h2_submit for every payload not followed as HTTP/2 when `large_http` is set; the
 * scratch record holds the payload's `got`-byte prefix of `ret` bytes. Returns 1 when it
 * submitted the payload as pieces, 0 when the caller submits the one record (not an HTTP/1
 * connection, or the payload fits the prefix). A global function: verified once (see
 * h2_walk_payload); five scalar arguments at most, hence the packing.
 */
__attribute__((noinline)) int large_capture(__u64 id, __u64 ptr, __u64 ret_got, __u64 pid_count, __u32 kind_tls)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	if (!s || !v)
		return 0;
	__u32 ret = ret_got >> 32, got = (__u32)ret_got;
	struct obi_large_key k = { .id = id, .pid = pid_count >> 32, .tls = (kind_tls >> 8) & 1 };
	if (!bpf_map_lookup_elem(&large_conns, &k)) {
		if (!http1_request_start(s, got))
			return 0;
		__u8 one = 1;
		bpf_map_update_elem(&large_conns, &k, &one, BPF_ANY);
	}
	__u32 limit = ret < large_http ? ret : large_http;
	if (limit > OBI_LARGE_MAX)
		limit = OBI_LARGE_MAX;
	if (limit <= got)
		return 0;
	if (h2_runs(v, kind_tls & 0xff, ptr, (__u32)pid_count, ret) != 0)
		return 0;
	v->w_off = 0;
	v->w_ret = ret;
	v->l_limit = limit;
	v->l_bytes = 0;
	bpf_loop(OBI_LARGE_MAX_CHUNKS, large_step, 0, 0);
	if (v->l_bytes > got)
		stat_add(OBI_STAT_LARGE_BYTES, v->l_bytes - got);
	return 1;
}

/* the connection is over: forget its mark (a socket at close, a TLS session at release) */
static __always_inline void large_forget(__u64 id, __u32 tgid, __u8 tls)
{
	if (!large_http)
		return;
	struct obi_large_key k = { .id = id, .pid = tgid, .tls = tls };
	bpf_map_delete_elem(&large_conns, &k);
}
#endif
