/*
 * Ring-buffer drains: a libuv timer (every `intervalMs`) plus a poll on the
 * ring's epoll fd (the producers' forced wake-ups past the watermark) call
 * ring_buffer__consume(); every record of one drain is appended to one batch
 * ([u32 length][record][pad to 8]) and handed to JavaScript as ONE Buffer in
 * ONE call. Never one JS call per event.
 *
 * The batch is one JavaScript Buffer the ring keeps for its life (batch.c): records are
 * copied from the ring straight into its memory, and the callback gets that Buffer and
 * the drain's length. No Buffer is allocated per drain (at 100 drains a second of up to
 * megabytes each, those were V8's ArrayBuffer churn), and the batch is valid only during
 * the call: the next drain writes over it.
 *
 * While the ring stays empty the timer backs off: after OBI_IDLE_DRAINS empty
 * drains in a row its period doubles, up to OBI_IDLE_MAX_MS; the first drain that
 * finds a record, and every forced wake-up, bring it back to `intervalMs`. Each
 * wake-up of an idle agent costs ~45 us of event-loop work, 100 of them a second
 * at 10 ms; the first record after a quiet spell waits at most OBI_IDLE_MAX_MS.
 */
#include "common.h"
#include "batch.h"
#include <errno.h>
#include <stdlib.h>

/* a drain stops once it holds this much; the rest waits in the ring for the next */
#define OBI_BATCH_MAX (256u * 1024 * 1024)
/* empty drains in a row before the timer's period doubles */
#define OBI_IDLE_DRAINS 10
/* the longest period the timer backs off to (a longer `intervalMs` is kept as it is) */
#define OBI_IDLE_MAX_MS 100

struct obi_ringbuf {
	napi_env env;
	struct ring_buffer *rb;
	napi_ref callback;
	napi_async_context async;
	uv_timer_t timer;
	uv_poll_t poll;
	int poll_started;
	int handles_open;
	struct obi_batch batch;
	uint64_t records;
	uint64_t lost;    /* records consumed from the ring but not kept: no memory for the spill */
	uint32_t base_ms; /* the period asked for */
	uint32_t cur_ms;  /* the timer's period now: base_ms, or backed off while idle */
	uint32_t empty;   /* empty timer drains in a row */
	int dead;         /* freed by close; handles still closing */
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct obi_ringbuf *r = ctx;
	if (obi_batch_append(&r->batch, data, size)) {
		r->lost++; /* libbpf consumed it already: counted, and the drain stops here */
		return -ENOMEM;
	}
	r->records++;
	/* stop this drain with the record kept; the rest stays in the ring for the next */
	return obi_batch_size(&r->batch) >= OBI_BATCH_MAX ? -E2BIG : 0;
}

/* consume the ring into the batch; 0, or the negative errno of a consume that read nothing */
static int consume(struct obi_ringbuf *r)
{
	r->batch.len = 0;
	int n = ring_buffer__consume(r->rb);
	return n < 0 && n != -E2BIG && obi_batch_size(&r->batch) == 0 ? n : 0;
}

/* drain and hand the batch to JavaScript; 0 when the ring was empty (nothing called) */
static int deliver(struct obi_ringbuf *r)
{
	if (r->dead)
		return 0;
	int err = consume(r);
	if (!err && obi_batch_size(&r->batch) == 0)
		return 0; /* nothing came: no handle scope, no JavaScript */
	napi_env env = r->env;
	napi_handle_scope scope;
	if (napi_open_handle_scope(env, &scope) != napi_ok)
		return 1;
	napi_value argv[2] = { NULL, NULL };
	if (err)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "ring buffer consume failed");
	else if ((argv[0] = obi_batch_finish(env, &r->batch)) != NULL)
		napi_create_double(env, (double)r->batch.len, &argv[1]);
	if (argv[0] && argv[1]) {
		napi_value cb, recv, result;
		napi_get_reference_value(env, r->callback, &cb);
		napi_get_global(env, &recv);
		napi_status st = napi_make_callback(env, r->async, recv, cb, 2, argv, &result);
		if (st == napi_pending_exception) {
			napi_value e;
			napi_get_and_clear_last_exception(env, &e);
			napi_fatal_exception(env, e);
		}
	} else {
		napi_value e;
		bool pending = false;
		napi_is_exception_pending(env, &pending);
		if (pending) {
			napi_get_and_clear_last_exception(env, &e);
			napi_fatal_exception(env, e);
		}
	}
	napi_close_handle_scope(env, scope);
	return 1;
}

static void on_timer(uv_timer_t *t);

/* run the timer at period `ms` from now */
static void set_period(struct obi_ringbuf *r, uint32_t ms)
{
	r->cur_ms = ms;
	r->empty = 0;
	uv_timer_start(&r->timer, on_timer, ms, ms);
}

/* traffic: back to the period asked for */
static void busy(struct obi_ringbuf *r)
{
	r->empty = 0;
	if (r->cur_ms != r->base_ms && !r->dead)
		set_period(r, r->base_ms);
}

