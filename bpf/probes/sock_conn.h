/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Connection lifecycle: accept/accept4 (server role), connect (client role), close. */
#ifndef OBI_PROBES_SOCK_CONN_H
#define OBI_PROBES_SOCK_CONN_H
#include "../common/pidfilter.h"
#include "../common/ringbuf.h"
#include "../common/sock.h"
#include "../maps/inflight.h"
#include "../protocols/http1_large.h"
#include "propagation.h"

#define OBI_EINPROGRESS 115

/* reserved in the ring and filled in place (the event with its unix path is too big for the stack
 * of the I/O programs that emit it at the FastCGI gate) */
static __always_inline void emit_conn(__u8 type, __u32 tgid, __u32 tid, __u32 fd, struct obi_conn_info *ci)
{
	/* a unix socket is reported from its first FastCGI payload on (probes/sock_io.h) */
	if (ci->unix_gate == OBI_UNIX_UNDECIDED)
		return;
	struct obi_conn_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(OBI_STAT_DROPPED);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.type = type;
	ev->hdr.pid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->sock_id = ci->sock_id;
	ev->tid = tid;
	ev->fd = fd;
	ev->role = ci->role;
	ev->tuple = ci->tuple;
	if (type == OBI_EV_CONN && ci->unix_gate == OBI_UNIX_FASTCGI)
		unix_path((struct sock *)ci->sock_id, ev->unix_path);
	bpf_ringbuf_submit(ev, rb_flags(sizeof(*ev)));
	stat_inc(OBI_STAT_EVENTS);
}

static __always_inline int on_accept(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (ret < 0 || !pid_traced(tgid))
		return 0;
	struct obi_conn_info *ci = conn_register(tgid, ret, OBI_ROLE_SERVER);
	if (ci)
		emit_conn(OBI_EV_CONN, tgid, id, ret, ci);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int obi_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int obi_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int obi_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (pid_traced(id >> 32))
		inflight_save_fd(id, ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int obi_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 fd;
	if (!pid_traced(id >> 32) || inflight_take_fd(id, &fd) || (ctx->ret != 0 && ctx->ret != -OBI_EINPROGRESS))
		return 0;
	__u32 tgid = id >> 32;
	struct obi_conn_info *ci = conn_register(tgid, fd, OBI_ROLE_CLIENT);
	if (ci) {
		prop_connect(id, ci->sock_id);
		emit_conn(OBI_EV_CONN, tgid, id, fd, ci);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int obi_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!pid_traced(tgid))
		return 0;
	struct obi_conn_key key = { .pid = tgid, .fd = ctx->args[0] };
	struct obi_conn_info *ci = bpf_map_lookup_elem(&conns, &key);
	if (!ci)
		return 0;
	if (ci->sock_id) {
		emit_conn(OBI_EV_CLOSE, tgid, id, key.fd, ci);
		large_forget(ci->sock_id, tgid, 0);
		prop_forget(ci);
	}
	bpf_map_delete_elem(&conns, &key);
	return 0;
}
#endif
