/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel <-> user-space wire contract: every record that crosses the ring
 * buffer, and the keys/values user space writes into maps.
 *
 * Rules (house rule 2): fixed-width types only, the event-type byte first,
 * explicit padding (compiled with -Wpadded), no packed structs. The TypeScript
 * decoder in src/abi/ is GENERATED from the BTF of these types
 * (scripts/gen-abi.ts); never mirror them by hand.
 */
#ifndef OBI_ABI_EVENTS_H
#define OBI_ABI_EVENTS_H

/* -Wpadded for the wire structs only (vmlinux.h is full of implicit padding) */
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic error "-Wpadded"
#endif

/*
 * Upper bound of the payload prefix copied per syscall. The real size is the
 * load-time tunable `capture_size` (<= this). A power of two so the verifier
 * can bound copies; 8 KiB covers any sane HTTP header block, and twice it (the
 * scratch room, see maps/scratch.h) stays under the 32 KiB per-CPU value limit.
 */
#define OBI_MAX_CAPTURE 8192
/* executable path carried by exec events; longer paths are truncated (user space re-reads /proc/PID/exe) */
#define OBI_MAX_PATH 256
#define OBI_MAX_ARGS 128 /* a power of two: the copy length is masked with OBI_MAX_ARGS - 1 */
/* iovecs walked per readv/writev/sendmsg/recvmsg (bounded loop): Node writes a chunked
 * response as 13+ iovecs; data past the 32nd is counted, not copied */
#define OBI_MAX_IOV 32
/* A ring-buffer drain reaches user space as ONE batch (native/src/ringbuf.c, read by
 * src/ingest/decode.ts): each record as [u32 length][record][zero pad to OBI_BATCH_ALIGN] */
#define OBI_BATCH_LEN_BYTES 4
#define OBI_BATCH_ALIGN 8
/* The PID filter bitmap (maps/pidmask.h): tgid t is bit t % OBI_PID_MASK_BITS of word
 * t / OBI_PID_MASK_BITS; words cover PID_MAX_LIMIT (4194304 on 64-bit): 512 KiB. The kernel and
 * user space (native mapBits, mmapped) change bits with atomic instructions only. */
#define OBI_PID_MASK_BITS 64
#define OBI_PID_MASK_WORDS 65536
/* bytes of an executable's base name compared by the exec admission rules (bpf/common/exec_admit.h);
 * longer names are compared on their first OBI_EXEC_NAME_LEN - 1 bytes, and user space confirms */
#define OBI_EXEC_NAME_LEN 32
/* set in obi_exec_rule_key.prefix_len: the rule is on the last (prefix_len & 255) bytes of the name */
#define OBI_EXEC_SUFFIX 256
/* the larger HTTP capture (`ebpf.buffer_sizes.http`, bpf/protocols/http1_large.h): bytes copied per
 * syscall at most (OBI's maximum for http), in records of at most OBI_MAX_CAPTURE bytes each */
#define OBI_LARGE_MAX 262144
#define OBI_LARGE_MAX_CHUNKS (OBI_LARGE_MAX / OBI_MAX_CAPTURE)
/* bytes of a unix socket path carried by connection events (sizeof sockaddr_un.sun_path) */
#define OBI_UNIX_PATH 108
/* obi_conn_tuple.family of a unix stream socket (AF_UNIX): local_addr/remote_addr hold the kernel
 * addresses of this end's and the peer's struct sock (8 bytes, host order), ports are 0 */
#define OBI_AF_UNIX 1

enum obi_event_type {
	OBI_EV_DATA = 1,   /* payload prefix of one socket read or write */
	OBI_EV_CONN = 2,   /* accept/connect: a connection with a known role */
	OBI_EV_CLOSE = 3,  /* close() of a tracked socket */
	OBI_EV_EXEC = 4,   /* any process exec'd (host-wide; rare) */
	OBI_EV_EXIT = 5,   /* a tracked process exited (thread group dead) */
	OBI_EV_FORK = 6,   /* a tracked process forked a child, now tracked too */
	OBI_EV_LISTEN = 7, /* any process started listening on a TCP port (host-wide; rare) */
	OBI_EV_THREAD =
		8, /* a thread of a traced process created a thread (correlation: the child inherits its context) */
	OBI_EV_STREAM = 9, /* `headers`: the ids the kernel gave an HTTP/2 client stream, sent in its HEADERS */
};

enum obi_direction {
	OBI_DIR_EGRESS = 0,  /* the process wrote/sent */
	OBI_DIR_INGRESS = 1, /* the process read/received */
};

enum obi_role {
	OBI_ROLE_UNKNOWN = 0, /* connection predates the agent: user space infers the role */
	OBI_ROLE_SERVER = 1,  /* accepted */
	OBI_ROLE_CLIENT = 2,  /* connected */
};

