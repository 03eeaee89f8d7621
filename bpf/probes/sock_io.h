/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket payload capture on syscall tracepoints: read, write, readv, writev,
 * recvfrom, sendto, recvmsg, sendmsg, sendmmsg, recvmmsg, sendfile64. sys_exit filters by
 * PID and socket-ness, takes the syscall's arguments from its saved registers, copies a
 * bounded prefix of what really moved (the return value) and submits one record (one per
 * message for sendmmsg/recvmmsg, at most OBI_MAX_MMSG). A write's sys_enter only decides the
 * context propagation of a client request (its ids, before any byte leaves); without
 * propagation it is not attached. A connection user space muted (no protocol recognised,
 * obi_conn_info.muted) is counted and skipped before anything is copied.
 *
 * UDP sockets (only with `capture_udp`, set when the `dns` instrumentation is on):
 * a datagram is submitted only when its first 12 bytes look like a DNS header
 * (one question, standard query opcode), so other UDP traffic costs no ring space.
 */
#ifndef OBI_PROBES_SOCK_IO_H
#define OBI_PROBES_SOCK_IO_H
#include "../common/pidfilter.h"
#include "../common/ringbuf.h"
#include "../common/sock.h"
#include "../common/ssl.h"
#include "../maps/inflight.h"
#include "../common/copy.h"
#include "../maps/scratch.h"
#include "../protocols/http2.h"
#include "propagation.h"
#include "sock_conn.h"

/* FastCGI record header: version 1, type BEGIN_REQUEST (1), content length 8 (big-endian) */
#define OBI_FCGI_HEADER 8

/*
 * The gate of unix stream sockets: the first payload (either direction: nginx writes the
 * BEGIN_REQUEST, PHP-FPM reads it, header first) decides. A FastCGI request start makes the
 * socket reported: its tuple (both struct socks) is taken now that it is connected, and an
 * OBI_EV_CONN with its path precedes its first data. Anything else (syslog, D-Bus, a database's
 * unix socket) turns the entry negative: no record now or later, one map lookup per syscall.
 * Returns 1 when the payload is to be reported.
 */
static __always_inline int unix_gate(struct obi_scratch *s, struct obi_conn_info *ci, __u32 got, __u32 tgid, __u32 tid,
                                     __u32 fd)
{
	if (ci->unix_gate == OBI_UNIX_FASTCGI)
		return 1;
	if (got >= OBI_FCGI_HEADER && s->data[0] == 1 && s->data[1] == 1 && s->data[4] == 0 && s->data[5] == 8) {
		ci->unix_gate = OBI_UNIX_FASTCGI;
		unix_tuple((struct sock *)ci->sock_id, &ci->tuple);
		emit_conn(OBI_EV_CONN, tgid, tid, fd, ci);
		s->ev.tuple = ci->tuple;
		return 1;
	}
	ci->sock_id = 0; /* negative entry until close (sys_enter_close deletes it silently) */
	return 0;
}

/* a write's sys_enter: a client request's ids are decided before its first byte leaves (the TCP
 * option of its first segment carries them) */
static __always_inline int out_enter(__u32 fd)
{
	if (!prop_ids)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!pid_traced(tgid))
		return 0;
	struct obi_conn_info *ci = conn_lookup(tgid, fd);
	if (ci && !ci->muted)
		prop_egress(id, ci);
	return 0;
}

static __always_inline __u32 copy_iov(struct obi_scratch *s, __u64 iovp, __u32 cnt, __u32 want)
{
	__u32 got = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < OBI_MAX_IOV; i++) {
		if (i >= cnt || got >= want)
			break;
		struct iovec iov = {};
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(iovp + i * sizeof(struct iovec))) != 0)
			break;
		__u32 n = iov.iov_len;
		if (n > want - got)
			n = want - got;
		__u32 c = copy_user(s, got, (__u64)iov.iov_base, n);
		if (c != n)
			break;
		got += c;
	}
	return got;
}

/* messages of one sendmmsg/recvmmsg reported (the glibc resolver sends A and AAAA in one call) */
#define OBI_MAX_MMSG 4

