/* Over 400 lines: one propagation path (request ids decided in the kernel for both roles, the sockops option written and parsed) whose parts share per-socket state. */
/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Context propagation `tcp` (docs/devdocs/propagation.md): the kernel decides the ids of each
 * exchange of a traced process's sockets at its start, carries them on the data records, and a
 * cgroup sockops program writes the client's ids into a TCP option (kind 25: 16-byte trace id,
 * 8-byte span id) on its segments and reads the option on the receiving end.
 *
 * - client request: ids decided at sys_enter of its first write (before any byte leaves), the
 *   trace id inherited from the server request the thread serves (prop_pids mode THREAD/EVENT);
 * - server request: ids decided at sys_exit of its first read (the segment, and its option, has
 *   arrived), the trace id and parent from the last option received on the socket when one came
 *   since the previous request.
 * No user memory is written: the application's bytes are never touched.
 */
#ifndef OBI_PROBES_PROPAGATION_H
#define OBI_PROBES_PROPAGATION_H
#include "../common/pidfilter.h"
#include "../common/stats.h"
#include "../common/tunables.h"
#include "../maps/conns.h"
#include "../maps/prop.h"
#include "../maps/scratch.h"

static __always_inline void prop_rand(__u8 *dst, int words)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < words; i++) {
		__u32 r = bpf_get_prandom_u32();
		__builtin_memcpy(dst + 4 * i, &r, 4);
	}
}

/* the socket's state, created on first sight */
static __always_inline struct obi_prop_sock *prop_sock(__u64 sock_id)
{
	struct obi_prop_sock *ps = bpf_map_lookup_elem(&prop_socks, &sock_id);
	if (ps)
		return ps;
	struct obi_prop_sock fresh = {};
	fresh.last_dir = 0xff;
	bpf_map_update_elem(&prop_socks, &sock_id, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&prop_socks, &sock_id);
}

static __always_inline __u32 prop_mode(__u32 tgid)
{
	struct obi_prop_pid *pp = bpf_map_lookup_elem(&prop_pids, &tgid);
	return pp ? pp->mode : OBI_PROP_OFF;
}

/*
 * A thread's entry in prop_threads is written in place once it exists, and cleared (all zero:
 * nothing open) rather than deleted when its request is answered: an update and a delete of the
 * LRU hash per request were ~0.3 us of a request read's sys_exit in nginx. The entry goes when
 * the thread exits (probes/proc.h).
 */
static __always_inline void prop_thread_set(__u64 id, struct obi_prop_thread *th, struct obi_prop_thread *t)
{
	if (th)
		*th = *t;
	else
		bpf_map_update_elem(&prop_threads, &id, t, BPF_ANY);
}

/* a server request starts on the thread (its first read returned) */
static __always_inline void prop_thread_start(__u64 id, __u64 sock_id, struct obi_prop_sock *ps, __u32 mode)
{
	struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &id);
	if (th && mode == OBI_PROP_THREAD && th->open > 0 && th->sock_id != sock_id) {
		th->open += 1; /* a second request open on the thread: no inheritance until it is idle */
		th->overlap = 1;
		return;
	}
	struct obi_prop_thread t = {};
	__builtin_memcpy(t.trace_id, ps->trace_id, 16);
	__builtin_memcpy(t.span_id, ps->span_id, 8);
	t.sock_id = sock_id;
	t.open = 1;
	prop_thread_set(id, th, &t);
}

/* a server response starts on the thread: the request it answers is done */
static __always_inline void prop_thread_end(__u64 id, __u64 sock_id, __u32 mode)
{
	struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &id);
	if (!th)
		return;
	if (mode == OBI_PROP_EVENT) {
		if (th->sock_id ==
		    sock_id) /* the request read last is answered; another one's answer changes nothing */
			__builtin_memset(th, 0, sizeof(*th));
		return;
	}
	if (th->open > 1) {
		th->open -= 1;
		return;
	}
	__builtin_memset(th, 0, sizeof(*th));
}

