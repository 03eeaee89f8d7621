/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Load-time constants: set by user space between open and load, never by recompiling. */
#ifndef OBI_COMMON_TUNABLES_H
#define OBI_COMMON_TUNABLES_H
/* bytes of payload copied per syscall (<= OBI_MAX_CAPTURE) */
const volatile __u32 capture_size = 1024;
/* ring-buffer fill (bytes) past which a producer forces a wake-up of user space */
const volatile __u64 wakeup_bytes = 1024 * 1024;
/* capture UDP datagrams that look like DNS messages (instrumentation `dns`); 0: TCP only */
const volatile __u8 capture_udp = 0;
/* capture unix stream sockets whose first payload is a FastCGI BEGIN_REQUEST (nginx -> PHP-FPM) */
const volatile __u8 capture_unix = 0;
/* the agent's own tgid: never traced, never reported */
const volatile __u32 self_pid = 0;
/* exec admission: bit n set when `exec_rules` holds prefix rules of length n (1..31) */
const volatile __u32 exec_prefix_lens = 0;
/* exec admission: bit n set when `exec_rules` holds suffix rules of length n (1..31) */
const volatile __u32 exec_suffix_lens = 0;
/* larger capture of HTTP/1 connections (`ebpf.buffer_sizes.http`, only when an extractor that reads
 * bodies is on): bytes copied per syscall (<= OBI_LARGE_MAX); 0: off, the verifier drops the path */
const volatile __u32 large_http = 0;
/* context propagation (probes/propagation.h): 1 when the kernel decides each request's ids (`tcp`,
 * `headers` or both); 0: the verifier drops the path */
const volatile __u8 prop_ids = 0;
/* `tcp`: the sockops program writes the client's ids into a TCP option and reads it on servers */
const volatile __u8 prop_opt = 0;
/* `headers`: client sockets of selected processes go into `prop_sockmap`, whose sk_msg program
 * inserts a traceparent header into outgoing HTTP/1 requests (probes/inject.h) while `prop_ctl`
 * allows it (the start-up self-test passed) */
const volatile __u8 prop_hdr = 0;
/* HTTP/2 body capture (same condition as large_http): bytes of each stream's body copied per
 * direction, DATA payloads past the capture prefix included (<= OBI_LARGE_MAX); 0: off, the
 * verifier drops the path (protocols/http2.h) */
const volatile __u32 h2_body_bytes = 0;
#endif
