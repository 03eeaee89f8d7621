/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Forces every wire type into the object's BTF so scripts/gen-abi.ts can
 * generate the TypeScript decoders from it (OBI bpf/common/common.c does the same).
 */
#ifndef OBI_ABI_BTF_ANCHOR_H
#define OBI_ABI_BTF_ANCHOR_H
const struct obi_event_header *obi_unused_event_header __attribute__((unused));
const struct obi_data_event *obi_unused_data_event __attribute__((unused));
const struct obi_conn_event *obi_unused_conn_event __attribute__((unused));
const struct obi_proc_event *obi_unused_proc_event __attribute__((unused));
const struct obi_stream_event *obi_unused_stream_event __attribute__((unused));
const struct obi_conn_key *obi_unused_conn_key __attribute__((unused));
const struct obi_pid_info *obi_unused_pid_info __attribute__((unused));
const enum obi_event_type *obi_unused_event_type __attribute__((unused));
const enum obi_direction *obi_unused_direction __attribute__((unused));
const enum obi_role *obi_unused_role __attribute__((unused));
const enum obi_data_flags *obi_unused_data_flags __attribute__((unused));
const enum obi_stat *obi_unused_stat __attribute__((unused));
const enum obi_proc_flags *obi_unused_proc_flags __attribute__((unused));
const struct obi_exec_rule_key *obi_unused_exec_rule_key __attribute__((unused));
const struct obi_large_key *obi_unused_large_key __attribute__((unused));
const struct obi_sig_probe *obi_unused_sig_probe __attribute__((unused));
const enum obi_ctx_flags *obi_unused_ctx_flags __attribute__((unused));
const enum obi_prop_mode *obi_unused_prop_mode __attribute__((unused));
const enum obi_prop_ctl *obi_unused_prop_ctl __attribute__((unused));
const struct obi_prop_pid *obi_unused_prop_pid __attribute__((unused));
const struct obi_prop_sock *obi_unused_prop_sock __attribute__((unused));
const struct obi_prop_thread *obi_unused_prop_thread __attribute__((unused));
#endif
