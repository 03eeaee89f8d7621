/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TLS plaintext of Go programs: Go's crypto/tls is Go code, not a library, so the uprobes go on
 * the functions `crypto/tls.(*Conn).Read` and `crypto/tls.(*Conn).Write` of each Go executable
 * (src/discovery/gotls.ts finds them in the symbol table). Go's register ABI (Go >= 1.17 on
 * x86-64) passes the receiver in rax and the byte slice in rbx (pointer) and rcx (length), and
 * returns n in rax; r14 holds the running goroutine (g). Write's plaintext is complete at entry
 * and is emitted there. Read's is known at return, and never through a uretprobe on Go code (the
 * return-address rewrite breaks when a goroutine's stack moves): one uprobe goes on each RET
 * instruction of Read (found by disassembling it); the call is keyed by (process, goroutine),
 * since a goroutine that blocks in Read resumes on another thread.
 *
 * The socket is read from the connection at entry: tls.Conn starts with its `conn net.Conn`
 * interface (type word, data word); for a *net.TCPConn the data points at a struct whose first
 * field is the *netFD, which starts with its poll.FD, whose Sysfd follows the 16-byte fdMutex.
 * These offsets hold for every Go release with the register ABI (user space attaches only to
 * those). A connection over anything else yields an fd that names no known socket of the
 * process, and the call is not captured. Binding the socket at entry marks it `tls` before the
 * call's own socket I/O, so its ciphertext is never captured.
 */
#ifndef OBI_PROBES_GO_TLS_H
#define OBI_PROBES_GO_TLS_H
#include "../common/pidfilter.h"
#include "../common/ssl.h"
#include "../maps/go_tls.h"
#include "ssl.h"

#define OBI_GO_CONN_DATA 8    /* tls.Conn.conn (net.Conn): the interface's data word */
#define OBI_GO_NETFD_SYSFD 16 /* netFD.pfd (poll.FD) .Sysfd, after fdMutex{state uint64; rsema, wsema uint32} */

static __always_inline int go_tls_enter(struct pt_regs *ctx, __u8 ingress)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!pid_traced(tgid)) {
		stat_inc(OBI_STAT_TLS_CALLS_OTHER);
		return 0;
	}
	stat_inc(OBI_STAT_TLS_CALLS);
	__u64 conn = ctx->ax;
	struct obi_go_call c = { .conn = conn, .buf = ctx->bx, .fd = ~0u, .ingress = ingress };
	__u64 data = 0, netfd = 0;
	__s64 sysfd = -1;
	if (bpf_probe_read_user(&data, sizeof(data), (void *)(conn + OBI_GO_CONN_DATA)) == 0 && data &&
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)data) == 0 && netfd &&
	    bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + OBI_GO_NETFD_SYSFD)) == 0 && sysfd >= 0 &&
	    sysfd < 0x7fffffff) {
		struct obi_conn_key ck = { .pid = tgid, .fd = (__u32)sysfd };
		struct obi_conn_info *ci = bpf_map_lookup_elem(&conns, &ck);
		if (ci && ci->sock_id) {
			c.fd = (__u32)sysfd;
			if (!ci->tls)
				ssl_bind(tgid, conn, c.fd, ci);
		}
	}
	if (!ingress) {
		/* Write(b) sends all of b or fails: its plaintext goes out now, before the socket write, so
		 * a response read by another goroutine (Go's HTTP client reads on its own) never precedes it */
		long n = (long)ctx->cx;
		struct obi_conn_key ck = { .pid = tgid, .fd = c.fd };
		struct obi_conn_info *ci = c.fd != ~0u ? bpf_map_lookup_elem(&conns, &ck) : 0;
		if (n > 0 && ci && ci->sock_id)
			tls_emit(conn, c.buf, n, 0, ci, c.fd, tgid, (__u32)bpf_get_current_pid_tgid());
		return 0;
	}
	struct obi_go_key k = { .pid = tgid, .g = ctx->r14 };
	bpf_map_update_elem(&go_tls_calls, &k, &c, BPF_ANY);
	return 0;
}

/* crypto/tls.(*Conn).Read(c, b []byte) (int, error) */
SEC("uprobe")
int obi_go_tls_read(struct pt_regs *ctx)
{
	return go_tls_enter(ctx, 1);
}

/* crypto/tls.(*Conn).Write(c, b []byte) (int, error) */
SEC("uprobe")
int obi_go_tls_write(struct pt_regs *ctx)
{
	return go_tls_enter(ctx, 0);
}

/* on each RET of Read: rax = n */
SEC("uprobe")
int obi_go_tls_ret(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!pid_traced(tgid))
		return 0;
	struct obi_go_key k = { .pid = tgid, .g = ctx->r14 };
	struct obi_go_call *c = bpf_map_lookup_elem(&go_tls_calls, &k);
	if (!c)
		return 0;
	__u64 conn = c->conn, buf = c->buf;
	__u32 fd = c->fd;
	__u8 ingress = c->ingress;
	bpf_map_delete_elem(&go_tls_calls, &k);
	long n = (long)ctx->ax;
	if (n <= 0 || fd == ~0u)
		return 0;
	struct obi_conn_key ck = { .pid = tgid, .fd = fd };
	struct obi_conn_info *ci = bpf_map_lookup_elem(&conns, &ck);
	if (!ci || !ci->sock_id)
		return 0;
	tls_emit(conn, buf, n, ingress, ci, fd, tgid, (__u32)id);
	return 0;
}

/* crypto/tls.(*Conn).Close(c): the connection is over */
SEC("uprobe")
int obi_go_tls_close(struct pt_regs *ctx)
{
	tls_release(ctx->ax);
	return 0;
}
#endif
