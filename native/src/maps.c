/* Map update/lookup/delete/keys by name. Per-CPU maps take/return one value per possible CPU. */
#include "common.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct bpf_map *arg_map(napi_env env, struct obi_object *o, napi_value v)
{
	char name[256];
	if (obi_arg_string(env, v, name, sizeof(name)))
		return NULL;
	if (!o->loaded) {
		napi_throw_error(env, "OBI_ERR_BPF_MAP", "map access before load");
		return NULL;
	}
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, name);
	if (!m)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", ENOENT, "no map %s", name);
	return m;
}

static int is_percpu(struct bpf_map *m)
{
	enum bpf_map_type t = bpf_map__type(m);
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static size_t value_size(struct bpf_map *m)
{
	size_t v = bpf_map__value_size(m);
	if (is_percpu(m))
		v = ((v + 7) & ~(size_t)7) * (size_t)libbpf_num_possible_cpus();
	return v;
}

static int arg_key(napi_env env, struct bpf_map *m, napi_value v, void **key)
{
	size_t len;
	if (napi_get_buffer_info(env, v, key, &len) != napi_ok) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "key must be a Buffer");
		return -1;
	}
	if (len != bpf_map__key_size(m)) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", EINVAL, "key of map %s is %u bytes, got %zu", bpf_map__name(m),
		                bpf_map__key_size(m), len);
		return -1;
	}
	return 0;
}

/* argv[0] handle, argv[1] map name, argv[2] key Buffer: the map (NULL with an exception pending) */
static struct bpf_map *arg_map_key(napi_env env, napi_value *argv, void **key)
{
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	struct bpf_map *m = arg_map(env, o, argv[1]);
	if (!m || arg_key(env, m, argv[2], key))
		return NULL;
	return m;
}

/* mapUpdate(h, map, key, value, flags) */
napi_value obi_map_update(napi_env env, napi_callback_info info)
{
	ARGS(5);
	void *key, *val;
	size_t vlen;
	struct bpf_map *m = arg_map_key(env, argv, &key);
	if (!m)
		return NULL;
	NAPI_CALL(env, napi_get_buffer_info(env, argv[3], &val, &vlen));
	uint32_t flags;
	NAPI_CALL(env, napi_get_value_uint32(env, argv[4], &flags));
	if (vlen != value_size(m)) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", EINVAL, "value of map %s is %zu bytes, got %zu",
		                bpf_map__name(m), value_size(m), vlen);
		return NULL;
	}
	int err = bpf_map__update_elem(m, key, bpf_map__key_size(m), val, vlen, flags);
	if (err)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "update of map %s failed", bpf_map__name(m));
	return NULL;
}

/* mapLookup(h, map, key) -> Buffer | null */
napi_value obi_map_lookup(napi_env env, napi_callback_info info)
{
	ARGS(3);
	void *key;
	struct bpf_map *m = arg_map_key(env, argv, &key);
	if (!m)
		return NULL;
	size_t vlen = value_size(m);
	void *out;
	napi_value buf;
	NAPI_CALL(env, napi_create_buffer(env, vlen, &out, &buf));
	int err = bpf_map__lookup_elem(m, key, bpf_map__key_size(m), out, vlen, 0);
	if (err == -ENOENT) {
		napi_value nul;
		napi_get_null(env, &nul);
		return nul;
	}
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "lookup in map %s failed", bpf_map__name(m));
		return NULL;
	}
	return buf;
}

/* mapDelete(h, map, key) -> bool (false if absent) */
napi_value obi_map_delete(napi_env env, napi_callback_info info)
{
	ARGS(3);
	void *key;
	struct bpf_map *m = arg_map_key(env, argv, &key);
	if (!m)
		return NULL;
	int err = bpf_map__delete_elem(m, key, bpf_map__key_size(m), 0);
	if (err && err != -ENOENT) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "delete in map %s failed", bpf_map__name(m));
		return NULL;
	}
	napi_value r;
	napi_get_boolean(env, err == 0, &r);
	return r;
}

/* mapKeys(h, map) -> Buffer[] (hash maps; a snapshot, bounded by max_entries) */
napi_value obi_map_keys(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	struct bpf_map *m = arg_map(env, o, argv[1]);
	if (!m)
		return NULL;
	uint32_t ksz = bpf_map__key_size(m), max = bpf_map__max_entries(m);
	char *cur = calloc(2, ksz);
	if (!cur) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "out of memory");
		return NULL;
	}
	char *next = cur + ksz;
	napi_value arr;
	if (napi_create_array(env, &arr) != napi_ok) {
		free(cur);
		return NULL;
	}
	uint32_t n = 0;
	void *prev = NULL;
	while (n < max && bpf_map__get_next_key(m, prev, next, ksz) == 0) {
		napi_value b;
		void *ignored;
		if (napi_create_buffer_copy(env, ksz, next, &ignored, &b) != napi_ok ||
		    napi_set_element(env, arr, n++, b) != napi_ok) {
			free(cur);
			return NULL;
		}
		memcpy(cur, next, ksz);
		prev = cur;
	}
	free(cur);
	return arr;
}

/*
 * mapBits(h, map, index, mask: bigint, set: bool): atomically OR `mask` into (set) or clear it from
 * (!set) the u64 at `index` of an ARRAY map created with BPF_F_MMAPABLE. The kernel changes the
 * same words with atomic instructions; a lookup-modify-update from user space would lose its
 * concurrent changes.
 */
napi_value obi_map_bits(napi_env env, napi_callback_info info)
{
	ARGS(5);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	struct bpf_map *m = arg_map(env, o, argv[1]);
	if (!m)
		return NULL;
	uint32_t index;
	NAPI_CALL(env, napi_get_value_uint32(env, argv[2], &index));
	uint64_t mask;
	bool lossless;
	NAPI_CALL(env, napi_get_value_bigint_uint64(env, argv[3], &mask, &lossless));
	bool set;
	NAPI_CALL(env, napi_get_value_bool(env, argv[4], &set));
	if (bpf_map__type(m) != BPF_MAP_TYPE_ARRAY || bpf_map__value_size(m) != 8 ||
	    !(bpf_map__map_flags(m) & BPF_F_MMAPABLE)) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", EINVAL, "map %s is not an mmapable array of u64",
		                bpf_map__name(m));
		return NULL;
	}
	if (index >= bpf_map__max_entries(m)) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", ERANGE, "index %u past map %s", index, bpf_map__name(m));
		return NULL;
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t off = ((size_t)index * 8) & ~(page - 1);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), (off_t)off);
	if (p == MAP_FAILED) {
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", errno, "mmap of map %s failed", bpf_map__name(m));
		return NULL;
	}
	uint64_t *w = (uint64_t *)((char *)p + ((size_t)index * 8 - off));
	if (set)
		__atomic_fetch_or(w, mask, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(w, ~mask, __ATOMIC_SEQ_CST);
	munmap(p, page);
	return NULL;
}
