/* sched_yield(2) for the agent's long stretches of work (src/pipeline/yield.ts): the application
 * threads queued on the agent's CPU run first, so the agent's drain never holds a core for more
 * than a fraction of a millisecond at a time; and the agent's own time slice. Nothing else: the
 * policy is in TypeScript. */
#include "common.h"
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

napi_value obi_sched_yield(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	sched_yield();
	return NULL;
}

/* struct sched_attr (include/uapi/linux/sched/types.h, SCHED_ATTR_SIZE_VER1); glibc 2.36 has no
 * wrapper for sched_getattr/sched_setattr */
struct obi_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

/* setSchedSlice(ns): the calling thread's time slice under the fair scheduler (sched_attr's
 * sched_runtime for SCHED_OTHER, Linux >= 6.12; the kernel clamps it to 100 us..100 ms), everything else as it was.
 * Returns 0, or the errno (EINVAL on older kernels, which reject a runtime for SCHED_OTHER). */
napi_value obi_set_sched_slice(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int64_t ns;
	NAPI_CALL(env, napi_get_value_int64(env, argv[0], &ns));
	struct obi_sched_attr a = { 0 };
	int r = 0;
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) != 0) {
		r = errno;
	} else {
		a.size = sizeof(a);
		a.sched_runtime = (uint64_t)ns;
		if (syscall(SYS_sched_setattr, 0, &a, 0) != 0)
			r = errno;
	}
	napi_value out;
	NAPI_CALL(env, napi_create_int32(env, r, &out));
	return out;
}
