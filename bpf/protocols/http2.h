/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2-aware capture. A payload prefix alone loses every frame header past it: a HEADERS frame
 * (trailers) after a large body in the same write never reaches user space, and its HPACK
 * insertions desynchronise the decoder for the rest of the connection. So, on connections that
 * began with the client preface (seen by this probe), the kernel follows the frames: it keeps,
 * per connection and direction, where the next frame header lies, walks the headers of each
 * payload (bounded, with bpf_loop) and splits the record at every frame past the captured
 * region into *pieces*: consecutive OBI_EV_DATA records of the same syscall, each a captured
 * head and an uncaptured rest. A piece starts at a frame header and captures the whole frame for
 * HEADERS, CONTINUATION and the control frames (up to capture_size), the 9-byte header for DATA.
 * User space sees ordinary segments whose frame headers are all captured.
 * A header past the bound of the walk or an impossible one stops the following for that
 * direction (user space then resynchronises on its own, as without this).
 * Body capture (opt-in: `h2_body_bytes`, set only while an extractor that reads bodies is on):
 * the first h2_body_bytes of each stream's body per direction are copied too, DATA frames past
 * the prefix included, as further pieces of at most OBI_MAX_CAPTURE bytes; a DATA frame cut by
 * the end of a payload is continued in the next one (`b_left`), and one whose header was cut
 * has its body copied from where the header completes. Streams are followed in
 * OBI_H2_BODY_SLOTS slots per direction (freed at END_STREAM; a fifth concurrent stream takes
 * a slot over, and its predecessor's count restarts). Counted as the larger capture's records
 * and bytes (OBI_STAT_LARGE_*).
 */
#ifndef OBI_PROTOCOLS_HTTP2_H
#define OBI_PROTOCOLS_HTTP2_H
#include "../common/copy.h"
#include "../common/ringbuf.h"
#include "../maps/inflight.h"
#include "../common/tunables.h"
#include "../maps/conns.h"
#include "../maps/h2.h"
#include "../maps/scratch.h"

/* frames walked per payload: a 1 MiB write of 16 KiB DATA frames holds 65 */
#define OBI_H2_MAX_FRAMES 512
#define OBI_H2_FRAME_HEADER 9
#define OBI_H2_PREFACE_LEN 24
/* a frame type above this is not one RFC 9113 defines: we stop following */
#define OBI_H2_MAX_TYPE 9

enum obi_io_kind_h2 { OBI_H2_TLS_DIR = 2 };

/* one step of a transfer of v->io_n bytes at payload offset v->io_off, to the scratch record at
 * io_dst (copy) or to v->hdr at io_dst (header read): moves the cursor to the run holding
 * io_off, or copies what that run holds */
static long h2_io_run(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	if (!v || v->io_got >= v->io_n || v->cur_i >= v->cnt)
		return 1;
	if (!v->cur_valid) {
		if (v->iovp == 0) {
			v->cur_base = v->base0;
			v->cur_len = v->len0;
		} else {
			struct iovec iov = {};
			if (bpf_probe_read_user(&iov, sizeof(iov),
			                        (void *)(v->iovp + (__u64)v->cur_i * sizeof(struct iovec))) != 0)
				return 1;
			v->cur_base = (__u64)iov.iov_base;
			v->cur_len = iov.iov_len;
		}
		v->cur_valid = 1;
	}
	__u64 rel = v->io_off - v->cur_start;
	if (v->io_off < v->cur_start)
		return 1; /* behind the cursor: runs are visited in increasing offset only */
	if (rel >= v->cur_len) {
		v->cur_start += v->cur_len;
		v->cur_i++;
		v->cur_valid = 0;
		return 0;
	}
	__u32 left = v->io_n - v->io_got;
	__u32 k = v->cur_len - rel < left ? v->cur_len - rel : left;
	__u64 src = v->cur_base + rel;
	if (v->io_to_hdr) {
		__u32 d = (v->io_dst + v->io_got) & 15;
		k &= 15;
		if (bpf_probe_read_user(&v->hdr[d], k, (void *)src) != 0)
			return 1;
	} else {
		struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s || copy_user(s, v->io_dst + v->io_got, src, k) != k)
			return 1;
	}
	v->io_got += k;
	v->io_off += k;
	return 0;
}