/* idle mode: the thread serves a request (its client requests then go without ids: the parent is
 * user space's to find) */
static __always_inline int prop_busy(__u64 id)
{
	struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &id);
	return th && th->open > 0;
}

static __always_inline void prop_quiet_mark(struct obi_conn_info *ci)
{
	__u8 one = 1;
	bpf_map_update_elem(&prop_quiet, &ci->tuple, &one, BPF_ANY);
}

/* a server request whose trace user space decides: no ids on its records, and its thread's client
 * requests go without ids until it is answered */
static __always_inline void prop_nowire(__u64 id, __u64 sock_id)
{
	struct obi_prop_thread t = {};
	t.sock_id = sock_id;
	t.open = 1;
	t.nowire = 1;
	prop_thread_set(id, bpf_map_lookup_elem(&prop_threads, &id), &t);
}

/* is the client end of this server connection a quiet client on this host (prop_quiet)? */
static __always_inline int prop_quiet_peer(struct obi_conn_info *ci)
{
	struct obi_conn_tuple k = {};
	__builtin_memcpy(k.local_addr, ci->tuple.remote_addr, 16);
	__builtin_memcpy(k.remote_addr, ci->tuple.local_addr, 16);
	k.local_port = ci->tuple.remote_port;
	k.remote_port = ci->tuple.local_port;
	k.family = ci->tuple.family;
	return bpf_map_lookup_elem(&prop_quiet, &k) != 0;
}

/* the first captured bytes are a FastCGI record header (version 1, a record type): user space
 * decides where a FastCGI request starts (PHP-FPM reads the previous request's empty STDIN first) */
static __always_inline int prop_fastcgi(__u32 got)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	return s && got >= 8 && s->data[0] == 1 && s->data[1] >= 1 && s->data[1] <= 11;
}

/* the first captured bytes are the HTTP/2 client connection preface ("PRI * HTTP/2.0") */
static __always_inline int prop_h2_preface(__u32 got)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	return s && got >= 4 && s->data[0] == 'P' && s->data[1] == 'R' && s->data[2] == 'I' && s->data[3] == ' ';
}

/*
 * The ids of a client request of thread `id` (enum obi_prop_mode `mode`) into trace/span/parent:
 * the server request the thread serves, else a fresh trace. `bound`: event mode's connect() bound
 * trace/parent already. Returns its ctx_flags, 0 when the thread serves a request whose trace
 * user space decides (no ids: FastCGI, a quiet local client, HTTP/2).
 */
static __always_inline __u8 prop_decide(__u64 id, __u32 mode, __u8 bound, __u8 *trace, __u8 *span, __u8 *parent)
{
	__u8 flags = OBI_CTX_SET;
	struct obi_prop_thread *th = 0;
	if (mode == OBI_PROP_THREAD || mode == OBI_PROP_EVENT)
		th = bpf_map_lookup_elem(&prop_threads, &id);
	if (th && th->nowire)
		return 0;
	if (bound) {
		/* event mode: the connect() right after the downstream read bound this first request */
		flags |= OBI_CTX_INHERITED;
	} else if (th && th->open == 1 && !th->overlap && !(mode == OBI_PROP_EVENT && th->other_io)) {
		__builtin_memcpy(trace, th->trace_id, 16);
		__builtin_memcpy(parent, th->span_id, 8);
		flags |= OBI_CTX_INHERITED;
		if (mode == OBI_PROP_EVENT)
			th->other_io = 1; /* taken: the next upstream request of the thread is not its child */
	} else {
		prop_rand(trace, 4);
		__builtin_memset(parent, 0, 8);
	}
	prop_rand(span, 2);
	return flags;
}

