/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Process lifecycle for discovery without restarts: exec (host-wide), listen
 * (host-wide), fork of a traced process (the child is traced at once, in the
 * kernel), exit of a traced process (its kernel state is purged here).
 */
#ifndef OBI_PROBES_PROC_H
#define OBI_PROBES_PROC_H
#include "../common/pidfilter.h"
#include "../common/exec_admit.h"
#include "../common/ringbuf.h"
#include "../common/sock.h"
#include "../maps/inflight.h"
#include "../maps/ssl_fds.h"
#include "../maps/h2.h"
#include "propagation.h"

SEC("tracepoint/sched/sched_process_exec")
int obi_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	/* reserved in the ring, not built on the stack: with argv the event is too large for it */
	struct obi_proc_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(OBI_STAT_DROPPED);
		return 0;
	}
	ev->hdr.type = OBI_EV_EXEC;
	ev->hdr._pad[0] = ev->hdr._pad[1] = ev->hdr._pad[2] = 0;
	ev->hdr.pid = bpf_get_current_pid_tgid() >> 32;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->port = 0;
	ev->tid = 0;
	ev->flags = 0;
	ev->_pad2 = 0;
	/* admitted before it runs a single instruction of the new image (exec_admit.h) */
	if (ev->hdr.pid != self_pid && !pid_traced(ev->hdr.pid) && exec_admitted(task)) {
		pid_trace(ev->hdr.pid);
		ev->flags = OBI_PROC_ADMITTED;
	}
	__u16 off = ctx->__data_loc_filename & 0xFFFF;
	if (bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), (void *)ctx + off) < 0)
		ev->path[0] = 0;
	/* argv of the new image, on its stack already: a process that exits before user space reads
	 * /proc/PID/cmdline is still matched against cmd_args (discovery/lifecycle.ts) */
	ev->args_len = 0;
	__u64 arg_start = BPF_CORE_READ(task, mm, arg_start);
	__u64 arg_end = BPF_CORE_READ(task, mm, arg_end);
	if (arg_end > arg_start) {
		__u32 n = arg_end - arg_start > OBI_MAX_ARGS ? OBI_MAX_ARGS : arg_end - arg_start;
		asm volatile("%[n] &= %[mask]" : [n] "+r"(n) : [mask] "i"(2 * OBI_MAX_ARGS - 1));
		if (n > 0 && n <= OBI_MAX_ARGS && bpf_probe_read_user(ev->args, n, (void *)arg_start) == 0)
			ev->args_len = n;
	}
	bpf_ringbuf_submit(ev, rb_flags(sizeof(*ev)));
	stat_inc(OBI_STAT_EVENTS);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int obi_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (!pid_traced(ptgid))
		return 0; /* an untraced parent */
	struct obi_proc_event ev = {};
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	if (ptgid == ctgid) {
		/* a new thread: user space lets it inherit its creator's request context */
		ev.hdr.type = OBI_EV_THREAD;
		ev.hdr.pid = ptgid;
		ev.ppid = BPF_CORE_READ(parent, pid);
		ev.tid = BPF_CORE_READ(child, pid);
		prop_thread_fork(((__u64)ptgid << 32) | ev.ppid, ((__u64)ctgid << 32) | ev.tid);
	} else {
		pid_trace(ctgid);
		prop_pid_fork(ptgid, ctgid);
		ev.hdr.type = OBI_EV_FORK;
		ev.hdr.pid = ctgid;
		ev.ppid = ptgid;
	}
	rb_emit(&ev, sizeof(ev));
	return 0;
}

struct purge_ctx {
	__u32 tgid;
	__u32 purged;
};

static long purge_conn(struct bpf_map *map, struct obi_conn_key *key, struct obi_conn_info *val, struct purge_ctx *pc)
{
	if (key->pid == pc->tgid) {
		bpf_map_delete_elem(map, key);
		pc->purged++;
	}
	return 0;
}

/* a process that exits without SSL_free or close leaves these behind: LRU maps would evict them
 * one day, but every per-process entry returns to its baseline at exit (issue 14) */
static long purge_ssl(struct bpf_map *map, struct obi_ssl_key *key, __u32 *val, struct purge_ctx *pc)
{
	if (key->pid == pc->tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

static long purge_h2(struct bpf_map *map, struct obi_h2_key *key, struct obi_h2_state *val, struct purge_ctx *pc)
{
	if (key->pid == pc->tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int obi_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	bpf_map_delete_elem(&inflight, &id);
	if (!pid_traced(tgid))
		return 0;
	if (prop_ids)
		bpf_map_delete_elem(&prop_threads, &id); /* this thread's server request, if any */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0; /* other threads of the group live on */
	pid_untrace(tgid);
	if (prop_ids)
		bpf_map_delete_elem(&prop_pids, &tgid);
	struct purge_ctx pc = { .tgid = tgid };
	bpf_for_each_map_elem(&conns, purge_conn, &pc, 0);
	bpf_for_each_map_elem(&ssl_fds, purge_ssl, &pc, 0);
	bpf_for_each_map_elem(&h2_conns, purge_h2, &pc, 0);
	struct obi_proc_event ev = {};
	ev.hdr.type = OBI_EV_EXIT;
	ev.hdr.pid = tgid;
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	ev.port = pc.purged;
	rb_emit(&ev, sizeof(ev));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_listen")
int obi_enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((id >> 32) != self_pid)
		inflight_save_fd(id, ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int obi_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 fd;
	if (inflight_take_fd(id, &fd) || ctx->ret != 0)
		return 0;
	__u8 udp = 0, unx = 0;
	struct sock *sk = fd_inet_stream_sock(fd, &udp, &unx);
	if (!sk || unx)
		return 0;
	struct obi_proc_event ev = {};
	ev.hdr.type = OBI_EV_LISTEN;
	ev.hdr.pid = id >> 32;
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	ev.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	rb_emit(&ev, sizeof(ev));
	return 0;
}
#endif