/* bound of the steps of one transfer: runs skipped plus runs copied */
#define OBI_H2_IO_STEPS 4096

static __always_inline __u32 h2_io(struct obi_h2_iovs *v, __u32 dst, __u32 off, __u32 n, __u8 to_hdr)
{
	if (off < v->cur_start) {
		v->cur_i = 0;
		v->cur_start = 0;
		v->cur_valid = 0;
	}
	v->io_off = off;
	v->io_n = n;
	v->io_got = 0;
	v->io_dst = dst;
	v->io_to_hdr = to_hdr;
	bpf_loop(OBI_H2_IO_STEPS, h2_io_run, 0, 0);
	return v->io_got;
}

/* close the current piece at `at` and start one there capturing `need` bytes, at most `limit` */
static __always_inline void h2_piece_n(struct obi_scratch *s, struct obi_h2_iovs *v, __u32 at, __u32 need, __u32 limit)
{
	__u32 pstart = v->w_pstart;
	if (at > pstart) {
		__u32 plen = at - pstart;
		__u32 cap = v->w_pcap < plen ? v->w_pcap : plen;
		cap &= 2 * OBI_MAX_CAPTURE - 1;
		s->ev.len = plen;
		s->ev.captured = cap;
		rb_emit(s, sizeof(s->ev) + cap);
	}
	__u32 n = need < limit ? need : limit;
	if (n > v->w_ret - at)
		n = v->w_ret - at;
	v->w_pstart = at;
	v->w_pcap = h2_io(v, 0, at, n, 0);
}

/* close the current piece at `at` and start one there capturing `need` bytes (up to capture_size) */
static __always_inline void h2_piece(struct obi_scratch *s, struct obi_h2_iovs *v, __u32 at, __u32 need)
{
	h2_piece_n(s, v, at, need, capture_size);
}

/* body capture: bytes of the DATA frame of stream `sid` (flags, payload length `len`) to copy,
 * counted against the stream's budget in the walk's slots */
static __always_inline __u32 h2_body_take(struct obi_h2_iovs *v, __u32 sid, __u8 flags, __u32 len)
{
	int slot = -1, free = -1;
#pragma clang loop unroll(full)
	for (int k = 0; k < OBI_H2_BODY_SLOTS; k++) {
		if (v->b_sid[k] == sid)
			slot = k;
		else if (v->b_sid[k] == 0 && free < 0)
			free = k;
	}
	if (slot < 0) {
		slot = free >= 0 ? free : (int)(sid & (OBI_H2_BODY_SLOTS - 1));
		v->b_sid[slot & (OBI_H2_BODY_SLOTS - 1)] = sid;
		v->b_done[slot & (OBI_H2_BODY_SLOTS - 1)] = 0;
	}
	slot &= OBI_H2_BODY_SLOTS - 1;
	__u32 done = v->b_done[slot];
	__u32 room = done < h2_body_bytes ? h2_body_bytes - done : 0;
	__u32 take = len < room ? len : room;
	v->b_done[slot] = done + take;
	if (flags & 1) /* END_STREAM: the slot is free again */
		v->b_sid[slot] = 0;
	return take;
}

