/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Entry point of the generic tracer: includes and the license only (house rule 3). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../abi/events.h"
#include "../abi/btf_anchor.h"
#include "sock_io.h"
#include "sock_conn.h"
#include "proc.h"
#include "ssl.h"
#include "go_tls.h"
#include "sigprobe.h"
#include "propagation.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
