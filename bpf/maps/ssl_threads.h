/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_SSL_THREADS_H
#define OBI_MAPS_SSL_THREADS_H

/* what a TLS library call in progress does (saved at entry for the return probe) */
enum obi_ssl_op {
	OBI_SSL_OP_NONE = 0,
	OBI_SSL_OP_READ = 1,        /* SSL_read: int return = bytes */
	OBI_SSL_OP_READ_EX = 2,     /* SSL_read_ex: 1/0 return, bytes in *size_out */
	OBI_SSL_OP_WRITE = 3,       /* SSL_write */
	OBI_SSL_OP_WRITE_EX = 4,    /* SSL_write_ex */
	OBI_SSL_OP_GNUTLS_RECV = 5, /* gnutls_record_recv: ssize_t return = bytes */
	OBI_SSL_OP_GNUTLS_SEND = 6, /* gnutls_record_send */
};

/*
 * Per-thread TLS state, in task-local storage: freed with the thread by the
 * kernel, so nothing keyed by tid has to be purged at exit.
 */
struct obi_ssl_thread {
	__u64 ssl;      /* session of the call in progress (SSL*, gnutls_session_t); 0: none */
	__u64 buf;      /* its plaintext buffer */
	__u64 size_out; /* SSL_*_ex: where the library stores the byte count */
	__u64 pending; /* a session whose write touched no socket (memory BIO, Node.js): the next socket write of this thread is its socket */
	__u32 rd_fd;   /* last socket this thread read: a memory-BIO SSL_read decrypts what it read */
	__u8 op;       /* enum obi_ssl_op of the call in progress */
	__u8 rd_valid; /* rd_fd is set */
	__u8 skip;     /* GnuTLS internal receives of other record types in progress: their returns are not data */
	__u8 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct obi_ssl_thread);
} ssl_threads SEC(".maps");
#endif
