/* Over 400 lines: one libbpf loader (open, load-time constants, load, attach/detach of every program kind incl. cgroups, detach on a worker, close); errors carry errno. */
#include "common.h"
#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void object_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	struct obi_object *o = data;
	obi_object_close(o);
	free(o);
}

void obi_object_close(struct obi_object *o)
{
	if (o->closed)
		return;
	o->closed = 1;
	if (o->rb) {
		obi_ringbuf_free(o->rb);
		o->rb = NULL;
	}
	for (int i = 0; i < OBI_MAX_LINKS; i++) {
		if (o->links[i]) {
			bpf_link__destroy(o->links[i]);
			o->links[i] = NULL;
		}
		if (o->raw_links[i]) {
			close(o->raw_links[i] - 1);
			o->raw_links[i] = 0;
		}
	}
	bpf_object__close(o->obj);
	o->obj = NULL;
}

struct obi_object *obi_arg_object(napi_env env, napi_value v)
{
	void *data = NULL;
	if (napi_get_value_external(env, v, &data) != napi_ok || !data) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "expected a BPF object handle");
		return NULL;
	}
	struct obi_object *o = data;
	if (o->closed) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "BPF object handle is closed");
		return NULL;
	}
	return o;
}

/* open(path) -> handle */
napi_value obi_open(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char path[4096];
	if (obi_arg_string(env, argv[0], path, sizeof(path)))
		return NULL;
	obi_libbpf_log_reset();
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err = libbpf_get_error(obj);
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", -err, "cannot open BPF object %s", path);
		return NULL;
	}
	struct obi_object *o = calloc(1, sizeof(*o));
	if (!o) {
		bpf_object__close(obj);
		napi_throw_error(env, "OBI_ERR_NATIVE", "out of memory");
		return NULL;
	}
	o->obj = obj;
	napi_value h;
	NAPI_CALL(env, napi_create_external(env, o, object_finalize, NULL, &h));
	return h;
}

/* setGlobal(h, name, Buffer): write a `const volatile` global's initial value (before load) */
napi_value obi_set_global(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256];
	if (obi_arg_string(env, argv[1], name, sizeof(name)))
		return NULL;
	void *val;
	size_t vlen;
	NAPI_CALL(env, napi_get_buffer_info(env, argv[2], &val, &vlen));
	if (o->loaded) {
		napi_throw_error(env, "OBI_ERR_BPF_LOAD", "setGlobal after load");
		return NULL;
	}
	struct btf *btf = bpf_object__btf(o->obj);
	struct bpf_map *map;
	bpf_object__for_each_map (map, o->obj) {
		const char *mname = bpf_map__name(map);
		const char *dot = strrchr(mname, '.');
		if (!bpf_map__is_internal(map) || !dot)
			continue;
		int sec = btf__find_by_name_kind(btf, dot, BTF_KIND_DATASEC);
		if (sec < 0)
			continue;
		const struct btf_type *t = btf__type_by_id(btf, sec);
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *var = btf__type_by_id(btf, vs->type);
			if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
				continue;
			if (vs->size != vlen) {
				obi_throw_errno(env, "OBI_ERR_BPF_LOAD", 0, "global %s is %u bytes, got %zu", name,
				                vs->size, vlen);
				return NULL;
			}
			size_t sz = 0;
			char *data = (char *)bpf_map__initial_value(map, &sz);
			if (!data || vs->offset + vs->size > sz) {
				obi_throw_errno(env, "OBI_ERR_BPF_LOAD", 0, "global %s not writable", name);
				return NULL;
			}
			memcpy(data + vs->offset, val, vlen);
			return NULL;
		}
	}
	obi_throw_errno(env, "OBI_ERR_BPF_LOAD", ENOENT, "no global variable %s", name);
	return NULL;
}

/* the map named by argv[1] in the object argv[0] (before load), or NULL with an exception pending */
static struct bpf_map *obi_arg_unloaded_map(napi_env env, napi_value *argv, char *name, size_t name_len)
{
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o || obi_arg_string(env, argv[1], name, name_len))
		return NULL;
	struct bpf_map *map = bpf_object__find_map_by_name(o->obj, name);
	if (!map)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", ENOENT, "no map %s", name);
	return map;
}

/* setMapMaxEntries(h, map, n) (before load) */
napi_value obi_set_map_max_entries(napi_env env, napi_callback_info info)
{
	ARGS(3);
	char name[256];
	struct bpf_map *map = obi_arg_unloaded_map(env, argv, name, sizeof(name));
	if (!map)
		return NULL;
	uint32_t n;
	NAPI_CALL(env, napi_get_value_uint32(env, argv[2], &n));
	int err = bpf_map__set_max_entries(map, n);
	if (err)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "cannot size map %s to %u", name, n);
	return NULL;
}

