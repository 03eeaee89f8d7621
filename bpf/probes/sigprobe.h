/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reads the SIGUSR1 disposition of a traced process that user space asked about (an entry in
 * `sigprobe`), from inside that process's own syscall: an event loop enters epoll_wait or
 * epoll_pwait whenever it idles. Lets the Node.js correlation decide whether SIGUSR1 would open
 * the inspector (Node's handler) or reach the application (libuv's handler, SA_RESTART), without
 * sending anything (docs/devdocs/correlation-node.md).
 */
#ifndef OBI_PROBES_SIGPROBE_H
#define OBI_PROBES_SIGPROBE_H
#include "../common/pidfilter.h"
#include "../maps/sigprobe.h"

#define OBI_SIGUSR1 10

static __always_inline int sigprobe_fill(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!pid_traced(tgid))
		return 0;
	struct obi_sig_probe *p = bpf_map_lookup_elem(&sigprobe, &tgid);
	if (!p || p->done)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sighand_struct *sh = BPF_CORE_READ(task, sighand);
	if (!sh)
		return 0;
	struct k_sigaction ka = {};
	if (bpf_probe_read_kernel(&ka, sizeof(ka), &sh->action[OBI_SIGUSR1 - 1]))
		return 0;
	p->handler = (__u64)ka.sa.sa_handler;
	p->flags = ka.sa.sa_flags;
	p->done = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_wait")
int obi_sigprobe_epoll_wait(void *ctx)
{
	return sigprobe_fill();
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait")
int obi_sigprobe_epoll_pwait(void *ctx)
{
	return sigprobe_fill();
}
#endif
