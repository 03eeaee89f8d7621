/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Every map size in one place, each with its rationale. */
#ifndef OBI_MAPS_SIZING_H
#define OBI_MAPS_SIZING_H

/* processes that may be traced at once: selected services plus their children (nginx/gunicorn workers) */
#define OBI_MAX_PIDS 8192
/* (pid, fd) pairs remembered: open sockets of traced processes plus negative (not-a-socket) entries;
 * OBI sizes for ~10k concurrent requests per process; LRU so a leak cannot fill it */
#define OBI_MAX_CONNS 65536
/* syscalls in flight between sys_enter and sys_exit: one per thread of a traced process */
#define OBI_MAX_INFLIGHT 16384
/* default ring buffer: 4 MiB held 10 ms at 156k events/s with 9x headroom (docs/devdocs/kernel.md);
 * user space resizes it before load (ebpf.ring_buffer_size) */
#define OBI_RINGBUF_DEFAULT (4 * 1024 * 1024)
/* (process, TLS session) -> socket fd: one per open TLS connection of traced processes (nginx's
 * default worker_connections is 512 per worker); LRU because a session freed by a path we do not
 * probe (SSL_free not called, the process killed) must not pin an entry forever */
#define OBI_MAX_SSL 16384
/* HTTP/2 connection directions whose frames the kernel follows (two per connection and process); LRU: a
 * connection that ends unseen must not pin an entry */
#define OBI_MAX_H2 16384
/* Go crypto/tls calls in flight: one per goroutine blocked in (*tls.Conn).Read, so
 * about one per open TLS connection of traced Go processes; LRU */
#define OBI_MAX_GO_CALLS 16384
/* exec admission facts (base names and prefixes) derived from the exe_path / languages selectors:
 * a few per selector; brace alternatives expand to at most 64 per glob */
#define OBI_MAX_EXEC_RULES 1024
/* HTTP/1 connections (sockets or TLS sessions) the larger capture follows: as many as TLS sessions;
 * LRU: a connection that ends unseen must not pin an entry */
#define OBI_MAX_LARGE 16384

/* processes whose SIGUSR1 disposition user space asked for and not yet collected: Node.js processes
 * being attached (docs/devdocs/correlation-node.md), a handful at a time */
#define OBI_MAX_SIGPROBES 256

/* context propagation `tcp` (probes/propagation.h): the current exchange of each socket of traced
 * processes (as many as connections), and the server request each of their threads serves; LRU: a
 * socket or thread that ends unseen must not pin an entry */
#define OBI_MAX_PROP_SOCKS 65536
#define OBI_MAX_PROP_THREADS 16384
#endif