/* load(h): verify and load every program and map */
napi_value obi_load(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	obi_libbpf_log_reset();
	int err = bpf_object__load(o->obj);
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", -err, "cannot load BPF object");
		return NULL;
	}
	o->loaded = 1;
	return NULL;
}

/* programs(h) -> [{name, section}] */
napi_value obi_programs(napi_env env, napi_callback_info info)
{
	ARGS(1);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	napi_value arr;
	NAPI_CALL(env, napi_create_array(env, &arr));
	struct bpf_program *p;
	uint32_t i = 0;
	bpf_object__for_each_program (p, o->obj) {
		napi_value e, n, s;
		NAPI_CALL(env, napi_create_object(env, &e));
		NAPI_CALL(env, napi_create_string_utf8(env, bpf_program__name(p), NAPI_AUTO_LENGTH, &n));
		NAPI_CALL(env, napi_create_string_utf8(env, bpf_program__section_name(p), NAPI_AUTO_LENGTH, &s));
		NAPI_CALL(env, napi_set_named_property(env, e, "name", n));
		NAPI_CALL(env, napi_set_named_property(env, e, "section", s));
		NAPI_CALL(env, napi_set_element(env, arr, i++, e));
	}
	return arr;
}

static napi_value store_link(napi_env env, struct obi_object *o, struct bpf_link *link, const char *what)
{
	int err = libbpf_get_error(link);
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", -err, "cannot attach %s", what);
		return NULL;
	}
	for (int i = 0; i < OBI_MAX_LINKS; i++) {
		if (!o->links[i]) {
			o->links[i] = link;
			napi_value id;
			napi_create_int32(env, i, &id);
			return id;
		}
	}
	bpf_link__destroy(link);
	obi_throw_errno(env, "OBI_ERR_BPF_LOAD", ENOSPC, "too many links");
	return NULL;
}

static struct bpf_program *find_prog(napi_env env, struct obi_object *o, napi_value v, char *name, size_t len)
{
	if (obi_arg_string(env, v, name, len))
		return NULL;
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, name);
	if (!p)
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", ENOENT, "no program %s", name);
	return p;
}

/* attach(h, prog) -> link id: attach by the program's section (tracepoint, raw_tracepoint) */
napi_value obi_attach(napi_env env, napi_callback_info info)
{
	ARGS(2);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	return store_link(env, o, bpf_program__attach(p), name);
}

/* setAutoload(h, prog, on): whether load() loads this program (before load) */
napi_value obi_set_autoload(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	bool on;
	NAPI_CALL(env, napi_get_value_bool(env, argv[2], &on));
	int err = bpf_program__set_autoload(p, on);
	if (err)
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", -err, "cannot set autoload of %s", name);
	return NULL;
}

/* attachCgroup(h, prog, cgroupDir) -> link id: a cgroup program (sockops) on one cgroup v2 directory
 * (a BPF link: detached when the link is destroyed or the agent exits) */
napi_value obi_attach_cgroup(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256], path[4096];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	if (obi_arg_string(env, argv[2], path, sizeof(path)))
		return NULL;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", errno, "cannot open cgroup %s", path);
		return NULL;
	}
	struct bpf_link *link = bpf_program__attach_cgroup(p, fd);
	close(fd); /* the link holds its own reference to the cgroup */
	return store_link(env, o, link, name);
}

/* attachUprobe(h, prog, retprobe, pid, binaryPath, offset) -> link id */
napi_value obi_attach_uprobe(napi_env env, napi_callback_info info)
{
	ARGS(6);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256], path[4096];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	bool ret;
	int32_t pid;
	int64_t off;
	NAPI_CALL(env, napi_get_value_bool(env, argv[2], &ret));
	NAPI_CALL(env, napi_get_value_int32(env, argv[3], &pid));
	if (obi_arg_string(env, argv[4], path, sizeof(path)))
		return NULL;
	NAPI_CALL(env, napi_get_value_int64(env, argv[5], &off));
	return store_link(env, o, bpf_program__attach_uprobe(p, ret, pid, path, (size_t)off), name);
}

/*
 * Parses (h, linkId) and takes the link out of the object's table: *link for a libbpf link,
 * *raw_fd for a raw one. 0, or -1 with a JS exception pending.
 */
