/* Module init, per-instance data, cleanup hook, error helpers and the exported function table. */
#include "common.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* libbpf's log (verifier output included) kept in a bounded buffer for error messages */
static char g_log[65536];
static size_t g_log_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	va_list copy;
	va_copy(copy, args);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n <= 0)
		return 0;
	char *line = malloc((size_t)n + 1);
	if (!line)
		return 0;
	vsnprintf(line, (size_t)n + 1, fmt, args);
	/* keep the tail: the verifier's verdict is at the end of its log */
	const char *src = line;
	size_t len = (size_t)n;
	if (len >= sizeof(g_log)) {
		src += len - (sizeof(g_log) - 1);
		len = sizeof(g_log) - 1;
	}
	if (g_log_len + len >= sizeof(g_log)) {
		size_t drop = g_log_len + len - sizeof(g_log) + 1;
		memmove(g_log, g_log + drop, g_log_len - drop);
		g_log_len -= drop;
	}
	memcpy(g_log + g_log_len, src, len);
	g_log_len += len;
	g_log[g_log_len] = 0;
	free(line);
	return 0;
}

const char *obi_libbpf_log(void)
{
	return g_log;
}
void obi_libbpf_log_reset(void)
{
	g_log_len = 0;
	g_log[0] = 0;
}

void obi_throw_status(napi_env env, napi_status status, const char *what)
{
	const napi_extended_error_info *info = NULL;
	napi_get_last_error_info(env, &info);
	char msg[512];
	snprintf(msg, sizeof(msg), "N-API call failed (%d): %s: %s", (int)status, what,
	         info && info->error_message ? info->error_message : "");
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, "OBI_ERR_NATIVE", msg);
}

/* throws Error{code, errno, message} */
void obi_throw_errno(napi_env env, const char *code, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s (errno %d)", strerror(err), err);
	napi_value m, c, e, en;
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
	napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
	napi_create_error(env, c, m, &e);
	napi_create_int32(env, err, &en);
	napi_set_named_property(env, e, "errno", en);
	napi_throw(env, e);
}

int obi_arg_string(napi_env env, napi_value v, char *buf, size_t len)
{
	size_t got = 0;
	if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok) {
		napi_throw_type_error(env, "OBI_ERR_NATIVE", "expected a string");
		return -1;
	}
	if (got >= len - 1) {
		napi_throw_range_error(env, "OBI_ERR_NATIVE", "string argument too long");
		return -1;
	}
	return 0;
}

static void instance_finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	free(data);
}

/* clang-format off */
#define EXPORT_FN(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }
/* clang-format on */

static napi_value libbpf_log(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value s;
	napi_create_string_utf8(env, obi_libbpf_log(), NAPI_AUTO_LENGTH, &s);
	return s;
}

static napi_value init(napi_env env, napi_value exports)
{
	libbpf_set_print(libbpf_print);
	struct obi_instance *inst = calloc(1, sizeof(*inst));
	if (!inst) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "out of memory");
		return NULL;
	}
	inst->env = env;
	NAPI_CALL(env, napi_set_instance_data(env, inst, instance_finalize, NULL));
	napi_property_descriptor props[] = {
		EXPORT_FN("open", obi_open),
		EXPORT_FN("setGlobal", obi_set_global),
		EXPORT_FN("setMapMaxEntries", obi_set_map_max_entries),
		EXPORT_FN("load", obi_load),
		EXPORT_FN("programs", obi_programs),
		EXPORT_FN("attach", obi_attach),
		EXPORT_FN("attachUprobe", obi_attach_uprobe),
		EXPORT_FN("attachCgroup", obi_attach_cgroup),
		EXPORT_FN("attachMap", obi_attach_map),
		EXPORT_FN("setMapAutocreate", obi_set_map_autocreate),
		EXPORT_FN("setAutoload", obi_set_autoload),
		EXPORT_FN("detach", obi_detach),
		EXPORT_FN("detachAsync", obi_detach_async),
		EXPORT_FN("close", obi_close),
		EXPORT_FN("mapUpdate", obi_map_update),
		EXPORT_FN("mapLookup", obi_map_lookup),
		EXPORT_FN("mapDelete", obi_map_delete),
		EXPORT_FN("mapKeys", obi_map_keys),
		EXPORT_FN("mapBits", obi_map_bits),
		EXPORT_FN("ringbufStart", obi_ringbuf_start),
		EXPORT_FN("ringbufDrain", obi_ringbuf_drain),
		EXPORT_FN("ringbufPeriod", obi_ringbuf_period),
		EXPORT_FN("ringbufLost", obi_ringbuf_lost),
		EXPORT_FN("ringbufStop", obi_ringbuf_stop),
		EXPORT_FN("libbpfLog", libbpf_log),
		EXPORT_FN("raiseCapabilities", obi_raise_capabilities),
		EXPORT_FN("probeProgType", obi_probe_prog_type),
		EXPORT_FN("setAttachType", obi_set_attach_type),
		EXPORT_FN("attachUprobeMulti", obi_attach_uprobe_multi),
		EXPORT_FN("schedYield", obi_sched_yield),
		EXPORT_FN("setSchedSlice", obi_set_sched_slice),
	};
	NAPI_CALL(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
