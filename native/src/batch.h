/* The drain batch of a ring buffer: one JavaScript Buffer kept for the ring's life, records
 * framed into it as bpf/abi/events.h defines, a malloc'd spill for the records of a drain past
 * its end, and the release of pages a burst left resident. It knows no ring and no record field. */
#ifndef OBI_NATIVE_BATCH_H
#define OBI_NATIVE_BATCH_H
#include "common.h"

/* the Buffer's first size; it doubles (or more) when a drain does not fit */
#define OBI_BATCH_INITIAL (1u << 20)

struct obi_batch {
	napi_ref ref; /* the Buffer whose memory `data` is */
	char *data;
	size_t len, cap;
	size_t touched;   /* bytes from the start that may be resident */
	size_t spell_max; /* the largest drain since the last trim */
	uint64_t trim_at; /* the clock (ms) of the last trim */
	char *spill;      /* the records of one drain past `cap`, until the Buffer has grown */
	size_t spill_len, spill_cap;
};

/* a fresh batch with its first Buffer; 0, or -1 with an exception pending */
int obi_batch_init(napi_env env, struct obi_batch *b);
/* append one record (a new drain starts at len = 0); 0, or -ENOMEM: the record is lost */
int obi_batch_append(struct obi_batch *b, const void *rec, size_t size);
/* the bytes this drain holds, spill included */
static inline size_t obi_batch_size(const struct obi_batch *b)
{
	return b->len + b->spill_len;
}
/* end of a drain: the spill moved into a Buffer grown to hold it all; the Buffer, or NULL with an exception pending */
napi_value obi_batch_finish(napi_env env, struct obi_batch *b);
/* at most every OBI_BATCH_TRIM_MS of `now_ms`: the pages past the spell's largest drain go back to the kernel */
void obi_batch_trim(struct obi_batch *b, uint64_t now_ms);
/* drop the Buffer's reference and the spill */
void obi_batch_free(napi_env env, struct obi_batch *b);
#endif
