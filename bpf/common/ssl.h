/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which socket a TLS session writes to, learned without kprobes from the
 * syscall hooks (OBI maps SSL* to a socket the same way, from tcp_sendmsg/
 * recvmsg on the thread of the SSL call):
 *  - socket BIO (nginx, Python, curl, GnuTLS): the library does the socket
 *    read/write inside SSL_read/SSL_write, so a socket syscall of a thread with
 *    a TLS call in progress names the session's socket;
 *  - memory BIO (Node.js): the socket is read just before SSL_read decrypts
 *    what was read, and written just after SSL_write encrypted into memory, on
 *    the same thread; the return probe and the next socket write use that.
 * A socket bound to a session is marked `tls`: its encrypted bytes are no
 * longer captured (the plaintext comes from the uprobes).
 */
#ifndef OBI_COMMON_SSL_H
#define OBI_COMMON_SSL_H
#include "../maps/conns.h"
#include "../maps/ssl_fds.h"
#include "../maps/ssl_threads.h"

static __always_inline void ssl_bind(__u32 tgid, __u64 ssl, __u32 fd, struct obi_conn_info *ci)
{
	struct obi_ssl_key k = { .pid = tgid, .ssl = ssl };
	bpf_map_update_elem(&ssl_fds, &k, &fd, BPF_ANY);
	ci->tls = 1;
}

/*
 * Called by io_enter for every socket syscall of a traced process. Returns 1
 * when the socket belongs to a TLS session (do not capture its raw bytes).
 */
static __always_inline int ssl_sock_io(__u32 tgid, __u32 fd, struct obi_conn_info *ci, __u8 dir)
{
	struct obi_ssl_thread *st =
		bpf_task_storage_get(&ssl_threads, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st) {
		if (st->ssl) {
			ssl_bind(tgid, st->ssl, fd, ci);
		} else {
			/* only the very next socket syscall of the thread may claim a pending session, and
			 * only a write to a socket no session owns yet */
			if (st->pending && dir == OBI_DIR_EGRESS && !ci->tls)
				ssl_bind(tgid, st->pending, fd, ci);
			st->pending = 0;
			if (dir == OBI_DIR_INGRESS) {
				st->rd_fd = fd;
				st->rd_valid = 1;
			}
		}
	}
	return ci->tls;
}
#endif