/* does the datagram in s->data (got bytes) start like a DNS message: QDCOUNT 1, opcode QUERY? */
static __always_inline int dns_like(struct obi_scratch *s, __u32 got)
{
	if (got < 12)
		return 0;
	return s->data[4] == 0 && s->data[5] == 1 && (s->data[2] & 0x78) == 0;
}

/* fill in the payload size of the record in scratch and submit it (UDP: DNS-looking only) */
static __always_inline void data_submit(struct obi_scratch *s, __u32 got, __u8 udp)
{
	if (got > OBI_MAX_CAPTURE)
		got = OBI_MAX_CAPTURE;
	asm volatile("%[got] &= %[mask]" : [got] "+r"(got) : [mask] "i"(2 * OBI_MAX_CAPTURE - 1));
	if (udp && !dns_like(s, got))
		return;
	s->ev.captured = got;
	rb_emit(s, sizeof(s->ev) + got);
}

/* sendmmsg/recvmmsg: `n` messages moved; one record each (a datagram per message) */
static __always_inline void mmsg_submit(struct obi_scratch *s, __u64 vec, __u32 n, __u8 udp)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < OBI_MAX_MMSG; i++) {
		if (i >= n)
			break;
		struct mmsghdr mm = {};
		if (bpf_probe_read_user(&mm, sizeof(mm), (void *)(vec + i * sizeof(struct mmsghdr))) != 0)
			break;
		__u32 want = mm.msg_len < capture_size ? mm.msg_len : capture_size;
		__u32 got = copy_iov(s, (__u64)mm.msg_hdr.msg_iov, mm.msg_hdr.msg_iovlen, want);
		s->ev.len = mm.msg_len;
		s->ev.hdr.ts_ns = bpf_ktime_get_ns();
		data_submit(s, got, udp);
	}
}

static __always_inline int io_record(__u64 id, long ret, __u8 flags, struct obi_inflight a, struct obi_conn_info *ci);

/*
 * A read or a write at its sys_exit: its arguments are still in the syscall's saved registers
 * (x86-64: di, si, dx), so no sys_enter program is needed to save them. Every read of every
 * process on the host paid a second tracepoint hit (~120 ns) for one; every write of a traced
 * process an LRU-hash update and delete (`inflight`, ~0.25 us per write in nginx, measured
 * with kernel.bpf_stats_enabled).
 */
static __always_inline int io_exit(long ret, __u8 flags, int fdarg, int ptrarg, int cntarg, __u8 kind, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!pid_traced(tgid))
		return 0;
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 args[3] = { r->di, r->si, r->dx };
	struct obi_inflight a = { .kind = kind, .direction = dir };
	a.fd = args[fdarg & 3];
	a.ptr = ptrarg < 0 ? 0 : args[ptrarg & 3];
	a.count = cntarg < 0 ? 0 : args[cntarg & 3];
	struct obi_conn_info *ci = conn_lookup(tgid, a.fd);
	if (!ci || ssl_sock_io(tgid, a.fd, ci, dir))
		return 0; /* not a socket, or a TLS one: its plaintext comes from the uprobes (probes/ssl.h) */
	if (ret <= 0)
		return 0;
	if (ci->muted) {
		/* after the TLS bookkeeping above: a memory-BIO session still learns its socket here */
		stat_inc(OBI_STAT_MUTED);
		return 0;
	}
	return io_record(id, ret, flags, a, ci);
}

