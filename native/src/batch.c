/*
 * The drain batch (batch.h). Records are copied from the ring straight into the Buffer's memory,
 * each framed [u32 length][record][zero pad to 8]. Records past its end go to a malloc'd spill;
 * when the drain ends, the Buffer is replaced by one large enough for both (doubling) and the
 * spill is freed. libbpf has consumed a record before its callback runs, so a record is never
 * refused for room: refusing it would lose it.
 *
 * The Buffer keeps its size, but not its memory: every OBI_BATCH_TRIM_MS the pages past the
 * largest drain of that spell (and past OBI_BATCH_INITIAL) are released (madvise MADV_DONTNEED),
 * so one burst does not stay resident for the agent's life; a later drain that large faults them
 * in again, zero-filled. Buffer memory is anonymous and private, whether malloc mapped it or took
 * it from its heap, and nothing outside [data, data + cap) is released.
 */
#include "batch.h"
#include "../../bpf/abi/events.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* how often the pages past the spell's largest drain are released */
#define OBI_BATCH_TRIM_MS 1000
/* the least worth a madvise call */
#define OBI_BATCH_TRIM_MIN (256u * 1024)

/* a new Buffer of `cap` bytes holding the current one's first `keep`; NULL with an exception pending */
static napi_value replace(napi_env env, struct obi_batch *b, size_t cap, size_t keep)
{
	napi_value buf;
	void *data;
	napi_ref ref;
	NAPI_CALL(env, napi_create_buffer(env, cap, &data, &buf));
	NAPI_CALL(env, napi_create_reference(env, buf, 1, &ref));
	if (keep)
		memcpy(data, b->data, keep);
	if (b->ref)
		napi_delete_reference(env, b->ref);
	b->ref = ref;
	b->data = data;
	b->cap = cap;
	b->touched = cap; /* malloc may hand out memory already resident */
	return buf;
}

int obi_batch_init(napi_env env, struct obi_batch *b)
{
	memset(b, 0, sizeof(*b));
	return replace(env, b, OBI_BATCH_INITIAL, 0) ? 0 : -1;
}

int obi_batch_append(struct obi_batch *b, const void *rec, size_t size)
{
	size_t frame = (OBI_BATCH_LEN_BYTES + size + OBI_BATCH_ALIGN - 1) & ~(size_t)(OBI_BATCH_ALIGN - 1);
	char *dst;
	if (b->spill_len == 0 && b->len + frame <= b->cap) {
		dst = b->data + b->len;
		b->len += frame;
	} else {
		size_t need = b->spill_len + frame;
		if (need > b->spill_cap) {
			size_t cap = b->spill_cap ? b->spill_cap : 1 << 20;
			while (cap < need)
				cap *= 2;
			char *nb = realloc(b->spill, cap);
			if (!nb)
				return -ENOMEM;
			b->spill = nb;
			b->spill_cap = cap;
		}
		dst = b->spill + b->spill_len;
		b->spill_len += frame;
	}
	uint32_t l = (uint32_t)size;
	memcpy(dst, &l, OBI_BATCH_LEN_BYTES);
	memcpy(dst + OBI_BATCH_LEN_BYTES, rec, size);
	memset(dst + OBI_BATCH_LEN_BYTES + size, 0, frame - OBI_BATCH_LEN_BYTES - size);
	return 0;
}

napi_value obi_batch_finish(napi_env env, struct obi_batch *b)
{
	napi_value buf = NULL;
	if (b->spill_len == 0) {
		NAPI_CALL(env, napi_get_reference_value(env, b->ref, &buf));
	} else {
		size_t total = b->len + b->spill_len, cap = b->cap;
		while (cap < total)
			cap *= 2;
		buf = replace(env, b, cap, b->len);
		if (buf) {
			memcpy(b->data + b->len, b->spill, b->spill_len);
			b->len = total;
		}
		free(b->spill);
		b->spill = NULL;
		b->spill_len = b->spill_cap = 0;
		if (!buf)
			return NULL;
	}
	if (b->len > b->touched)
		b->touched = b->len;
	if (b->len > b->spell_max)
		b->spell_max = b->len;
	return buf;
}

void obi_batch_trim(struct obi_batch *b, uint64_t now_ms)
{
	if (!b->data || now_ms - b->trim_at < OBI_BATCH_TRIM_MS)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t keep = b->spell_max > OBI_BATCH_INITIAL ? b->spell_max : OBI_BATCH_INITIAL;
	uintptr_t from = ((uintptr_t)b->data + keep + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t to = ((uintptr_t)b->data + b->cap) & ~(uintptr_t)(page - 1);
	if (b->touched > keep && to > from && to - from >= OBI_BATCH_TRIM_MIN &&
	    madvise((void *)from, to - from, MADV_DONTNEED) == 0)
		b->touched = keep;
	b->spell_max = 0;
	b->trim_at = now_ms;
}

void obi_batch_free(napi_env env, struct obi_batch *b)
{
	if (b->ref)
		napi_delete_reference(env, b->ref);
	b->ref = NULL;
	b->data = NULL;
	free(b->spill);
	b->spill = NULL;
	b->spill_len = b->spill_cap = 0;
}