static int take_link(napi_env env, napi_callback_info info, struct bpf_link **link, int *raw_fd)
{
	size_t argc = 2;
	napi_value argv[2];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "expected (handle, linkId)");
		return -1;
	}
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return -1;
	int32_t id;
	if (napi_get_value_int32(env, argv[1], &id) != napi_ok) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "link id: expected a number");
		return -1;
	}
	*link = NULL;
	*raw_fd = -1;
	if (id >= OBI_MAX_LINKS && id < 2 * OBI_MAX_LINKS && o->raw_links[id - OBI_MAX_LINKS]) {
		*raw_fd = o->raw_links[id - OBI_MAX_LINKS] - 1;
		o->raw_links[id - OBI_MAX_LINKS] = 0;
		return 0;
	}
	if (id < 0 || id >= OBI_MAX_LINKS || !o->links[id]) {
		napi_throw_range_error(env, "OBI_ERR_NATIVE", "no such link");
		return -1;
	}
	*link = o->links[id];
	o->links[id] = NULL;
	return 0;
}

static void destroy_link(struct bpf_link *link, int raw_fd)
{
	if (link)
		bpf_link__destroy(link);
	if (raw_fd >= 0)
		close(raw_fd);
}

/* detach(h, linkId) */
napi_value obi_detach(napi_env env, napi_callback_info info)
{
	struct bpf_link *link;
	int raw_fd;
	if (take_link(env, info, &link, &raw_fd))
		return NULL;
	destroy_link(link, raw_fd);
	return NULL;
}

/*
 * detachAsync(h, linkId) -> Promise: the link leaves the table at once, and is destroyed on a
 * libuv worker. Tearing down a tracepoint or probe link waits for RCU grace periods (~70 ms
 * each on this kernel); the agent's thread must not wait with the ring filling.
 */
struct detach_work {
	napi_async_work work;
	napi_deferred deferred;
	struct bpf_link *link;
	int raw_fd;
};

static void detach_execute(napi_env env, void *data)
{
	(void)env;
	struct detach_work *w = data;
	destroy_link(w->link, w->raw_fd);
}

static void detach_complete(napi_env env, napi_status status, void *data)
{
	(void)status;
	struct detach_work *w = data;
	napi_value undef;
	napi_get_undefined(env, &undef);
	napi_resolve_deferred(env, w->deferred, undef);
	napi_delete_async_work(env, w->work);
	free(w);
}

napi_value obi_detach_async(napi_env env, napi_callback_info info)
{
	struct detach_work *w = calloc(1, sizeof(*w));
	if (!w) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "out of memory");
		return NULL;
	}
	if (take_link(env, info, &w->link, &w->raw_fd)) {
		free(w);
		return NULL;
	}
	/* from here the work (or this thread, if it cannot be queued) owns the link */
	napi_value promise, name;
	if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) {
		destroy_link(w->link, w->raw_fd);
		free(w);
		napi_throw_error(env, "OBI_ERR_NATIVE", "cannot create a promise");
		return NULL;
	}
	bool queued = napi_create_string_utf8(env, "obi:detach", NAPI_AUTO_LENGTH, &name) == napi_ok &&
	              napi_create_async_work(env, NULL, name, detach_execute, detach_complete, w, &w->work) == napi_ok;
	if (queued && napi_queue_async_work(env, w->work) != napi_ok) {
		napi_delete_async_work(env, w->work);
		queued = false;
	}
	if (!queued) {
		detach_execute(env, w);
		napi_value undef;
		napi_get_undefined(env, &undef);
		napi_resolve_deferred(env, w->deferred, undef);
		free(w);
	}
	return promise;
}

/* close(h): detach everything, free the object (idempotent) */
napi_value obi_close(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	void *data = NULL;
	if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "expected a BPF object handle");
		return NULL;
	}
	obi_object_close(data);
	return NULL;
}

/* probeProgType(type) -> 1 (loads), 0 (not supported) or -errno (refused: EPERM without the capability) */
napi_value obi_probe_prog_type(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t type;
	NAPI_CALL(env, napi_get_value_int32(env, argv[0], &type));
	int r = libbpf_probe_bpf_prog_type((enum bpf_prog_type)type, NULL);
	napi_value out;
	NAPI_CALL(env, napi_create_int32(env, r, &out));
	return out;
}

/* setAttachType(h, prog, type): the expected attach type a program is loaded with (before load) */
napi_value obi_set_attach_type(napi_env env, napi_callback_info info)
{
	ARGS(3);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	int32_t type;
	NAPI_CALL(env, napi_get_value_int32(env, argv[2], &type));
	int err = bpf_program__set_expected_attach_type(p, (enum bpf_attach_type)type);
	if (err) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", -err, "cannot set the attach type of %s", name);
		return NULL;
	}
	return NULL;
}