enum obi_data_flags {
	OBI_DATA_TLS = 1,      /* plaintext from a TLS library uprobe */
	OBI_DATA_SENDFILE = 2, /* sendfile(2): bytes counted, none captured */
	OBI_DATA_UDP = 4,      /* one UDP datagram (capture_udp; DNS-looking datagrams only) */
};

/* obi_data_event.ctx_flags: the trace context the kernel decided for the exchange this record
 * belongs to (context propagation `tcp`, bpf/probes/propagation.h; docs/devdocs/propagation.md) */
enum obi_ctx_flags {
	OBI_CTX_SET = 1,       /* trace_id and span_id are set: the kernel decided them at the request's start */
	OBI_CTX_REMOTE = 2,    /* server: parent_id (and trace_id) came from a received TCP option */
	OBI_CTX_INHERITED = 4, /* client: trace_id and parent_id came from the server request of the thread */
	OBI_CTX_HEADER = 8,    /* server: trace_id and parent_id came from a `traceparent` header in the first read */
};

/* the TCP option that carries a trace context (kind 25, unassigned by IANA): kind, length, 16-byte
 * trace id, 8-byte span id */
#define OBI_TCPOPT_KIND 25
#define OBI_TCPOPT_LEN 26

/* obi_prop_pid.mode: how the kernel decides the trace id of a process's client requests */
enum obi_prop_mode {
	OBI_PROP_OFF = 0,    /* no ids, no option (a runtime whose parent the kernel cannot know: Node.js) */
	OBI_PROP_ROOT = 1,   /* a fresh trace per client request (Go, event loops: user space links none either) */
	OBI_PROP_THREAD = 2, /* the server request open on the thread (one at a time), inherited by new threads */
	OBI_PROP_EVENT = 3,  /* the server request read on the thread immediately before (nginx) */
	OBI_PROP_IDLE = 4,   /* `headers` and a runtime whose parent the kernel cannot know (Node.js): a fresh
	                      * trace per client request made while the thread serves no request, else none */
};

/* bits of `prop_ctl[0]`, set by user space at run time (probes/inject.h, propagation.h) */
enum obi_prop_ctl {
	OBI_CTL_INJECT = 1, /* `headers`: new connections of selected processes get header injection */
	OBI_CTL_OPTION = 2, /* the TCP option is written and read (`tcp`, or the fallback of `headers`) */
};

/* indexes of the per-CPU `stats` array; user space sums over CPUs */
enum obi_stat {
	OBI_STAT_EVENTS = 0,         /* records submitted to the ring buffer */
	OBI_STAT_DROPPED = 1,        /* records lost: ring buffer full */
	OBI_STAT_WAKEUPS = 2,        /* forced wake-ups past the watermark */
	OBI_STAT_CONN_UNTRACKED = 3, /* conns map full: LRU evicted an entry */
	OBI_STAT_LARGE_RECORDS = 4,  /* records submitted by the larger HTTP capture (protocols/http1_large.h) */
	OBI_STAT_LARGE_BYTES = 5,    /* payload bytes it captured past the capture_size prefix */
	OBI_STAT_LARGE_DROPPED = 6,  /* its records lost: ring buffer full */
	OBI_STAT_PROP_WRITTEN = 7,   /* TCP segments that left with the trace-context option (kind 25) */
	OBI_STAT_PROP_READ = 8,      /* TCP segments that arrived with it (parsed by sockops) */
	OBI_STAT_PROP_USED = 9,      /* server requests whose parent was taken from a received option */
	OBI_STAT_HDR_INJECTED = 10,  /* HTTP/1 requests given a traceparent header (probes/inject.h) */
	OBI_STAT_HDR_PRESENT = 11,   /* request starts that already carried one: left as they are */
	OBI_STAT_HDR_BOUNDARY =
		12,              /* writes after a response that were not a request start (a body still being sent) */
	OBI_STAT_HDR_TLS = 13,   /* request starts that were TLS records (the header would be inside the encryption) */
	OBI_STAT_HDR_OTHER = 14, /* request starts not injected otherwise: not HTTP/1, a head over 1 KiB or split */
	OBI_STAT_HDR_EVICTED = 15, /* sockets taken out of the sockhash (a send that can wait for buffer space) */
	OBI_STAT_HDR_H2 = 16,      /* HTTP/2 HEADERS frames given a traceparent field (probes/inject.h) */
	OBI_STAT_HDR_H2_LOST =
		17, /* HTTP/2 connections whose frames sk_msg stopped following (a frame header split across writes) */
	/* socket reads and writes of muted connections (struct obi_conn_info): nothing copied or submitted */
	OBI_STAT_MUTED = 18,
	/* TLS library reads and writes the uprobes intercepted (probes/ssl.h, go_tls.h): of selected
	 * processes, and of other processes that run the same library file (the probes are attached
	 * per file; each such call pays the uprobe trap too, and the program returns at once) */
	OBI_STAT_TLS_CALLS = 19,
	OBI_STAT_TLS_CALLS_OTHER = 20,
	OBI_STAT__COUNT = 21,
};

