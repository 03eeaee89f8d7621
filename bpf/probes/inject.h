/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Context propagation `headers` (docs/devdocs/propagation.md): an sk_msg program on `prop_sockmap`
 * (client sockets of selected processes) inserts `traceparent: 00-<trace>-<span>-01` after the
 * request line of an outgoing HTTP/1 request, with the ids the kernel decided for it at its first
 * write (probes/propagation.h), unless the request carries one. write() still returns the
 * application's byte count; only the wire carries the 70 bytes more.
 *
 * The pitfalls measured on this kernel (docs/devdocs/propagation.md), and what is done about each:
 * - the insert splits the head in three scatterlist parts, and a client without TCP_NODELAY then
 *   waits for the delayed ACK (~40 ms): the head is pulled back into one part after the push;
 * - a write after a response is not always a request start (the body of an `Expect: 100-continue`
 *   upload): a request's body end is kept as a TCP sequence (Content-Length), and a write before it
 *   is not injected; injection happens only at the first write after a response (`inj`, set by
 *   prop_egress), so chunked data or a pipelined second request is never touched;
 * - FIONREAD is 0 on every sockhash socket: the no-op sk_skb verdict program below fixes it;
 * - a blocking recv() after a send that waited for buffer space returns EAGAIN (a wake-up of the
 *   socket's wait queue by the freed space is taken for data): a socket whose queued bytes reach
 *   half its send buffer is taken out of the sockhash at its next segment (sockops), before its
 *   send returns, and goes on with the TCP option only.
 * The start-up self-test (src/pipeline/propagation-selftest.ts) checks all of it on loopback.
 * HTTP/2 and gRPC requests get a header field in their HEADERS frames (inject_h2.h).
 */
#ifndef OBI_PROBES_INJECT_H
#define OBI_PROBES_INJECT_H
#include "../common/ringbuf.h"
#include "../common/stats.h"
#include "../common/tunables.h"
#include "../maps/prop.h"

#define OBI_TP_HDR_LEN 70 /* "traceparent: 00-" 32 "-" 16 "-01\r\n" */

/* enum obi_prop_ctl bits user space set */
static __always_inline __u32 prop_ctl_bits(void)
{
	__u32 zero = 0;
	__u32 *v = bpf_map_lookup_elem(&prop_ctl, &zero);
	return v ? *v : 0;
}

static __always_inline int inj_allowed(void)
{
	return prop_hdr && (prop_ctl_bits() & OBI_CTL_INJECT);
}

/* the TCP option is on: `tcp`, or `headers` fell back to it */
static __always_inline int opt_on(void)
{
	return prop_opt && (prop_ctl_bits() & OBI_CTL_OPTION);
}

struct inj_scan {
	struct obi_inj_scratch *s;
	__u32 len;      /* bytes copied */
	__u32 pos;      /* where the search for the next '\n' goes on */
	__u32 line_end; /* offset past the request line's '\n' */
	__u32 head_end; /* offset past the empty line that ends the head, 0: not within the window */
	__u32 clen;     /* Content-Length */
	__u8 present;   /* a traceparent field is in the head */
	__u8 chunked;   /* a Transfer-Encoding field: the body end is not known */
	__u8 has_clen;
	__u8 bad; /* a malformed Content-Length */
};

static __always_inline int inj_lower(__u8 c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* the field name `name` (lower case, with its colon, n bytes) at s->data[p..], any case */
static __always_inline int inj_is(struct obi_inj_scratch *s, __u32 p, const char *name, int n)
{
#pragma clang loop unroll(full)
	for (int k = 0; k < 18; k++) {
		if (k >= n)
			break;
		if (inj_lower(s->data[(p + k) & (2 * OBI_INJ_WINDOW - 1)]) != (__u8)name[k])
			return 0;
	}
	return 1;
}

/* the header line that starts at `p`: traceparent, content-length, transfer-encoding */
static __always_inline void inj_line(struct inj_scan *c, __u32 p)
{
	struct obi_inj_scratch *s = c->s;
	p &= OBI_INJ_WINDOW - 1;
	__u8 first = inj_lower(s->data[p]);
	if (first == 't') {
		if (p + 12 <= c->len && inj_is(s, p, "traceparent:", 12))
			c->present = 1;
		else if (p + 18 <= c->len && inj_is(s, p, "transfer-encoding:", 18))
			c->chunked = 1;
		return;
	}
	if (first != 'c' || p + 17 > c->len || !inj_is(s, p, "content-length:", 15))
		return;
	__u32 q = p + 15;
	if (s->data[q & (2 * OBI_INJ_WINDOW - 1)] == ' ')
		q++;
	__u64 v = 0;
	int k = 0;
#pragma clang loop unroll(full)
	for (int d = 0; d < 10; d++) {
		if (q + d >= c->len)
			break;
		__u8 ch = s->data[(q + d) & (2 * OBI_INJ_WINDOW - 1)];
		if (ch < '0' || ch > '9')
			break;
		v = v * 10 + (ch - '0');
		k++;
	}
	__u8 after = q + k < c->len ? s->data[(q + k) & (2 * OBI_INJ_WINDOW - 1)] : 0;
	if (k == 0 || (after != '\r' && after != ' ') || v > 0x7fffffff || c->has_clen)
		c->bad = 1; /* malformed, or two of them */
	c->clen = v;
	c->has_clen = 1;
}

/* one step: 8 bytes without a '\n', else one byte; a '\n' looks at the line after it */
static long inj_step(__u32 w, struct inj_scan *c)
{
	struct obi_inj_scratch *s = c->s;
	__u32 i = c->pos;
	if (!s || i >= c->len || i >= OBI_INJ_WINDOW)
		return 1;
	__u32 j = i & (OBI_INJ_WINDOW - 1);
	__u64 v;
	__builtin_memcpy(&v, &s->data[j], 8);
	__u64 x = v ^ 0x0a0a0a0a0a0a0a0aULL;
	if (((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL) == 0) {
		c->pos = i + 8;
		return 0;
	}
	c->pos = i + 1;
	if (s->data[j] != '\n')
		return 0;
	__u32 p = i + 1; /* the next line's start */
	if (p + 2 > c->len)
		return 1;
	if (!c->line_end) {
		c->line_end = p;
		return 0;
	}
	if (s->data[p & (OBI_INJ_WINDOW - 1)] == '\r' && s->data[(p + 1) & (2 * OBI_INJ_WINDOW - 1)] == '\n') {
		c->head_end = p + 2;
		return 1;
	}
	inj_line(c, p);
	return 0;
}

/* the request line (s->data[0..end)): "METHOD SP target SP HTTP/1.x CRLF", not CONNECT */
static __always_inline int inj_request_line(struct obi_inj_scratch *s, __u32 end)
{
	if (end < 16 || end > OBI_INJ_WINDOW)
		return 0;
	int sp = 0;
#pragma clang loop unroll(full)
	for (int k = 0; k < 8; k++) {
		__u8 ch = s->data[k];
		if (sp)
			continue;
		if (ch == ' ' && k >= 3) {
			sp = k;
			continue;
		}
		if (ch < 'A' || ch > 'Z')
			return 0;
	}
	if (!sp)
		return 0;
	if (sp == 7 && s->data[0] == 'C' && s->data[1] == 'O' && s->data[2] == 'N')
		return 0;                            /* CONNECT: a tunnel follows, not this request's answer */
	__u32 e = (end - 11) & (OBI_INJ_WINDOW - 1); /* " HTTP/1.1\r\n" */
	const char ver[] = " HTTP/1.";
#pragma clang loop unroll(full)
	for (int k = 0; k < 8; k++)
		if (s->data[e + k] != (__u8)ver[k])
			return 0;
	return s->data[e + 8] >= '0' && s->data[e + 8] <= '9' && s->data[e + 9] == '\r' && s->data[e + 10] == '\n';
}

static __always_inline void inj_hex(__u8 *dst, const __u8 *src, int n)
{
	const char digits[] = "0123456789abcdef";
#pragma clang loop unroll(full)
	for (int k = 0; k < 16; k++) {
		if (k >= n)
			break;
		dst[2 * k] = digits[src[k] >> 4];
		dst[2 * k + 1] = digits[src[k] & 15];
	}
}

#include "inject_h2.h"

/* the request start of a socket whose ids were decided (ps->inj): insert the header or count why not;
 * 2 when it is an HTTP/2 connection preface (its frames are followed from there) */
static __always_inline int inj_request(struct sk_msg_md *msg, struct obi_prop_sock *ps, __u32 seq)
{
	__u32 zero = 0;
	struct obi_inj_scratch *s = bpf_map_lookup_elem(&inj_scratch, &zero);
	if (!s)
		return 0;
	if (ps->body_open && (__s32)(seq - ps->body_end) < 0) {
		stat_inc(OBI_STAT_HDR_BOUNDARY); /* the rest of the last request's body */
		return 0;
	}
	ps->body_open = 0;
	__u32 size = msg->size;
	__u32 n = size < OBI_INJ_WINDOW ? size : OBI_INJ_WINDOW;
	if (n < 16) {
		stat_inc(OBI_STAT_HDR_OTHER);
		return 0;
	}
	if (bpf_msg_pull_data(msg, 0, n, 0))
		return 0;
	void *data = (void *)(long)msg->data;
	void *end = (void *)(long)msg->data_end;
	if (data + 2 > end)
		return 0;
	__u8 b0 = *(__u8 *)data;
	if ((b0 >= 0x14 && b0 <= 0x17) && *(__u8 *)(data + 1) == 3) {
		stat_inc(OBI_STAT_HDR_TLS);
		return 0;
	}
	n &= 2 * OBI_INJ_WINDOW - 1;
	if (bpf_probe_read_kernel(s->data, n, data))
		return 0;
	if (n >= OBI_H2_PREFACE && inj_is_preface(s)) {
		ps->h2w = 1;
		ps->h2_left = OBI_H2_PREFACE;
		return 2;
	}
	struct inj_scan c = { .s = s, .len = n };
	bpf_loop(n, inj_step, &c, 0);
	if (!inj_request_line(s, c.line_end) || !c.head_end || c.bad) {
		stat_inc(OBI_STAT_HDR_OTHER);
		return 0;
	}
	if (c.present) {
		stat_inc(OBI_STAT_HDR_PRESENT);
		return 0;
	}
	/* the line: "traceparent: 00-<trace>-<span>-01\r\n" */
	__builtin_memcpy(s->line, "traceparent: 00-", 16);
	inj_hex(s->line + 16, ps->trace_id, 16);
	s->line[48] = '-';
	inj_hex(s->line + 49, ps->span_id, 8);
	__builtin_memcpy(s->line + 65, "-01\r\n", 5);
	__u32 at = c.line_end & (OBI_INJ_WINDOW - 1);
	__u32 head = c.head_end & (OBI_INJ_WINDOW - 1);
	if (bpf_msg_push_data(msg, at, OBI_TP_HDR_LEN, 0))
		return 0;
	/* the head back in one piece (else three segments, and Nagle waits for an ACK) */
	if (bpf_msg_pull_data(msg, 0, head + OBI_TP_HDR_LEN, 0)) {
		bpf_msg_pop_data(msg, at, OBI_TP_HDR_LEN, 0);
		return 0;
	}
	data = (void *)(long)msg->data;
	end = (void *)(long)msg->data_end;
	__u8 *dst = data + at;
	if ((void *)(dst + OBI_TP_HDR_LEN) > end) {
		bpf_msg_pop_data(msg, at, OBI_TP_HDR_LEN, 0);
		return 0;
	}
	__builtin_memcpy(dst, s->line, OBI_TP_HDR_LEN);
	stat_inc(OBI_STAT_HDR_INJECTED);
	if (c.has_clen && !c.chunked) {
		ps->body_end = seq + head + OBI_TP_HDR_LEN + c.clen;
		ps->body_open = 1;
	}
	return 1;
}

SEC("sk_msg")
int obi_sk_msg(struct sk_msg_md *msg)
{
	if (!prop_hdr)
		return SK_PASS;
	struct bpf_sock *sk = msg->sk;
	if (!sk)
		return SK_PASS;
	__u64 key = (__u64)sk;
	struct obi_prop_sock *ps = bpf_map_lookup_elem(&prop_socks, &key);
	if (!ps)
		return SK_PASS;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return SK_PASS;
	__u32 queued = tp->inet_conn.icsk_inet.sk.sk_wmem_queued;
	__u32 sndbuf = tp->inet_conn.icsk_inet.sk.sk_sndbuf;
	if (queued * 2 >= sndbuf)
		ps->evict = 1; /* this send can wait for buffer space: out at the next segment (sockops) */
	if (ps->h2w) {
		if (inj_allowed())
			inj_h2_walk(msg, ps, key);
		return SK_PASS;
	}
	if (!ps->inj)
		return SK_PASS;
	ps->inj = 0;
	if (!inj_allowed())
		return SK_PASS;
	if (inj_request(msg, ps, tp->write_seq) == 2)
		inj_h2_walk(msg, ps, key);
	return SK_PASS;
}

/* the no-op verdict that keeps FIONREAD right on sockhash sockets (received data passes as it is) */
SEC("sk_skb")
int obi_sk_skb(struct __sk_buff *skb)
{
	return SK_PASS;
}
#endif