/*
 * attachUprobeMulti(h, prog, retprobe, binaryPath, offset) -> link id: a uprobe through a
 * BPF link (BPF_TRACE_UPROBE_MULTI, Linux >= 6.6) instead of a perf event. The uprobe PMU
 * refuses processes without CAP_SYS_ADMIN; the link needs only what loading the program
 * needed (CAP_BPF + CAP_PERFMON). libbpf 1.1 predates it: the attr is laid out here
 * (include/uapi/linux/bpf.h, link_create.uprobe_multi).
 */
#define OBI_BPF_TRACE_UPROBE_MULTI 48
#define OBI_BPF_F_UPROBE_MULTI_RETURN 1
napi_value obi_attach_uprobe_multi(napi_env env, napi_callback_info info)
{
	ARGS(5);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256], path[4096];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	bool ret;
	int64_t off;
	NAPI_CALL(env, napi_get_value_bool(env, argv[2], &ret));
	if (obi_arg_string(env, argv[3], path, sizeof(path)))
		return NULL;
	NAPI_CALL(env, napi_get_value_int64(env, argv[4], &off));
	uint64_t offset = (uint64_t)off;
	union {
		union bpf_attr attr;
		struct {
			uint32_t prog_fd, target_fd, attach_type, flags;
			uint64_t path, offsets, ref_ctr_offsets, cookies;
			uint32_t cnt, flags2, pid, _pad;
		} lc;
		char bytes[256];
	} a;
	memset(&a, 0, sizeof(a));
	a.lc.prog_fd = (uint32_t)bpf_program__fd(p);
	a.lc.attach_type = OBI_BPF_TRACE_UPROBE_MULTI;
	a.lc.path = (uint64_t)(uintptr_t)path;
	a.lc.offsets = (uint64_t)(uintptr_t)&offset;
	a.lc.cnt = 1;
	a.lc.flags2 = ret ? OBI_BPF_F_UPROBE_MULTI_RETURN : 0;
	int fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a.attr));
	if (fd < 0) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", errno, "cannot attach %s (uprobe_multi link)", name);
		return NULL;
	}
	for (int i = 0; i < OBI_MAX_LINKS; i++) {
		if (!o->raw_links[i]) {
			o->raw_links[i] = fd + 1;
			napi_value id;
			napi_create_int32(env, OBI_MAX_LINKS + i, &id);
			return id;
		}
	}
	close(fd);
	obi_throw_errno(env, "OBI_ERR_BPF_LOAD", ENOSPC, "too many links");
	return NULL;
}

/* attachMap(h, prog, map, attachType): an sk_msg / sk_skb program on a sockmap or sockhash
 * (bpf_prog_attach; the attachment lives as long as the map, that is, the object) */
napi_value obi_attach_map(napi_env env, napi_callback_info info)
{
	ARGS(4);
	struct obi_object *o = obi_arg_object(env, argv[0]);
	if (!o)
		return NULL;
	char name[256], mname[256];
	struct bpf_program *p = find_prog(env, o, argv[1], name, sizeof(name));
	if (!p)
		return NULL;
	if (obi_arg_string(env, argv[2], mname, sizeof(mname)))
		return NULL;
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, mname);
	if (!m) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", ENOENT, "no map %s", mname);
		return NULL;
	}
	int32_t type;
	NAPI_CALL(env, napi_get_value_int32(env, argv[3], &type));
	if (bpf_prog_attach(bpf_program__fd(p), bpf_map__fd(m), (enum bpf_attach_type)type, 0)) {
		obi_throw_errno(env, "OBI_ERR_BPF_LOAD", errno, "cannot attach %s to map %s", name, mname);
		return NULL;
	}
	return NULL;
}

/* setMapAutocreate(h, map, on): before load, whether libbpf creates `map` (a sockhash needs CAP_NET_ADMIN) */
napi_value obi_set_map_autocreate(napi_env env, napi_callback_info info)
{
	ARGS(3);
	char name[256];
	struct bpf_map *map = obi_arg_unloaded_map(env, argv, name, sizeof(name));
	if (!map)
		return NULL;
	bool on;
	NAPI_CALL(env, napi_get_value_bool(env, argv[2], &on));
	int err = bpf_map__set_autocreate(map, on);
	if (err)
		obi_throw_errno(env, "OBI_ERR_BPF_MAP", -err, "cannot set autocreate of map %s", name);
	return NULL;
}