/* sys_enter of a write on a traced socket: a client request's first write decides its ids */
static __always_inline void prop_egress(__u64 id, struct obi_conn_info *ci)
{
	if (!prop_ids || ci->udp || ci->role == OBI_ROLE_UNKNOWN)
		return;
	if (ci->unix_gate != OBI_UNIX_NONE) {
		/* unix sockets (FastCGI): no ids, no option (user space joins both ends); a server's answer
		 * ends the thread's no-ids state (prop_ingress) */
		if (ci->role == OBI_ROLE_SERVER)
			prop_thread_end(id, ci->sock_id, OBI_PROP_THREAD);
		return;
	}
	struct obi_prop_sock *ps = prop_sock(ci->sock_id);
	if (!ps || ps->last_dir == OBI_DIR_EGRESS)
		return; /* the exchange's write side goes on */
	if (ci->role == OBI_ROLE_CLIENT && (ci->h2 || ps->h2)) {
		/* an HTTP/2 client: its streams' ids are decided in user space; no option */
		ps->h2 = 1;
		ps->last_dir = OBI_DIR_EGRESS;
		ps->flags = 0;
		ps->tx = 0;
		return;
	}
	ps->last_dir = OBI_DIR_EGRESS;
	__u32 mode = prop_mode(id >> 32);
	if (ci->role == OBI_ROLE_SERVER) {
		/* an HTTP/2 server's writes (SETTINGS, other streams' frames) answer no one request: the
		 * thread stays nowire until it starts another server request (prop_ingress) */
		if (!ps->h2)
			prop_thread_end(id, ci->sock_id, mode);
		return;
	}
	if (mode == OBI_PROP_OFF || (mode == OBI_PROP_IDLE && prop_busy(id))) {
		prop_quiet_mark(ci);
		ps->flags = 0;
		ps->tx = 0;
		return;
	}
	__u8 flags = prop_decide(id, mode, ps->bound, ps->trace_id, ps->span_id, ps->parent_id);
	ps->bound = 0;
	if (!flags) {
		/* serving a request whose trace user space decides (FastCGI, a quiet local client) */
		prop_quiet_mark(ci);
		ps->flags = 0;
		ps->tx = 0;
		return;
	}
	ps->flags = flags;
	ps->tx = 1;
	ps->inj = prop_hdr; /* its first sk_msg is this request's start (probes/inject.h) */
}

/* "\ntraceparent:" (case-insensitive) in the captured prefix of a server request's first read.
 * Eight bytes per step: a word without '\n' costs one load and a few ALU operations (a step per
 * byte, each looking up scratch, was most of a request read's cost in the kernel). At a '\n' the
 * twelve bytes after it are two words compared at once, letters folded to lower case by OR 0x20
 * (which maps exactly 'A'-'Z' onto 'a'-'z' and leaves ':' to an exact compare). A byte-by-byte
 * compare there, each byte a branch, grew past the verifier's 1M-instruction budget on 6.18 builds
 * that verify a bpf_loop callback once per distinct state. */
#define OBI_TP_NAME_LEN 13
#define OBI_TP_LINE (OBI_TP_NAME_LEN + 55)
/* "tracepar" and "ent:" as little-endian words, and what OR-ing 0x20 into a byte may change */
#define OBI_TP_WORD0 0x7261706563617274ULL
#define OBI_TP_WORD1 0x3a746e65U
#define OBI_TP_FOLD0 0x2020202020202020ULL
#define OBI_TP_FOLD1 0x00202020U
struct prop_tp_scan {
	struct obi_scratch *s;
	__u32 len; /* bytes captured */
	__u32 at;  /* offset of the value (past the colon), 0: not found */
};

