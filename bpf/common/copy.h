/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bounded copies of user memory into the per-CPU scratch record. */
#ifndef OBI_COMMON_COPY_H
#define OBI_COMMON_COPY_H
#include "../maps/scratch.h"

/* copy n bytes of user memory to s->data[off]; returns bytes copied (0 on fault) */
static __always_inline __u32 copy_user(struct obi_scratch *s, __u32 off, __u64 src, __u32 n)
{
	if (off >= OBI_MAX_CAPTURE || n == 0)
		return 0;
	if (n > OBI_MAX_CAPTURE)
		n = OBI_MAX_CAPTURE;
	/* a mask the compiler cannot drop (it knows off < MAX; the verifier may not) */
	asm volatile("%[off] &= %[mask]" : [off] "+r"(off) : [mask] "i"(OBI_MAX_CAPTURE - 1));
	__u64 len = n;
	/* clamp the verifier can see: len <= MAX */
	asm volatile("if %[len] <= %[max] goto +1\n\t%[len] = %[max]" : [len] "+r"(len) : [max] "i"(OBI_MAX_CAPTURE));
	if (bpf_probe_read_user(&s->data[off], len, (void *)src) != 0)
		return 0;
	return len;
}

#endif
