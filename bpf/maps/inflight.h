/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_INFLIGHT_H
#define OBI_MAPS_INFLIGHT_H
#include "sizing.h"

enum obi_io_kind {
	OBI_IO_BUF = 0,  /* (buf, count): read, write, recvfrom, sendto */
	OBI_IO_IOV = 1,  /* (iov, iovcnt): readv, writev */
	OBI_IO_MSG = 2,  /* (msghdr): recvmsg, sendmsg */
	OBI_IO_NONE = 3, /* no user buffer: sendfile, connect, listen */
	OBI_IO_MMSG = 4, /* (mmsghdr[], vlen): sendmmsg, recvmmsg; one record per message */
};

/* syscall arguments saved at sys_enter for sys_exit, keyed by pid_tgid */
struct obi_inflight {
	__u64 ptr; /* buf, iov or msghdr user pointer */
	__u32 fd;
	__u32 count;    /* iovcnt for IOV */
	__u8 kind;      /* enum obi_io_kind */
	__u8 direction; /* enum obi_direction */
	__u8 _pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBI_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct obi_inflight);
} inflight SEC(".maps");

/* remember the fd argument of a syscall with no user buffer (connect, listen) until its sys_exit */
static __always_inline void inflight_save_fd(__u64 id, __u32 fd)
{
	struct obi_inflight in = { .fd = fd, .kind = OBI_IO_NONE };
	bpf_map_update_elem(&inflight, &id, &in, BPF_ANY);
}

/* at sys_exit: take (and forget) the fd saved at sys_enter; 0 when there was one */
static __always_inline int inflight_take_fd(__u64 id, __u32 *fd)
{
	struct obi_inflight *in = bpf_map_lookup_elem(&inflight, &id);
	if (!in)
		return -1;
	*fd = in->fd;
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}
#endif