static __always_inline int io_record(__u64 id, long ret, __u8 flags, struct obi_inflight a, struct obi_conn_info *ci)
{
	__u32 tgid = id >> 32;
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	s->ev.hdr.type = OBI_EV_DATA;
	s->ev.hdr.pid = tgid;
	s->ev.hdr.ts_ns = bpf_ktime_get_ns();
	s->ev.sock_id = ci->sock_id;
	s->ev.tid = (__u32)id;
	s->ev.fd = a.fd;
	s->ev.len = ret;
	s->ev.direction = a.direction;
	s->ev.role = ci->role;
	s->ev.flags = flags | (ci->udp ? OBI_DATA_UDP : 0);
	s->ev.tuple = ci->tuple;
	s->ev.ssl_id = 0;
	s->ev.ctx_flags = 0;
	if (a.kind == OBI_IO_MMSG) {
		mmsg_submit(s, a.ptr, ret, ci->udp);
		return 0;
	}

	__u32 want = (__u64)ret < capture_size ? (__u32)ret : capture_size;
	__u32 got = 0;
	if (a.kind == OBI_IO_BUF) {
		got = copy_user(s, 0, a.ptr, want);
	} else if (a.kind == OBI_IO_IOV) {
		got = copy_iov(s, a.ptr, a.count, want);
	} else if (a.kind == OBI_IO_MSG) {
		struct user_msghdr mh = {};
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)a.ptr) == 0)
			got = copy_iov(s, (__u64)mh.msg_iov, mh.msg_iovlen, want);
	}
	if (ci->udp) {
		data_submit(s, got, 1);
		return 0;
	}
	if (ci->unix_gate != OBI_UNIX_NONE && !unix_gate(s, ci, got, tgid, (__u32)id, a.fd))
		return 0;
	if (got > OBI_MAX_CAPTURE)
		got = OBI_MAX_CAPTURE;
	asm volatile("%[got] &= %[mask]" : [got] "+r"(got) : [mask] "i"(2 * OBI_MAX_CAPTURE - 1));
	s->ev.captured = got;
	/* after the copy: a server request's start may take its trace from a traceparent in it */
	if (a.direction == OBI_DIR_INGRESS)
		prop_ingress(id, ci, got);
	prop_thread_io(id, ci->sock_id);
	prop_fill(&s->ev, ci->sock_id);
	h2_submit(s, ci, ci->sock_id, tgid, a.direction, 0, ret, got, a.kind, a.ptr, a.count);
	return 0;
}

#define OBI_OUT(name, fdarg, ptrarg, cntarg, kind, flags)                                     \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                           \
	int obi_enter_##name(struct trace_event_raw_sys_enter *ctx)                           \
	{                                                                                     \
		return out_enter(ctx->args[fdarg]);                                           \
	}                                                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                            \
	int obi_exit_##name(struct trace_event_raw_sys_exit *ctx)                             \
	{                                                                                     \
		return io_exit(ctx->ret, flags, fdarg, ptrarg, cntarg, kind, OBI_DIR_EGRESS); \
	}

#define OBI_IN_EXIT(name, fdarg, ptrarg, cntarg, kind, flags)                                  \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                             \
	int obi_exit_##name(struct trace_event_raw_sys_exit *ctx)                              \
	{                                                                                      \
		return io_exit(ctx->ret, flags, fdarg, ptrarg, cntarg, kind, OBI_DIR_INGRESS); \
	}

OBI_IN_EXIT(read, 0, 1, 2, OBI_IO_BUF, 0)
OBI_IN_EXIT(recvfrom, 0, 1, 2, OBI_IO_BUF, 0)
OBI_IN_EXIT(readv, 0, 1, 2, OBI_IO_IOV, 0)
OBI_IN_EXIT(recvmsg, 0, 1, -1, OBI_IO_MSG, 0)
OBI_OUT(write, 0, 1, 2, OBI_IO_BUF, 0)
OBI_OUT(sendto, 0, 1, 2, OBI_IO_BUF, 0)
OBI_OUT(writev, 0, 1, 2, OBI_IO_IOV, 0)
OBI_OUT(sendmsg, 0, 1, -1, OBI_IO_MSG, 0)
OBI_IN_EXIT(recvmmsg, 0, 1, 2, OBI_IO_MMSG, 0)
OBI_OUT(sendmmsg, 0, 1, 2, OBI_IO_MMSG, 0)
/* sendfile(out_fd, in_fd, offset, count): bytes leave the socket with no user buffer to copy */
OBI_OUT(sendfile64, 0, -1, -1, OBI_IO_NONE, OBI_DATA_SENDFILE)

#endif
