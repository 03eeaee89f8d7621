/* sched_yield(2) for the agent's long stretches of work (src/pipeline/yield.ts): the application
 * threads queued on the agent's CPU run first, so the agent's drain never holds a core for more
 * than a fraction of a millisecond at a time. Nothing else: the policy is in TypeScript. */
#include "common.h"
#include <sched.h>

napi_value obi_sched_yield(napi_env env, napi_callback_info info)
{
	(void)env;
	(void)info;
	sched_yield();
	return NULL;
}
