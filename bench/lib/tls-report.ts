/**
 * The report's TLS sentences: what the TLS uprobes cost per request of the nginx HTTPS row (the
 * kernel entry costs measured before the runs times the calls the agent counted), and the calls per
 * request in each scenario's breakdown line (`obi_ebpf_tls_calls_total{process}`).
 */
import { f2 } from './format.ts';
import type { KernelEntryCosts } from './kernel-entry.ts';
import type { Row } from './types.ts';

/** why the nginx HTTPS row lost throughput, the TLS part: `r` the obi-ts row, `none` its baseline */
export function tlsCaptureNote(r: Row, none: Row, kernel: KernelEntryCosts): string {
  const call = kernel.uprobeEmulatedUs + kernel.uretprobeUs;
  const calls = r.tlsCallsPerRequest?.median;
  const other = r.tlsOtherCallsPerRequest?.median;
  const perRequest =
    calls !== undefined
      ? `nginx made ${f2(calls)} such calls per request in these runs (obi_ebpf_tls_calls_total: its read, its response's write, and a read that finds nothing yet), ${f2(calls * call)} µs of kernel entry per request at those costs`
      : "a request takes at least two such calls (its read and its response's write; one more when nginx reads again before the next request has arrived)";
  const gen0 = none.loadGenCpuUsPerRequest?.median;
  const gen1 = r.loadGenCpuUsPerRequest?.median;
  const genCpu = gen0 !== undefined && gen1 !== undefined ? ` (its CPU per request ${f2(gen0)} → ${f2(gen1)} µs)` : '';
  const loadGen =
    other !== undefined && other > 0
      ? `; the load generator runs the same libssl file and the probes are attached per file (so that processes forked or started later are captured from their first call), so its own ${f2(other)} calls per request trap as well, although it is not selected${genCpu}`
      : '';
  return `of the capture, the TLS uprobes: every SSL read or write call of nginx is a uprobe hit and a return probe, ${f2(call)} µs of kernel entry on this machine before any program runs (${f2(kernel.uprobeEmulatedUs)} + ${f2(kernel.uretprobeUs)}, see the kernel entry costs above), and ${perRequest}${loadGen}`;
}

/** the breakdown line's TLS part, where the uprobes intercepted any call */
export function tlsCallsPerRequest(x: Row): string {
  const own = x.tlsCallsPerRequest?.median ?? 0;
  const other = x.tlsOtherCallsPerRequest?.median ?? 0;
  if (own <= 0 && other <= 0) return '';
  return `; TLS reads and writes intercepted by the uprobes: ${f2(own)} per request of the application, ${f2(other)} of other processes running the same library file`;
}