static long h2_step(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	if (!s || !v)
		return 1;
	__u64 off64 = v->w_off;
	__u32 ret = v->w_ret;
	if (h2_body_bytes) {
		/* body bytes wanted past what the current piece captured: one more piece */
		__u64 cov = (__u64)v->w_pstart + v->w_pcap;
		__u64 end = v->b_end < ret ? v->b_end : ret;
		if (cov < end) {
			__u32 at = cov;
			__u32 n = end - cov < OBI_MAX_CAPTURE ? end - cov : OBI_MAX_CAPTURE;
			h2_piece_n(s, v, at, n, OBI_MAX_CAPTURE);
			v->l_bytes += v->w_pcap;
			stat_inc(OBI_STAT_LARGE_RECORDS);
			if (v->w_pcap != n) {
				v->b_end = 0; /* the bytes could not be read: give up this body's rest */
			}
			return 0;
		}
	}
	if (off64 >= ret) {
		v->w_skip = off64 - ret;
		v->w_stop = 1;
		return 1;
	}
	__u32 off = off64;
	__u32 avail = ret - off;
	if (avail < OBI_H2_FRAME_HEADER) {
		/* a header cut by the end of the payload: keep its bytes visible and remembered */
		if (h2_io(v, 0, off, avail, 1) != avail) {
			v->w_stop = 2;
			return 1;
		}
		if ((__u64)off + avail > (__u64)v->w_pstart + v->w_pcap)
			h2_piece(s, v, off, avail);
		v->w_hdr_len = avail;
		v->w_skip = 0;
		v->w_stop = 1;
		return 1;
	}
	if (h2_io(v, 0, off, OBI_H2_FRAME_HEADER, 1) != OBI_H2_FRAME_HEADER) {
		v->w_stop = 2;
		return 1;
	}
	__u32 len = ((__u32)v->hdr[0] << 16) | ((__u32)v->hdr[1] << 8) | v->hdr[2];
	__u8 type = v->hdr[3];
	if (type > OBI_H2_MAX_TYPE) {
		v->w_stop = 2;
		return 1;
	}
	__u32 total = OBI_H2_FRAME_HEADER + len;
	__u32 need = type == 0 ? OBI_H2_FRAME_HEADER : total;
	if (h2_body_bytes && type == 0) {
		__u32 sid = (((__u32)v->hdr[5] & 0x7f) << 24) | ((__u32)v->hdr[6] << 16) | ((__u32)v->hdr[7] << 8) |
		            v->hdr[8];
		__u32 take = h2_body_take(v, sid, v->hdr[4], len);
		if (take > 0) {
			v->b_end = (__u64)off + OBI_H2_FRAME_HEADER + take;
			need = OBI_H2_FRAME_HEADER + take; /* header and body in one piece, as far as it goes */
		}
	}
	if ((__u64)off + need > (__u64)v->w_pstart + v->w_pcap)
		h2_piece(s, v, off, need);
	v->w_off = off64 + total;
	return 0;
}

/* describe the payload: one buffer, or the iovecs of readv/writev/recvmsg/sendmsg (read lazily) */
static __always_inline int h2_runs(struct obi_h2_iovs *v, __u8 kind, __u64 ptr, __u32 count, __u32 ret)
{
	v->cur_i = 0;
	v->cur_start = 0;
	v->cur_valid = 0;
	if (kind == OBI_IO_BUF) {
		v->iovp = 0;
		v->base0 = ptr;
		v->len0 = ret;
		v->cnt = 1;
		return 0;
	}
	if (kind == OBI_IO_MSG) {
		struct user_msghdr mh = {};
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)ptr) != 0)
			return -1;
		v->iovp = (__u64)mh.msg_iov;
		v->cnt = mh.msg_iovlen;
	} else if (kind == OBI_IO_IOV) {
		v->iovp = ptr;
		v->cnt = count;
	} else {
		return -1;
	}
	return v->iovp == 0 ? -1 : 0;
}

static __always_inline int h2_is_preface(struct obi_scratch *s, __u32 got)
{
	if (got < OBI_H2_PREFACE_LEN)
		return 0;
	const char p[OBI_H2_PREFACE_LEN] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r";
#pragma clang loop unroll(full)
	for (int i = 0; i < OBI_H2_PREFACE_LEN - 1; i++)
		if (s->data[i] != (__u8)p[i])
			return 0;
	return s->data[OBI_H2_PREFACE_LEN - 1] == '\n';
}