static long prop_tp_step(__u32 w, struct prop_tp_scan *c)
{
	struct obi_scratch *s = c->s;
	__u32 i = w * 8;
	if (!s || i + OBI_TP_LINE > c->len)
		return 1; /* no room left for a whole header line */
	__u32 j = i & (OBI_MAX_CAPTURE - 1);
	__u64 v, v1, v2;
	__builtin_memcpy(&v, &s->data[j], 8);
	__u64 x = v ^ 0x0a0a0a0a0a0a0a0aULL; /* a zero byte where v has '\n' */
	/* exact: the high bit of each zero byte of x, and no other */
	__u64 nl = ~(((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x | 0x7f7f7f7f7f7f7f7fULL);
	if (!nl)
		return 0;
	/* the name after a '\n' at byte b lies in bytes b+1..b+12 < 24 of v, v1, v2 */
	__builtin_memcpy(&v1, &s->data[j + 8], 8);
	__builtin_memcpy(&v2, &s->data[j + 16], 8);
#pragma clang loop unroll(full)
	for (int b = 0; b < 8; b++) {
		if (!(nl & (0x80ULL << (8 * b))))
			continue;
		if (i + b + OBI_TP_LINE > c->len)
			return 1;
		__u64 w0 = (v >> (8 * b) >> 8) | (v1 << (56 - 8 * b));
		__u32 w1 = (__u32)((v1 >> (8 * b) >> 8) | (v2 << (56 - 8 * b)));
		if ((w0 | OBI_TP_FOLD0) == OBI_TP_WORD0 && (w1 | OBI_TP_FOLD1) == OBI_TP_WORD1) {
			c->at = j + b + OBI_TP_NAME_LEN;
			return 1;
		}
	}
	return 0;
}

static __always_inline int prop_hex(__u8 ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* parse `n` bytes of hex at s->data[at..] into dst; 0 when all were hex digits */
static __always_inline int prop_unhex(struct obi_scratch *s, __u32 at, __u8 *dst, int n)
{
#pragma clang loop unroll(full)
	for (int k = 0; k < 16; k++) {
		if (k >= n)
			break;
		int hi = prop_hex(s->data[(at + 2 * k) & (2 * OBI_MAX_CAPTURE - 1)]);
		int lo = prop_hex(s->data[(at + 2 * k + 1) & (2 * OBI_MAX_CAPTURE - 1)]);
		if (hi < 0 || lo < 0)
			return -1;
		dst[k] = (hi << 4) | lo;
	}
	return 0;
}

/* a valid `traceparent: 00-<32 hex>-<16 hex>-<2 hex>` in the first `got` captured bytes (version 00
 * only, ids not all zero), as user space's peekTraceparent reads it (telemetry/tracecontext.ts) */
static __always_inline int prop_traceparent(__u32 got, __u8 *trace, __u8 *parent)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || got < 16)
		return 0;
	struct prop_tp_scan c = { .s = s, .len = got };
	__u32 n = got < OBI_MAX_CAPTURE ? got : OBI_MAX_CAPTURE;
	bpf_loop((n + 7) / 8, prop_tp_step, &c, 0);
	if (!c.at)
		return 0;
	__u32 at = c.at & (OBI_MAX_CAPTURE - 1);
#pragma clang loop unroll(full)
	for (int k = 0; k < 2; k++)
		if (s->data[at] == ' ' || s->data[at] == '\t')
			at = (at + 1) & (OBI_MAX_CAPTURE - 1);
	if (s->data[at] != '0' || s->data[at + 1] != '0' || s->data[at + 2] != '-' || s->data[at + 35] != '-' ||
	    s->data[at + 52] != '-')
		return 0;
	if (prop_unhex(s, at + 3, trace, 16) || prop_unhex(s, at + 36, parent, 8))
		return 0;
	__u64 t0 = 0, t1 = 0, p0 = 0;
	__builtin_memcpy(&t0, trace, 8);
	__builtin_memcpy(&t1, trace + 8, 8);
	__builtin_memcpy(&p0, parent, 8);
	return (t0 | t1) != 0 && p0 != 0;
}

/* after a read that returned data on a traced socket (its first `got` bytes in scratch): a server
 * request's first read decides its ids */
static __always_inline void prop_ingress(__u64 id, struct obi_conn_info *ci, __u32 got)
{
	if (prop_ids && ci->unix_gate != OBI_UNIX_NONE) {
		/* a server request over a unix socket (FastCGI): user space decides its trace (the join of
		 * both ends); its thread's client requests go without ids until it is answered */
		if (ci->role == OBI_ROLE_SERVER)
			prop_nowire(id, ci->sock_id);
		return;
	}
	if (!prop_ids || ci->udp || ci->role != OBI_ROLE_SERVER)
		goto client;
	struct obi_prop_sock *ps = prop_sock(ci->sock_id);
	if (!ps || ps->last_dir == OBI_DIR_INGRESS)
		return;
	ps->last_dir = OBI_DIR_INGRESS;
	__u32 mode = prop_mode(id >> 32);
	if (mode == OBI_PROP_OFF || mode == OBI_PROP_IDLE) {
		ps->flags = 0; /* user space decides (Node.js's inspector linker) */
		if (mode == OBI_PROP_IDLE)
			prop_thread_start(id, ci->sock_id, ps,
			                  OBI_PROP_THREAD); /* counted open: its calls go without ids */
		return;
	}
	__u8 flags = OBI_CTX_SET;
	if (ps->h2 || ci->h2 || prop_h2_preface(got)) {
		/* HTTP/2: the streams' ids are decided in user space (one per stream, joined per stream id);
		 * an option is not any one stream's, and the thread's client calls go without ids while
		 * it handles what it read (the kernel cannot tell which stream a call serves) */
		ps->h2 = 1;
		ps->flags = 0;
		prop_nowire(id, ci->sock_id);
		return;
	}
	if (prop_fastcgi(got) || (!ps->rx_fresh && prop_quiet_peer(ci))) {
		ps->flags = 0;
		prop_nowire(id, ci->sock_id);
		return;
	}
	if (ps->rx_fresh) {
		/* the last option received: the client's current request (a client rewrites it at each
		 * request's first write). Not consumed: a TLS handshake's last flight and the first request
		 * may come in one segment while the server sees two exchanges (its session ticket between) */
		__builtin_memcpy(ps->trace_id, ps->rx_trace_id, 16);
		__builtin_memcpy(ps->parent_id, ps->rx_span_id, 8);
		flags |= OBI_CTX_REMOTE;
		stat_inc(OBI_STAT_PROP_USED);
	} else if (prop_traceparent(got, ps->trace_id, ps->parent_id)) {
		flags |= OBI_CTX_HEADER; /* an instrumented client's header: its children continue it too */
	} else {
		prop_rand(ps->trace_id, 4);
		__builtin_memset(ps->parent_id, 0, 8);
	}
	prop_rand(ps->span_id, 2);
	ps->flags = flags;
	if (mode == OBI_PROP_THREAD || mode == OBI_PROP_EVENT)
		prop_thread_start(id, ci->sock_id, ps, mode);
	return;
client:
	if (!prop_ids || ci->udp || ci->role != OBI_ROLE_CLIENT)
		return;
	struct obi_prop_sock *pc = bpf_map_lookup_elem(&prop_socks, &ci->sock_id);
	if (pc)
		pc->last_dir = OBI_DIR_INGRESS; /* the response: the next write starts a new request */
}

/* sys_exit of any data syscall of the thread: event mode forgets a request read before other I/O */
static __always_inline void prop_thread_io(__u64 id, __u64 sock_id)
{
	if (!prop_ids)
		return;
	struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &id);
	if (th && th->open && th->sock_id != sock_id)
		th->other_io = 1;
}

