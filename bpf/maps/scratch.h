/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_SCRATCH_H
#define OBI_MAPS_SCRATCH_H
/*
 * Per-CPU scratch where a data record is assembled before bpf_ringbuf_output
 * (reserve needs a constant size; output takes the real, variable one).
 * Twice OBI_MAX_CAPTURE of payload room so that "offset < MAX && len < MAX"
 * is always in bounds for the verifier.
 */
struct obi_scratch {
	struct obi_data_event ev;
	__u8 data[2 * OBI_MAX_CAPTURE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct obi_scratch);
} scratch SEC(".maps");
#endif