/*
 * The walk of one payload of a followed direction, after h2_runs described it: a global
 * function, so the verifier checks it once rather than inlined in every syscall's program
 * (which doubled the load time). It finds the scratch record, the runs and the state itself.
 */
__attribute__((noinline)) int h2_walk_payload(__u64 id, __u64 pid_dir, __u32 ret, __u32 got)
{
	__u32 zero = 0;
	struct obi_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	struct obi_h2_key key = { .id = id, .pid = pid_dir >> 8, .dir = pid_dir & 0xff };
	struct obi_h2_state *st = bpf_map_lookup_elem(&h2_conns, &key);
	if (!s || !v || !st)
		return 0;
	__u64 start = 0;
	start = st->skip;
	/* body capture: a DATA frame cut by the last payload's end continues here, its wanted bytes first */
	__u64 body_end = st->b_left <= start ? st->b_left : start;
	if (h2_body_bytes) {
		v->l_bytes = 0;
#pragma clang loop unroll(full)
		for (int k = 0; k < OBI_H2_BODY_SLOTS; k++) {
			v->b_sid[k] = st->b_sid[k];
			v->b_done[k] = st->b_done[k];
		}
	}
	if (st->hdr_len > 0 && st->hdr_len < OBI_H2_FRAME_HEADER) {
		/* the header cut by the last payload's end: complete it from this one */
		__u32 have = st->hdr_len;
		__u32 need = OBI_H2_FRAME_HEADER - have;
#pragma clang loop unroll(full)
		for (int i = 0; i < OBI_H2_FRAME_HEADER - 1; i++)
			v->hdr[i] = st->hdr[i];
		if (need > ret) {
			/* still not whole: remember what there is */
			if (h2_io(v, have, 0, ret, 1) == ret) {
				st->hdr_len = have + ret;
#pragma clang loop unroll(full)
				for (int i = 0; i < OBI_H2_FRAME_HEADER; i++)
					st->hdr[i] = v->hdr[i];
			} else {
				bpf_map_delete_elem(&h2_conns, &key);
			}
			rb_emit(s, sizeof(s->ev) + (got & (2 * OBI_MAX_CAPTURE - 1)));
			return 0;
		}
		if (h2_io(v, have, 0, need, 1) != need || v->hdr[3] > OBI_H2_MAX_TYPE) {
			bpf_map_delete_elem(&h2_conns, &key);
			rb_emit(s, sizeof(s->ev) + (got & (2 * OBI_MAX_CAPTURE - 1)));
			return 0;
		}
		__u32 len = ((__u32)v->hdr[0] << 16) | ((__u32)v->hdr[1] << 8) | v->hdr[2];
		start = need + len;
		body_end = 0;
		if (h2_body_bytes && v->hdr[3] == 0) {
			/* a DATA frame whose header was cut: its body starts here */
			__u32 sid = (((__u32)v->hdr[5] & 0x7f) << 24) | ((__u32)v->hdr[6] << 16) |
			            ((__u32)v->hdr[7] << 8) | v->hdr[8];
			body_end = need + h2_body_take(v, sid, v->hdr[4], len);
		}
	}
	v->w_off = start;
	v->w_ret = ret;
	v->w_pstart = 0;
	v->w_pcap = got;
	v->w_skip = 0;
	v->w_hdr_len = 0;
	v->w_stop = 0;
	v->b_end = body_end;
	bpf_loop(OBI_H2_MAX_FRAMES, h2_step, 0, 0);
	/* s was reused by the pieces: it holds the current one */
	__u32 pstart = v->w_pstart;
	if (ret > pstart) {
		__u32 plen = ret - pstart;
		__u32 cap = v->w_pcap < plen ? v->w_pcap : plen;
		cap &= 2 * OBI_MAX_CAPTURE - 1;
		s->ev.len = plen;
		s->ev.captured = cap;
		rb_emit(s, sizeof(s->ev) + cap);
	}
	if (v->w_stop != 1) {
		bpf_map_delete_elem(&h2_conns, &key); /* lost, or more frames than the walk's bound */
		return 0;
	}
	st->skip = v->w_skip;
	if (h2_body_bytes) {
		st->b_left = v->b_end > ret ? v->b_end - ret : 0;
#pragma clang loop unroll(full)
		for (int k = 0; k < OBI_H2_BODY_SLOTS; k++) {
			st->b_sid[k] = v->b_sid[k];
			st->b_done[k] = v->b_done[k];
		}
		if (v->l_bytes > 0)
			stat_add(OBI_STAT_LARGE_BYTES, v->l_bytes);
	}
	__u8 hl = v->w_hdr_len;
	st->hdr_len = hl;
	if (hl > 0) {
#pragma clang loop unroll(full)
		for (int i = 0; i < OBI_H2_FRAME_HEADER; i++)
			st->hdr[i] = v->hdr[i];
	}
	return 0;
}

