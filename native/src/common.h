/* obi-ts native addon: a thin N-API layer over libbpf. It loads, attaches,
 * drains ring buffers and touches maps; it knows no protocol and no event field. */
#ifndef OBI_NATIVE_COMMON_H
#define OBI_NATIVE_COMMON_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stddef.h>
#include <stdint.h>

#define OBI_MAX_LINKS 1024

struct obi_ringbuf;

/* one opened BPF object and what hangs off it */
struct obi_object {
	struct bpf_object *obj;
	struct bpf_link *links[OBI_MAX_LINKS];
	/* links made with BPF_LINK_CREATE directly (uprobe_multi, unknown to libbpf 1.1): fd + 1, 0 = free;
	 * their ids are OBI_MAX_LINKS + index */
	int raw_links[OBI_MAX_LINKS];
	struct obi_ringbuf *rb;
	int loaded;
	int closed;
};

/* per-instance (per worker/env) data */
struct obi_instance {
	napi_env env;
};

/* call a libbpf-style function and throw on error */
#define NAPI_CALL(env, call)                                   \
	do {                                                   \
		napi_status status_ = (call);                  \
		if (status_ != napi_ok) {                      \
			obi_throw_status(env, status_, #call); \
			return NULL;                           \
		}                                              \
	} while (0)

/* fetch exactly n arguments into argv[], throwing when fewer were passed */
#define ARGS(n)                                                                    \
	size_t argc = n;                                                           \
	napi_value argv[n];                                                        \
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));      \
	if (argc < n) {                                                            \
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "missing arguments"); \
		return NULL;                                                       \
	}

void obi_throw_status(napi_env env, napi_status status, const char *what);
void obi_throw_errno(napi_env env, const char *code, int err, const char *fmt, ...);
int obi_arg_string(napi_env env, napi_value v, char *buf, size_t len);
struct obi_object *obi_arg_object(napi_env env, napi_value v);
const char *obi_libbpf_log(void);
void obi_libbpf_log_reset(void);

napi_value obi_ringbuf_start(napi_env env, napi_callback_info info);
napi_value obi_ringbuf_drain(napi_env env, napi_callback_info info);
napi_value obi_ringbuf_period(napi_env env, napi_callback_info info);
napi_value obi_ringbuf_lost(napi_env env, napi_callback_info info);
napi_value obi_ringbuf_stop(napi_env env, napi_callback_info info);
void obi_ringbuf_free(struct obi_ringbuf *rb);

napi_value obi_map_update(napi_env env, napi_callback_info info);
napi_value obi_map_lookup(napi_env env, napi_callback_info info);
napi_value obi_map_delete(napi_env env, napi_callback_info info);
napi_value obi_map_keys(napi_env env, napi_callback_info info);
napi_value obi_map_bits(napi_env env, napi_callback_info info);

napi_value obi_open(napi_env env, napi_callback_info info);
napi_value obi_set_global(napi_env env, napi_callback_info info);
napi_value obi_set_map_max_entries(napi_env env, napi_callback_info info);
napi_value obi_load(napi_env env, napi_callback_info info);
napi_value obi_programs(napi_env env, napi_callback_info info);
napi_value obi_attach(napi_env env, napi_callback_info info);
napi_value obi_attach_uprobe(napi_env env, napi_callback_info info);
napi_value obi_attach_cgroup(napi_env env, napi_callback_info info);
napi_value obi_set_autoload(napi_env env, napi_callback_info info);
napi_value obi_probe_prog_type(napi_env env, napi_callback_info info);
napi_value obi_set_attach_type(napi_env env, napi_callback_info info);
napi_value obi_attach_map(napi_env env, napi_callback_info info);
napi_value obi_set_map_autocreate(napi_env env, napi_callback_info info);
napi_value obi_attach_uprobe_multi(napi_env env, napi_callback_info info);
napi_value obi_detach(napi_env env, napi_callback_info info);
napi_value obi_detach_async(napi_env env, napi_callback_info info);
napi_value obi_close(napi_env env, napi_callback_info info);

/* caps.c */
napi_value obi_raise_capabilities(napi_env env, napi_callback_info info);
napi_value obi_sched_yield(napi_env env, napi_callback_info info);
napi_value obi_set_sched_slice(napi_env env, napi_callback_info info);
void obi_object_close(struct obi_object *o);
#endif
