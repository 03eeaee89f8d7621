/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Context propagation `headers` for HTTP/2 and gRPC (docs/devdocs/propagation.md): part of probes/inject.h,
 * which includes it after its helpers (inj_hex, inj_scratch) and before its sk_msg program. */
#ifndef OBI_PROBES_INJECT_H2_H
#define OBI_PROBES_INJECT_H2_H
#define OBI_H2_PREFACE 24
/* the HTTP/2 client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
static __always_inline int inj_is_preface(struct obi_inj_scratch *s)
{
	const char p[OBI_H2_PREFACE + 1] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#pragma clang loop unroll(full)
	for (int k = 0; k < OBI_H2_PREFACE; k++)
		if (s->data[k] != (__u8)p[k])
			return 0;
	return 1;
}

/*
 * HTTP/2 (and gRPC): a literal header field without indexing, new name, none Huffman-coded,
 * appended to the header block of each request HEADERS frame (END_HEADERS set, not PADDED, an odd
 * stream id, fitting 16 KiB): 0x00, 11, "traceparent", 55, "00-<trace>-<span>-01". The receiver's
 * HPACK table is untouched; the frame length grows by 69. The ids are the stream's, decided here by
 * the client rules (prop_decide) and reported to user space in an OBI_EV_STREAM record before the
 * write's data record, so that the stream's span has them.
 */
#define OBI_HP_LEN 69
#define OBI_H2_MAX_FRAME 16384
struct inj_h2 {
	struct sk_msg_md *msg;
	__u64 id;
	__u64 sock_id;
	__u32 mode;
	__u32 off;  /* the next frame header's offset in the message */
	__u32 size; /* the message's size (grows with each insert) */
	__u8 done;  /* the message ended at a frame boundary or inside a frame's payload */
};

/* one request HEADERS frame at `off` (its payload ends at `end`): 1 when the field went in */
static __always_inline int inj_h2_headers(struct inj_h2 *w, __u32 off, __u32 len, __u32 end, __u32 sid)
{
	__u32 zero = 0;
	struct obi_inj_scratch *s = bpf_map_lookup_elem(&inj_scratch, &zero);
	if (!s)
		return 0;
	struct obi_stream_event ev = {};
	__u8 flags = prop_decide(w->id, w->mode, 0, ev.trace_id, ev.span_id, ev.parent_id);
	if (!flags)
		return 0; /* the stream's parent is user space's to find: no ids, no field */
	s->line[0] = 0x00;
	s->line[1] = 11;
	__builtin_memcpy(s->line + 2, "traceparent", 11);
	s->line[13] = 55;
	__builtin_memcpy(s->line + 14, "00-", 3);
	inj_hex(s->line + 17, ev.trace_id, 16);
	s->line[49] = '-';
	inj_hex(s->line + 50, ev.span_id, 8);
	__builtin_memcpy(s->line + 66, "-01", 3);
	struct sk_msg_md *msg = w->msg;
	if (bpf_msg_push_data(msg, end, OBI_HP_LEN, 0))
		return 0;
	if (bpf_msg_pull_data(msg, end, end + OBI_HP_LEN, 0))
		goto undo;
	__u8 *d = (void *)(long)msg->data;
	if ((void *)(d + OBI_HP_LEN) > (void *)(long)msg->data_end)
		goto undo;
	__builtin_memcpy(d, s->line, OBI_HP_LEN);
	if (bpf_msg_pull_data(msg, off, off + 9, 0))
		goto undo;
	d = (void *)(long)msg->data;
	if ((void *)(d + 9) > (void *)(long)msg->data_end)
		goto undo;
	__u32 nlen = len + OBI_HP_LEN;
	d[0] = nlen >> 16;
	d[1] = nlen >> 8;
	d[2] = nlen;
	ev.hdr.type = OBI_EV_STREAM;
	ev.hdr.pid = w->id >> 32;
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	ev.sock_id = w->sock_id;
	ev.tid = (__u32)w->id;
	ev.stream_id = sid;
	ev.ctx_flags = flags;
	rb_emit(&ev, sizeof(ev));
	stat_inc(OBI_STAT_HDR_H2);
	return 1;
undo:
	bpf_msg_pop_data(msg, end, OBI_HP_LEN, 0);
	return 0;
}

/* one frame header: a request HEADERS frame gets the field; the walk goes on past the payload */
static long inj_h2_step(__u32 i, struct inj_h2 *w)
{
	struct sk_msg_md *msg = w->msg;
	__u32 off = w->off, size = w->size;
	if (off >= size) {
		w->done = 1;
		return 1;
	}
	if (off + 9 > size || bpf_msg_pull_data(msg, off, off + 9, 0))
		return 1; /* a frame header split across writes: not followed further */
	__u8 *d = (void *)(long)msg->data;
	if ((void *)(d + 9) > (void *)(long)msg->data_end)
		return 1;
	__u32 len = ((__u32)d[0] << 16) | ((__u32)d[1] << 8) | d[2];
	__u8 type = d[3], flags = d[4];
	__u32 sid = (((__u32)d[5] & 0x7f) << 24) | ((__u32)d[6] << 16) | ((__u32)d[7] << 8) | d[8];
	__u32 end = off + 9 + len;
	/* HEADERS (1), END_HEADERS (4), not PADDED (8), a client-initiated stream */
	if (type == 1 && (flags & 4) && !(flags & 8) && (sid & 1) && len + OBI_HP_LEN <= OBI_H2_MAX_FRAME &&
	    end <= size && inj_h2_headers(w, off, len, end, sid)) {
		end += OBI_HP_LEN;
		w->size = size + OBI_HP_LEN;
	}
	w->off = end;
	return 0;
}

/* a write on an HTTP/2 client connection: its frames from where the last write's frame ended */
static __always_inline void inj_h2_walk(struct sk_msg_md *msg, struct obi_prop_sock *ps, __u64 sock_id)
{
	__u32 size = msg->size;
	__u32 left = ps->h2_left;
	if (left >= size) {
		ps->h2_left = left - size;
		return;
	}
	struct inj_h2 w = {
		.msg = msg, .id = bpf_get_current_pid_tgid(), .sock_id = sock_id, .off = left, .size = size
	};
	w.mode = prop_mode(w.id >> 32);
	if (w.mode == OBI_PROP_OFF || (w.mode == OBI_PROP_IDLE && prop_busy(w.id)))
		w.mode = OBI_PROP_OFF;
	bpf_loop(64, inj_h2_step, &w, 0);
	if (!w.done) {
		ps->h2w = 0; /* lost: no more fields on this connection (none can land in the wrong place) */
		stat_inc(OBI_STAT_HDR_H2_LOST);
		return;
	}
	ps->h2_left = w.off - w.size;
}
#endif