/*
 * Submit the record assembled in `s` (its prefix `got` bytes of a `ret`-byte payload): as one
 * record, or, on a followed HTTP/2 connection, as pieces (see above). `id` names the connection
 * direction's owner (sock_id, or the TLS session with `tls` set).
 */
/* protocols/http1_large.h: the larger capture of HTTP/1 connections; 1 when it submitted the record */
__attribute__((noinline)) int large_capture(__u64 id, __u64 ptr, __u64 ret_got, __u64 pid_count, __u32 kind_tls);

static __always_inline void h2_submit(struct obi_scratch *s, struct obi_conn_info *ci, __u64 id, __u32 tgid, __u8 dir,
                                      __u8 tls, __u32 ret, __u32 got, __u8 kind, __u64 ptr, __u32 count)
{
	struct obi_h2_key key = { .id = id, .pid = tgid, .dir = dir | (tls ? OBI_H2_TLS_DIR : 0) };
	struct obi_h2_state *st = 0;
	/* a socket says whether it is followed (no lookup for the others); a TLS session may not know
	 * its socket yet at its first records, so its own entry is looked up */
	if (tls || (ci && ci->h2))
		st = bpf_map_lookup_elem(&h2_conns, &key);
	if (!st && (tls || ci) && h2_is_preface(s, got)) {
		/* a new HTTP/2 connection: frames follow the preface; the peer's first byte is a frame */
		struct obi_h2_state fresh = {};
		struct obi_h2_key other = key;
		other.dir = (dir ^ 1) | (tls ? OBI_H2_TLS_DIR : 0);
		bpf_map_update_elem(&h2_conns, &other, &fresh, BPF_ANY);
		fresh.skip = OBI_H2_PREFACE_LEN;
		bpf_map_update_elem(&h2_conns, &key, &fresh, BPF_ANY);
		if (ci && !tls)
			ci->h2 = 1;
		st = bpf_map_lookup_elem(&h2_conns, &key);
	}
	if (!st) {
		if (large_http && large_capture(id, ptr, ((__u64)ret << 32) | got, ((__u64)tgid << 32) | count,
		                                kind | (tls ? 0x100 : 0)))
			return;
		rb_emit(s, sizeof(s->ev) + (got & (2 * OBI_MAX_CAPTURE - 1)));
		return;
	}
	__u32 zero = 0;
	struct obi_h2_iovs *v = bpf_map_lookup_elem(&h2_iovs, &zero);
	if (!v || h2_runs(v, kind, ptr, count, ret) != 0) {
		bpf_map_delete_elem(&h2_conns, &key);
		rb_emit(s, sizeof(s->ev) + (got & (2 * OBI_MAX_CAPTURE - 1)));
		return;
	}
	h2_walk_payload(id, ((__u64)tgid << 8) | key.dir, ret, got);
}
#endif
