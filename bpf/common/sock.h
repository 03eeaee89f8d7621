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
/* OBI_AF_UNIX (1) is in abi/events.h: user space reads it in tuples */
#define OBI_SOCK_STREAM 1
#define OBI_SOCK_DGRAM 2
#define OBI_IPPROTO_UDP 17
#include "tunables.h"

/* the struct sock behind fd if it is an inet stream socket (or, with capture_udp, an inet UDP
 * socket: *udp set; with capture_unix, a unix stream socket: *unx set), else NULL */
static __always_inline struct sock *fd_inet_stream_sock(__u32 fd, __u8 *udp, __u8 *unx)
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
	*unx = 0;
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
	if (family == OBI_AF_UNIX && type == OBI_SOCK_STREAM && capture_unix) {
		*unx = 1;
		return sk;
	}
	if (family != OBI_AF_INET && family != OBI_AF_INET6)
		return 0;
	return sk;
}

/* a unix stream socket's "tuple": this end's and the peer's struct sock, so that both ends of one
 * connection give the same key (client local>remote = server remote>local), as for TCP */
static __always_inline void unix_tuple(struct sock *sk, struct obi_conn_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	t->family = OBI_AF_UNIX;
	__u64 self = (__u64)sk;
	__u64 peer = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
	__builtin_memcpy(t->local_addr, &self, 8);
	__builtin_memcpy(t->remote_addr, &peer, 8);
}

/* the path of a unix socket: its own address (an accepted socket shares its listener's), else
 * its peer's (a connecting client is unbound); dst is zeroed first */
static __always_inline void unix_path(struct sock *sk, char *dst)
{
	struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)sk, addr);
	if (!addr) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		if (peer)
			addr = BPF_CORE_READ((struct unix_sock *)peer, addr);
	}
	if (!addr)
		return;
	int len = BPF_CORE_READ(addr, len) - 2; /* minus sun_family */
	if (len <= 0)
		return;
	__u32 n = len > OBI_UNIX_PATH ? OBI_UNIX_PATH : len;
	asm volatile("if %[n] <= %[max] goto +1\n\t%[n] = %[max]" : [n] "+r"(n) : [max] "i"(OBI_UNIX_PATH));
	bpf_probe_read_kernel(dst, n, (char *)addr + __builtin_offsetof(struct unix_address, name) + 2);
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
	__u8 udp = 0, unx = 0;
	struct sock *sk = fd_inet_stream_sock(fd, &udp, &unx);
	if (sk) {
		fresh.sock_id = (__u64)sk;
		if (unx)
			fresh.unix_gate = OBI_UNIX_UNDECIDED; /* tuple taken at the gate, once connected */
		else
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
	__u8 udp = 0, unx = 0;
	struct sock *sk = fd_inet_stream_sock(fd, &udp, &unx);
	struct obi_conn_key key = { .pid = tgid, .fd = fd };
	struct obi_conn_info fresh = {};
	if (!sk) {
		bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
		return 0;
	}
	fresh.sock_id = (__u64)sk;
	fresh.role = role;
	fresh.udp = udp;
	if (unx)
		fresh.unix_gate = OBI_UNIX_UNDECIDED;
	else
		sock_tuple(sk, &fresh.tuple);
	bpf_map_update_elem(&conns, &key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &key);
}
#endif