static void on_timer(uv_timer_t *t)
{
	struct obi_ringbuf *r = t->data;
	int delivered = deliver(r);
	if (!r->dead)
		obi_batch_trim(&r->batch, uv_now(t->loop));
	if (delivered) {
		busy(r);
		return;
	}
	if (r->dead || ++r->empty < OBI_IDLE_DRAINS || r->cur_ms >= OBI_IDLE_MAX_MS)
		return;
	uint32_t next = r->cur_ms * 2;
	set_period(r, next < OBI_IDLE_MAX_MS ? next : OBI_IDLE_MAX_MS);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	if (status != 0)
		return;
	struct obi_ringbuf *r = p->data;
	deliver(r);
	busy(r); /* a forced wake-up: the ring is filling */
}

static void on_handle_closed(uv_handle_t *h)
{
	struct obi_ringbuf *r = h->data;
	if (--r->handles_open == 0)
		free(r);
}

void obi_ringbuf_free(struct obi_ringbuf *r)
{
	if (!r || r->dead)
		return;
	r->dead = 1;
	ring_buffer__free(r->rb);
	r->rb = NULL;
	if (r->callback)
		napi_delete_reference(r->env, r->callback);
	obi_batch_free(r->env, &r->batch); /* no consume after ring_buffer__free */
	if (r->async)
		napi_async_destroy(r->env, r->async);
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_handle_closed);
	if (r->poll_started) {
		uv_poll_stop(&r->poll);
		uv_close((uv_handle_t *)&r->poll, on_handle_closed);
	}
}

/* ringbufStart(h, map, intervalMs, callback(batch: Buffer, length: number)): batch[0, length) is the drain, valid during the call */
napi_value obi_ringbuf_start(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	if (o->rb) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "ring buffer already started");
		return NULL;
	}
	char name[256];
	if (obi_arg_string(env, argv[1], name, sizeof(name)))
		return NULL;
	uint32_t interval;
	NAPI_CALL(env, napi_get_value_uint32(env, argv[2], &interval));
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);
	if (!m || !o->loaded) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", ENOENT, "no loaded ring buffer map %s", name);
		return NULL;
	}
	struct obi_ringbuf *r = calloc(1, sizeof(*r));
	if (!r) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "out of memory");
		return NULL;
	}
	r->env = env;
	r->rb = ring_buffer__new(bpf_map__fd(m), on_sample, r, NULL);
	if (!r->rb) {
		int err = errno;
		free(r);
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", err, "cannot open ring buffer %s", name);
		return NULL;
	}
	if (obi_batch_init(env, &r->batch)) {
		ring_buffer__free(r->rb);
		free(r);
		return NULL;
	}
	NAPI_CALL(env, napi_create_reference(env, argv[3], 1, &r->callback));
	napi_value rname;
	NAPI_CALL(env, napi_create_string_utf8(env, "obi-ts:ringbuf", NAPI_AUTO_LENGTH, &rname));
	NAPI_CALL(env, napi_async_init(env, NULL, rname, &r->async));
	uv_loop_t *loop;
	NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->handles_open = 1;
	r->base_ms = interval ? interval : 10;
	set_period(r, r->base_ms);
	if (uv_poll_init(loop, &r->poll, ring_buffer__epoll_fd(r->rb)) == 0) {
		r->poll.data = r;
		r->poll_started = 1;
		r->handles_open++;
		uv_poll_start(&r->poll, UV_READABLE, on_poll);
	}
	o->rb = r;
	return NULL;
}

/* the started ring buffer of object handle `h`, or NULL with an exception pending */
static struct obi_ringbuf *started_ring(napi_env env, napi_value h)
{
	struct obi_object *o = obi_arg_object(env, h);
	if (!o)
		return NULL;
	if (!o->rb)
		napi_throw_error(env, "OBI_ERR_NATIVE", "ring buffer not started");
	return o->rb;
}

/* ringbufDrain(h) -> Buffer: synchronous drain (shutdown: detach, then drain once more), a copy of its own */
napi_value obi_ringbuf_drain(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct obi_ringbuf *r = started_ring(env, argv[0]);
	if (!r)
		return NULL;
	int err = consume(r);
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "ring buffer consume failed");
		return NULL;
	}
	if (!obi_batch_finish(env, &r->batch))
		return NULL;
	napi_value buf;
	void *out;
	NAPI_CALL(env, napi_create_buffer_copy(env, r->batch.len, r->batch.data, &out, &buf));
	return buf;
}

/* a number read off the started ring of argv[0]: `which` 0 the timer's period (ms), 1 the records lost */
static napi_value ring_number(napi_env env, napi_callback_info info, int which)
{
	ARGS(1);
	struct obi_ringbuf *r = started_ring(env, argv[0]);
	if (!r)
		return NULL;
	napi_value v;
	NAPI_CALL(env, napi_create_double(env, which == 0 ? (double)r->cur_ms : (double)r->lost, &v));
	return v;
}

/* ringbufPeriod(h) -> number: the drain timer's period now, in ms (backed off while the ring is idle) */
napi_value obi_ringbuf_period(napi_env env, napi_callback_info info)
{
	return ring_number(env, info, 0);
}

/* ringbufLost(h) -> number: records consumed from the ring that no batch could hold (malloc failed) */
napi_value obi_ringbuf_lost(napi_env env, napi_callback_info info)
{
	return ring_number(env, info, 1);
}

/* ringbufStop(h): stop timers and polling (idempotent) */
napi_value obi_ringbuf_stop(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	if (o->rb) {
		obi_ringbuf_free(o->rb);
		o->rb = NULL;
	}
	return NULL;
}
