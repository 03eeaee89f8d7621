/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fd -> struct sock -> 4-tuple, with CO-RE reads through the task's fd table. */
#ifndef OBI_COMMON_SOCK_H
#define OBI_COMMON_SOCK_H
#include "../maps/conns.h"
#include "stats.h"

/* macros, not in vmlinux.h */
#define OBI_S_IFMT 00170000
#define OBI_S_IFSOCK 0140000
#define OBI_AF_INET 2
#define OBI_AF_INET6 10
#define OBI_SOCK_STREAM 1
#define OBI_SOCK_DGRAM 2
#define OBI_IPPROTO_UDP 17
#include "tunables.h"

/* the struct sock behind fd if it is an inet stream socket (or, with capture_udp, an inet UDP
 * socket: *udp set), else NULL */
static __always_inline struct sock *fd_inet_stream_sock(__u32 fd, __u8 *udp)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fdarr = BPF_CORE_READ(fdt, fd);
	struct file *file = 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fdarr[fd]);
	if (!file)
		return 0;
	umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & OBI_S_IFMT) != OBI_S_IFSOCK)
		return 0;
	struct socket *sock = (struct socket *)BPF_CORE_READ(file, private_data);
	if (!sock)
		return 0;
	short type = BPF_CORE_READ(sock, type);
	*udp = 0;
	if (type != OBI_SOCK_STREAM && !(capture_udp && type == OBI_SOCK_DGRAM))
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	if (type == OBI_SOCK_DGRAM) {
		if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != OBI_IPPROTO_UDP)
			return 0;
		*udp = 1;
	}
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != OBI_AF_INET && family != OBI_AF_INET6)
		return 0;
	return sk;
}

static __always_inline void v4_mapped(__u8 *dst, __u32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

static __always_inline void sock_tuple(struct sock *sk, struct obi_conn_tuple *t)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->family = family;
	t->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == OBI_AF_INET) {
		v4_mapped(t->local_addr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		v4_mapped(t->remote_addr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	} else {
		BPF_CORE_READ_INTO(&t->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&t->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

/*
 * What we know of (tgid, fd), learning it on first sight. Returns NULL when the
 * fd is not an inet stream socket (remembered as a negative entry until close).
 */
static __always_inline struct obi_conn_info *conn_lookup(__u32 tgid, __u32 fd)
{
	struct obi_conn_key key = { .pid = tgid, .fd = fd };
	struct obi_conn_info *ci = bpf_map_lookup_elem(&conns, &key);
	if (ci)
		return ci->sock_id ? ci : 0;
	struct obi_conn_info fresh = {};
	__u8 udp = 0;
	struct sock *sk = fd_inet_stream_sock(fd, &udp);
	if (sk) {
		fresh.sock_id = (__u64)sk;
		sock_tuple(sk, &fresh.tuple);
		fresh.role = OBI_ROLE_UNKNOWN;
		fresh.udp = udp;
	}
	bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
	if (!sk)
		return 0;
	return bpf_map_lookup_elem(&conns, &key);
}

/* (re)register fd as a socket with a known role (accept/connect); NULL if not an inet stream socket */
static __always_inline struct obi_conn_info *conn_register(__u32 tgid, __u32 fd, __u8 role)
{
	__u8 udp = 0;
	struct sock *sk = fd_inet_stream_sock(fd, &udp);
	struct obi_conn_key key = { .pid = tgid, .fd = fd };
	struct obi_conn_info fresh = {};
	if (!sk) {
		bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
		return 0;
	}
	fresh.sock_id = (__u64)sk;
	fresh.role = role;
	fresh.udp = udp;
	sock_tuple(sk, &fresh.tuple);
	bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &key);
}
#endif
