/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TLS plaintext from uprobes on the TLS libraries: OpenSSL (libssl.so.1.1/3,
 * and copies linked into an executable such as `node`) and GnuTLS
 * (libgnutls.so.30). User space attaches these programs per library file.
 *
 * Entry probes save (session, buffer, size pointer, op) in task storage; one
 * shared return probe reads the byte count the way `op` says, copies a bounded
 * prefix of the plaintext and emits an OBI_EV_DATA record with OBI_DATA_TLS and
 * the session's socket (common/ssl.h tells how it is learned). When the socket
 * is not known yet the record goes out with sock_id 0 and user space pairs it by
 * (pid, ssl_id). Uprobes are the most expensive hook on the hot path: the
 * programs do one storage lookup at entry and the minimum at return.
 */
#ifndef OBI_PROBES_SSL_H
#define OBI_PROBES_SSL_H
#include "../common/pidfilter.h"
#include "../common/ringbuf.h"
#include "../common/stats.h"
#include "../common/ssl.h"
#include "../maps/scratch.h"
#include "../protocols/http2.h"
#include "../protocols/http1_large.h"
#include "propagation.h"

static __always_inline int ssl_enter(__u64 ssl, __u64 buf, __u64 size_out, __u8 op)
{
	if (!pid_traced(bpf_get_current_pid_tgid() >> 32)) {
		stat_inc(OBI_STAT_TLS_CALLS_OTHER);
		return 0;
	}
	stat_inc(OBI_STAT_TLS_CALLS);
	struct obi_ssl_thread *st =
		bpf_task_storage_get(&ssl_threads, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->ssl = ssl;
	st->buf = buf;
	st->size_out = size_out;
	st->op = op;
	return 0;
}

/* the session's socket, or NULL; a binding whose socket was closed since counts as unknown */
static __always_inline struct obi_conn_info *ssl_conn(__u32 tgid, __u64 ssl, __u32 *fd)
{
	struct obi_ssl_key k = { .pid = tgid, .ssl = ssl };
	__u32 *pfd = bpf_map_lookup_elem(&ssl_fds, &k);
	if (!pfd)
		return 0;
	*fd = *pfd;
	struct obi_conn_key ck = { .pid = tgid, .fd = *fd };
	struct obi_conn_info *ci = bpf_map_lookup_elem(&conns, &ck);
	return ci && ci->sock_id ? ci : 0;
}

/*
 * Emits the plaintext of one TLS call: `n` > 0 bytes at `buf` of session `ssl`, on socket `ci`
 * (fd `fd`) or, when it is not known yet, with sock_id 0 for user space to pair by (pid, ssl).
 */
static __always_inline void tls_emit(__u64 ssl, __u64 buf, long n, __u8 ingress, struct obi_conn_info *ci, __u32 fd,
                                     __u32 tgid, __u32 tid)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return;
	s->ev.hdr.type = OBI_EV_DATA;
	s->ev.hdr.pid = tgid;
	s->ev.hdr.ts_ns = bpf_ktime_get_ns();
	s->ev.tid = tid;
	s->ev.len = n;
	s->ev.direction = ingress ? OBI_DIR_INGRESS : OBI_DIR_EGRESS;
	s->ev.flags = OBI_DATA_TLS;
	s->ev.ssl_id = ssl;
	if (ci) {
		s->ev.sock_id = ci->sock_id;
		s->ev.fd = fd;
		s->ev.role = ci->role;
		s->ev.tuple = ci->tuple;
	} else {
		s->ev.sock_id = 0;
		s->ev.fd = ~0u;
		s->ev.role = OBI_ROLE_UNKNOWN;
		__builtin_memset(&s->ev.tuple, 0, sizeof(s->ev.tuple));
	}
	__u32 want = (__u64)n < capture_size ? (__u32)n : capture_size;
	__u32 got = copy_user(s, 0, buf, want);
	if (got > OBI_MAX_CAPTURE)
		got = OBI_MAX_CAPTURE;
	asm volatile("%[got] &= %[mask]" : [got] "+r"(got) : [mask] "i"(2 * OBI_MAX_CAPTURE - 1));
	s->ev.captured = got;
	s->ev.ctx_flags = 0;
	if (ci) {
		/* plaintext: a server request starts at its first decrypted read; a client request was
		 * decided at its first socket write (or here, at Go's Write entry, before the socket write) */
		__u64 pid_tid = ((__u64)tgid << 32) | tid;
		if (ingress)
			prop_ingress(pid_tid, ci, got);
		else
			prop_egress(pid_tid, ci);
		prop_fill(&s->ev, ci->sock_id);
	}
	h2_submit(s, ci, ssl, tgid, s->ev.direction, 1, n, got, OBI_IO_BUF, buf, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(obi_tls_ret, long rc)
{
	struct obi_ssl_thread *st = bpf_task_storage_get(&ssl_threads, bpf_get_current_task_btf(), 0, 0);
	if (!st)
		return 0;
	if (st->skip) {
		/* the return of a GnuTLS receive of another record type (obi_gnutls_recv_int) */
		st->skip--;
		return 0;
	}
	if (!st->ssl)
		return 0;
	__u64 ssl = st->ssl, buf = st->buf;
	__u8 op = st->op;
	st->ssl = 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	long n;
	if (op == OBI_SSL_OP_READ || op == OBI_SSL_OP_WRITE) {
		n = (int)rc; /* int return: the upper half of rax is undefined */
	} else if (op == OBI_SSL_OP_READ_EX || op == OBI_SSL_OP_WRITE_EX) {
		__u64 done = 0;
		/* SSL_*_ex return 1 or 0; ssl_{read,write}_internal (probed in their place where
		 * verified, see src/discovery/tls-callee.ts) return > 0 on success */
		if ((int)rc <= 0 || bpf_probe_read_user(&done, sizeof(done), (void *)st->size_out) != 0)
			return 0;
		n = done;
	} else {
		n = rc;
	}
	__u8 ingress = op == OBI_SSL_OP_READ || op == OBI_SSL_OP_READ_EX || op == OBI_SSL_OP_GNUTLS_RECV;

	__u32 fd = 0;
	struct obi_conn_info *ci = ssl_conn(tgid, ssl, &fd);
	if (!ci && n > 0) {
		if (ingress && st->rd_valid) {
			/* memory BIO: the record came from the socket this thread read last */
			struct obi_conn_key ck = { .pid = tgid, .fd = st->rd_fd };
			ci = bpf_map_lookup_elem(&conns, &ck);
			if (ci && ci->sock_id && !ci->tls) {
				fd = st->rd_fd;
				ssl_bind(tgid, ssl, fd, ci);
			} else {
				ci = 0;
			}
		} else if (!ingress) {
			/* memory BIO: the encrypted record leaves with the next socket write of this thread */
			st->pending = ssl;
		}
	}
	if (n > 0)
		tls_emit(ssl, buf, n, ingress, ci, fd, tgid, (__u32)id);
	return 0;
}

/* SSL_read(ssl, buf, num), SSL_write(ssl, buf, num) */
SEC("uprobe")
int BPF_KPROBE(obi_ssl_read, void *ssl, void *buf)
{
	return ssl_enter((__u64)ssl, (__u64)buf, 0, OBI_SSL_OP_READ);
}

SEC("uprobe")
int BPF_KPROBE(obi_ssl_write, void *ssl, void *buf)
{
	return ssl_enter((__u64)ssl, (__u64)buf, 0, OBI_SSL_OP_WRITE);
}

/* SSL_read_ex(ssl, buf, num, size_t *readbytes), SSL_write_ex(ssl, buf, num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(obi_ssl_read_ex, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return ssl_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, OBI_SSL_OP_READ_EX);
}

SEC("uprobe")
int BPF_KPROBE(obi_ssl_write_ex, void *ssl, void *buf, __u64 num, void *written)
{
	return ssl_enter((__u64)ssl, (__u64)buf, (__u64)written, OBI_SSL_OP_WRITE_EX);
}

/* gnutls_record_recv(session, data, size), gnutls_record_send(session, data, size): ssize_t */
SEC("uprobe")
int BPF_KPROBE(obi_gnutls_recv, void *session, void *data)
{
	return ssl_enter((__u64)session, (__u64)data, 0, OBI_SSL_OP_GNUTLS_RECV);
}

SEC("uprobe")
int BPF_KPROBE(obi_gnutls_send, void *session, void *data)
{
	return ssl_enter((__u64)session, (__u64)data, 0, OBI_SSL_OP_GNUTLS_SEND);
}

/*
 * _gnutls_recv_int(session, type, data, size, seq, ms), GnuTLS's internal receive: probed in
 * place of gnutls_record_recv (whose first instruction, `sub $8,%rsp`, is single-stepped) where
 * src/discovery/tls-callee.ts finds it. gnutls_record_recv and gnutls_record_recv_seq tail-call it
 * with type 23 (application data) and return what it returns. Other callers read alerts,
 * ChangeCipherSpec or heartbeats through it: no plaintext, and their return probe is skipped (a
 * count, so such a call inside a data receive leaves the data receive's state alone).
 */
#define OBI_TLS_APPLICATION_DATA 23
SEC("uprobe")
int BPF_KPROBE(obi_gnutls_recv_int, void *session, int type, void *data)
{
	if (type == OBI_TLS_APPLICATION_DATA)
		return ssl_enter((__u64)session, (__u64)data, 0, OBI_SSL_OP_GNUTLS_RECV);
	if (!pid_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	struct obi_ssl_thread *st =
		bpf_task_storage_get(&ssl_threads, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st)
		st->skip++;
	return 0;
}

/* the session is over: forget its socket and its HTTP/2 frame following (a new session at the same address starts afresh) */
static __always_inline void tls_release(__u64 ssl)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!pid_traced(tgid))
		return;
	struct obi_ssl_key k = { .pid = tgid, .ssl = ssl };
	bpf_map_delete_elem(&ssl_fds, &k);
	struct obi_h2_key hk = { .id = ssl, .pid = tgid, .dir = OBI_DIR_EGRESS | OBI_H2_TLS_DIR };
	bpf_map_delete_elem(&h2_conns, &hk);
	hk.dir = OBI_DIR_INGRESS | OBI_H2_TLS_DIR;
	bpf_map_delete_elem(&h2_conns, &hk);
	large_forget((__u64)ssl, tgid, 1);
	struct obi_ssl_thread *st = bpf_task_storage_get(&ssl_threads, bpf_get_current_task_btf(), 0, 0);
	if (st && st->pending == ssl)
		st->pending = 0;
}

/* SSL_shutdown, SSL_free, gnutls_bye, gnutls_deinit */
SEC("uprobe")
int BPF_KPROBE(obi_tls_release, void *ssl)
{
	tls_release((__u64)ssl);
	return 0;
}
#endif