/* A TCP connection (or a connected UDP socket) as seen from the traced process. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). */
struct obi_conn_tuple {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 local_port;  /* host byte order */
	__u16 remote_port; /* host byte order */
	__u16 family;      /* AF_INET or AF_INET6 */
	__u8 _pad[2];
};

struct obi_event_header {
	__u8 type; /* enum obi_event_type */
	__u8 _pad[3];
	__u32 pid;   /* thread-group id (user-visible PID) */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/* OBI_EV_DATA: followed by `captured` payload bytes (the record is sizeof + captured long). */
struct obi_data_event {
	struct obi_event_header hdr;
	__u64 sock_id; /* kernel address of the struct sock: the connection's identity while open */
	__u32 tid;
	__u32 fd;
	__u32 len;      /* bytes the syscall moved (>= captured) */
	__u32 captured; /* bytes of payload that follow */
	__u8 direction; /* enum obi_direction */
	__u8 role;      /* enum obi_role */
	__u8 flags;     /* enum obi_data_flags */
	__u8 ctx_flags; /* enum obi_ctx_flags */
	__u8 _pad[4];
	struct obi_conn_tuple tuple;
	/* OBI_DATA_TLS: the library's session handle (SSL*, gnutls_session_t), 0 otherwise. A TLS
	 * record whose socket is not known yet has sock_id 0 and fd ~0; user space pairs it with
	 * the connection by (pid, ssl_id) when a later record of the same session names the socket */
	__u64 ssl_id;
	/* OBI_CTX_SET: the ids of the exchange, as on the wire (trace id, span id in network order) */
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_id[8]; /* OBI_CTX_REMOTE or OBI_CTX_INHERITED: the parent span id; zero otherwise */
			   /* __u8 data[captured] follows */
};

/* OBI_EV_CONN and OBI_EV_CLOSE */
struct obi_conn_event {
	struct obi_event_header hdr;
	__u64 sock_id;
	__u32 tid;
	__u32 fd;
	__u8 role; /* enum obi_role */
	__u8 _pad[7];
	struct obi_conn_tuple tuple;
	/* a unix stream socket (tuple.family OBI_AF_UNIX): the path it is bound to or connected to
	 * (NUL-padded; an abstract name starts with a NUL byte), reported in the OBI_EV_CONN sent when
	 * its first payload passed the FastCGI gate (probes/sock_io.h); empty for inet sockets */
	char unix_path[OBI_UNIX_PATH];
	__u8 _pad2[4];
};

/* OBI_EV_STREAM: submitted from sk_msg before the write's data record (probes/inject.h) */
struct obi_stream_event {
	struct obi_event_header hdr;
	__u64 sock_id;
	__u32 tid;
	__u32 stream_id;
	__u8 ctx_flags; /* enum obi_ctx_flags */
	__u8 _pad[7];
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_id[8];
};

enum obi_proc_flags {
	OBI_PROC_ADMITTED = 1, /* EXEC: an exec admission rule matched; the kernel traces the process already */
};

/* OBI_EV_EXEC, OBI_EV_EXIT, OBI_EV_FORK, OBI_EV_LISTEN, OBI_EV_THREAD */
struct obi_proc_event {
	struct obi_event_header hdr;
	__u32 ppid;              /* parent tgid (EXEC, FORK); the creating thread's id (THREAD) */
	__u32 port;              /* listening port (LISTEN) */
	__u32 flags;             /* enum obi_proc_flags */
	__u32 tid;               /* the new thread's id (THREAD) */
	char path[OBI_MAX_PATH]; /* executable path (EXEC), NUL-terminated */
	__u32 args_len;          /* bytes of `args` filled (EXEC) */
	__u32 _pad2;
	__u8 args
		[OBI_MAX_ARGS]; /* the first bytes of argv, NUL-separated (EXEC): cmd_args of a process gone before /proc is read */
};

/* value of the `sigprobe` map: user space inserts a zeroed entry for a traced tgid; the next time
 * one of its threads enters epoll_wait/epoll_pwait the kernel copies that process's SIGUSR1
 * disposition (handler address and sa_flags) and sets `done`. Lets user space tell Node.js's own
 * inspector handler from an application's (libuv's adds SA_RESTART) without sending a signal
 * (docs/devdocs/correlation-node.md). */
struct obi_sig_probe {
	__u64 handler; /* sa_handler: 0 = SIG_DFL, 1 = SIG_IGN */
	__u64 flags;   /* sa_flags as the kernel holds them */
	__u32 done;    /* 1 once filled */
	__u32 _pad;
};

/* value of the `prop_pids` map: user space sets it for each traced process when propagation `tcp` is on */
struct obi_prop_pid {
	__u32 mode; /* enum obi_prop_mode */
	__u32 _pad;
};

/* value of the `prop_socks` map: the trace context of a socket's current exchange, keyed by
 * struct sock address (sock_id) */
struct obi_prop_sock {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_id[8];
	__u8 rx_trace_id[16]; /* the last option received on this socket */
	__u8 rx_span_id[8];
	__u8 last_dir;  /* enum obi_direction of the last data syscall, 0xff: none yet */
	__u8 flags;     /* enum obi_ctx_flags of the current exchange */
	__u8 rx_fresh;  /* 1: an option arrived on this socket (rx_* hold the last one) */
	__u8 tx;        /* 1: client: the option is written on the socket's segments */
	__u8 bound;     /* 1: event mode: connect() bound trace_id/parent_id for the first request */
	__u8 h2;        /* 1: an HTTP/2 connection: stream ids are decided in user space (no ids, no option) */
	__u8 inj;       /* 1: `headers`: the next sk_msg of this socket is a request start (ids decided) */
	__u8 evict;     /* 1: `headers`: take the socket out of the sockhash at its next segment */
	__u32 body_end; /* TCP sequence past the last request's body (Content-Length), when body_open */
	__u8 body_open; /* 1: body_end is set: writes before it are body bytes, not a request start */
	__u8 h2w;       /* 1: `headers` on an HTTP/2 client connection: sk_msg follows its frames */
	__u8 _pad2[2];
	__u32 h2_left; /* bytes of the frame (or preface) under way before the next frame header */
	__u32 _pad3;
};

/* value of the `prop_threads` map (key: pid_tgid): the server request a thread is serving */
struct obi_prop_thread {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u64 sock_id; /* the server socket of that request */
	__u32 open;    /* server requests started on the thread and not yet answered */
	__u8 overlap;  /* thread mode: two were open at once; no inheritance until the thread is idle */
	__u8 other_io; /* event mode: the thread did I/O on another socket after the request's read */
	__u8 nowire;   /* the request came over a unix socket (FastCGI) or HTTP/2: its trace is decided in user space,
	                * so the thread's client requests carry no ids and no option */
	__u8 _pad;
};

/* value of the `pids` filter map: a process user space selected (or a child of one) */
struct obi_pid_info {
	__u32 flags; /* reserved */
	__u32 _pad;
};

/* key of the `exec_rules` map: a fact about the base name of an executable that a selector
 * may select, derived by user space from the exe_path globs and languages (an exact base name,
 * a prefix or a suffix of it). A match admits the process into the PID filter at exec; user space then
 * confirms it with the full selector or revokes it. */
struct obi_exec_rule_key {
	__u32 prefix_len; /* 0: `name` is the whole base name; n: its first n bytes; n | OBI_EXEC_SUFFIX: its last n */
	char name[OBI_EXEC_NAME_LEN]; /* NUL-padded */
};

/* key of the `large_conns` map: an HTTP/1 connection of one process whose payloads the larger
 * capture copies: its socket (sock_id) or, for TLS plaintext, its session (SSL*) */
struct obi_large_key {
	__u64 id;
	__u32 pid;
	__u8 tls; /* 1: id is a TLS session */
	__u8 _pad[3];
};

/* key of the `conns` map: one entry per (process, fd) seen doing socket I/O */
struct obi_conn_key {
	__u32 pid;
	__u32 fd;
};

/* value of the `conns` map: what the kernel knows of one fd of a traced process. The kernel
 * writes it; user space only sets `muted` (lookup, then update of an existing entry whose
 * sock_id is still the connection's) */
struct obi_conn_info {
	__u64 sock_id; /* 0: the fd is not an inet stream socket (negative cache) */
	struct obi_conn_tuple tuple;
	__u8 role;      /* enum obi_role */
	__u8 tls;       /* a TLS library uprobe owns this socket: its raw (encrypted) bytes are not captured */
	__u8 udp;       /* a UDP socket (capture_udp): each read or write is one datagram */
	__u8 h2;        /* began with the HTTP/2 client preface: the kernel follows its frames (protocols/http2.h) */
	__u8 unix_gate; /* enum obi_unix_gate (maps/conns.h): a unix stream socket waiting for its first payload */
	/* 1: user space found no protocol it knows on this connection: its socket reads and writes
	 * are not captured any more (OBI_STAT_MUTED counts them); TLS plaintext of the session, if
	 * any, still is, and so is its close */
	__u8 muted;
	__u8 _pad[2];
};

#ifdef __clang__
#pragma clang diagnostic pop
#endif
#endif /* OBI_ABI_EVENTS_H */