/* connect() of a client socket: a fresh state (a struct sock address is reused after close); in
 * event mode (nginx) the request read on the thread immediately before is bound to its first request */
static __always_inline void prop_connect(__u64 id, __u64 sock_id)
{
	if (!prop_ids)
		return;
	struct obi_prop_sock fresh = {};
	fresh.last_dir = 0xff;
	if (prop_mode(id >> 32) == OBI_PROP_EVENT) {
		struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &id);
		if (th && th->open && !th->other_io) {
			__builtin_memcpy(fresh.trace_id, th->trace_id, 16);
			__builtin_memcpy(fresh.parent_id, th->span_id, 8);
			fresh.bound = 1;
			th->other_io = 1; /* taken, as user space's marker is */
		}
	}
	bpf_map_update_elem(&prop_socks, &sock_id, &fresh, BPF_ANY);
}

/* close() of a traced socket: its state goes (the address may be a new socket's soon) */
static __always_inline void prop_forget(struct obi_conn_info *ci)
{
	if (!prop_ids)
		return;
	bpf_map_delete_elem(&prop_socks, &ci->sock_id);
	bpf_map_delete_elem(&prop_quiet, &ci->tuple); /* the tuple may be a new connection's soon */
}

/* copy the ids of the socket's current exchange onto a data record */
static __always_inline void prop_fill(struct obi_data_event *ev, __u64 sock_id)
{
	ev->ctx_flags = 0;
	if (!prop_ids)
		return;
	struct obi_prop_sock *ps = bpf_map_lookup_elem(&prop_socks, &sock_id);
	if (!ps || !(ps->flags & OBI_CTX_SET))
		return;
	ev->ctx_flags = ps->flags;
	__builtin_memcpy(ev->trace_id, ps->trace_id, 16);
	__builtin_memcpy(ev->span_id, ps->span_id, 8);
	__builtin_memcpy(ev->parent_id, ps->parent_id, 8);
}

