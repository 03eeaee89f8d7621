/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBI_MAPS_EXEC_RULES_H
#define OBI_MAPS_EXEC_RULES_H
#include "sizing.h"
/* exec admission facts, written by user space before any process can match (see common/exec_admit.h);
 * the value is the 1-based index of the selector the fact came from (for debugging) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBI_MAX_EXEC_RULES);
	__type(key, struct obi_exec_rule_key);
	__type(value, __u32);
} exec_rules SEC(".maps");
#endif
