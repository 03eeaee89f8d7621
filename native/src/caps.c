/* Effective capabilities from the permitted set: the image's Node binary carries *permitted*
 * file capabilities only (setcap ...+p), so it starts with whatever subset the container grants
 * (no effective bit: the kernel then does not refuse to exec when some are missing) and raises
 * them here, on the main thread, before anything needs them. Threads started later inherit them. */
#include "common.h"
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>

napi_value obi_raise_capabilities(napi_env env, napi_callback_info info)
{
	(void)info;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	if (syscall(SYS_capget, &hdr, data) != 0) {
		napi_throw_error(env, "OBI_ERR_NATIVE", "capget failed");
		return NULL;
	}
	if (data[0].effective != data[0].permitted || data[1].effective != data[1].permitted) {
		data[0].effective = data[0].permitted;
		data[1].effective = data[1].permitted;
		if (syscall(SYS_capset, &hdr, data) != 0) {
			napi_throw_error(env, "OBI_ERR_NATIVE", "capset failed");
			return NULL;
		}
	}
	/* the effective set, as the hex of /proc/self/status CapEff */
	char hex[17];
	snprintf(hex, sizeof(hex), "%08x%08x", data[1].effective, data[0].effective);
	napi_value s;
	NAPI_CALL(env, napi_create_string_utf8(env, hex, NAPI_AUTO_LENGTH, &s));
	return s;
}