/* a traced thread created a thread: it inherits the server request its creator serves */
static __always_inline void prop_thread_fork(__u64 parent_id, __u64 child_id)
{
	if (!prop_ids)
		return;
	struct obi_prop_thread *th = bpf_map_lookup_elem(&prop_threads, &parent_id);
	if (!th || th->open != 1 || th->overlap)
		return;
	struct obi_prop_thread t = *th;
	bpf_map_update_elem(&prop_threads, &child_id, &t, BPF_ANY);
}

/* a traced process forked a child (traced at once): it propagates as its parent does */
static __always_inline void prop_pid_fork(__u32 ptgid, __u32 ctgid)
{
	if (!prop_ids)
		return;
	struct obi_prop_pid *pp = bpf_map_lookup_elem(&prop_pids, &ptgid);
	if (!pp)
		return;
	struct obi_prop_pid c = *pp;
	bpf_map_update_elem(&prop_pids, &ctgid, &c, BPF_ANY);
}

/* `headers`: the sk_msg program (after the id rules it applies to HTTP/2 streams) */
#include "inject.h"

/*
 * The sockops program, attached per cgroup v2 directory (the cgroups of the selected processes,
 * src/pipeline/propagation.ts). It turns on option writing for every TCP connection a traced
 * process of the cgroup makes and parsing for every one the cgroup accepts; an option is written only on sockets whose current
 * exchange is a client request of a traced process (prop_socks tx), and read on any accepted one.
 */
SEC("sockops")
int obi_sockops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op;
	if (op == BPF_SOCK_OPS_TCP_CONNECT_CB) {
		/* connect() of a traced process (its own context: the only callback that knows the
		 * process; a selected one, or one admitted at exec, so a client that connects before user
		 * space has set its id rule is included). Only its sockets get the per-segment callbacks:
		 * every segment of an untraced client in the same cgroup (a load generator, a sidecar)
		 * paid ~140 ns for an option it never writes */
		struct bpf_sock *csk = skops->sk;
		if ((!prop_opt && !prop_hdr) || !csk)
			return 1;
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		if (!pid_traced(tgid))
			return 1;
		__u64 ckey = (__u64)csk;
		__u8 one = 1;
		bpf_map_update_elem(&prop_want, &ckey, &one, BPF_ANY);
		return 1;
	}
	if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		/* a new server socket: nothing of a socket that had its address before (no data arrived yet) */
		struct bpf_sock *nsk = skops->sk;
		if (nsk) {
			__u64 nkey = (__u64)nsk;
			bpf_map_delete_elem(&prop_socks, &nkey);
		}
	}
	/* options go from clients to servers only: a connection made here writes them (a callback per
	 * segment sent), one accepted here reads them (a callback only when an unknown option came) */
	if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
		struct bpf_sock *ask = skops->sk;
		if (!ask)
			return 1;
		__u64 akey = (__u64)ask;
		if (!bpf_map_lookup_elem(&prop_want, &akey))
			return 1; /* not a traced process's connection */
		bpf_map_delete_elem(&prop_want, &akey);
		int write_cb = opt_on();
		/* `headers`: into the sockhash (the segment callback also takes it out when a send can wait) */
		if (inj_allowed() && bpf_sock_hash_update(skops, &prop_sockmap, &akey, BPF_NOEXIST) == 0)
			write_cb = 1;
		if (write_cb)
			bpf_sock_ops_cb_flags_set(skops,
			                          skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		return 1;
	}
	if (op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		if (opt_on())
			bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
			                                         BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG);
		return 1;
	}
	if (op != BPF_SOCK_OPS_HDR_OPT_LEN_CB && op != BPF_SOCK_OPS_WRITE_HDR_OPT_CB &&
	    op != BPF_SOCK_OPS_PARSE_HDR_OPT_CB)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;
	__u64 key = (__u64)sk;
	if (op == BPF_SOCK_OPS_PARSE_HDR_OPT_CB) {
		if (!opt_on())
			return 1;
		__u8 opt[OBI_TCPOPT_LEN] = { OBI_TCPOPT_KIND, 0 };
		if (bpf_load_hdr_opt(skops, opt, sizeof(opt), 0) != OBI_TCPOPT_LEN || opt[1] != OBI_TCPOPT_LEN)
			return 1;
		stat_inc(OBI_STAT_PROP_READ);
		struct obi_prop_sock *ps = prop_sock(key);
		if (!ps)
			return 1;
		__builtin_memcpy(ps->rx_trace_id, opt + 2, 16);
		__builtin_memcpy(ps->rx_span_id, opt + 18, 8);
		ps->rx_fresh = 1;
		return 1;
	}
	struct obi_prop_sock *ps = bpf_map_lookup_elem(&prop_socks, &key);
	if (!ps)
		return 1;
	if (op == BPF_SOCK_OPS_HDR_OPT_LEN_CB && prop_hdr && ps->evict) {
		/* a send of this socket can wait for buffer space: out of the sockhash before it returns
		 * (a blocking recv() on a sockhash socket takes the wake-up for freed space as EAGAIN) */
		ps->evict = 0;
		ps->inj = 0;
		if (bpf_map_delete_elem(&prop_sockmap, &key) == 0)
			stat_inc(OBI_STAT_HDR_EVICTED);
		if (!opt_on())
			bpf_sock_ops_cb_flags_set(skops,
			                          skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
	}
	if (!ps->tx || !opt_on())
		return 1;
	if (op == BPF_SOCK_OPS_HDR_OPT_LEN_CB) {
		bpf_reserve_hdr_opt(skops, OBI_TCPOPT_LEN, 0);
		return 1;
	}
	__u8 opt[OBI_TCPOPT_LEN] = { OBI_TCPOPT_KIND, OBI_TCPOPT_LEN };
	__builtin_memcpy(opt + 2, ps->trace_id, 16);
	__builtin_memcpy(opt + 18, ps->span_id, 8);
	if (bpf_store_hdr_opt(skops, opt, sizeof(opt), 0) == 0)
		stat_inc(OBI_STAT_PROP_WRITTEN);
	return 1;
}
#endif
