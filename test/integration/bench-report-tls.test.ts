/**
 * The bench report's TLS sentences (bench/lib/tls-report.ts), from samples: the HTTPS throughput
 * note counts the TLS uprobes' kernel entries (the costs measured before the runs times the calls
 * the agent counted), and the breakdown line gives the calls per request, of the application and of
 * other processes running the same library file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRows, buildTargets, renderMarkdown } from '../../bench/lib/report.ts';
import { describeKernelEntry } from '../../bench/lib/kernel-entry.ts';
import { parseOptions } from '../../bench/run.ts';
import type { BenchResult, Sample } from '../../bench/lib/types.ts';
import { agentOf, sample } from '../helpers/bench-samples.ts';

test('a missed HTTPS throughput target counts the TLS uprobes\' kernel entries when the run measured them', () => {
  const samples: Sample[] = [];
  for (let rep = 0; rep < 3; rep++) {
    samples.push(sample('nginx-https', 'none', rep, 30_000, { appCpuUsPerRequest: 30 }));
    samples.push(sample('nginx-https', 'obi', rep, 12_000, { appCpuUsPerRequest: 75, agent: agentOf(12_000) }));
  }
  const rows = buildRows(samples);
  const kernel = { syscallUs: 1, uprobeEmulatedUs: 4.5, uprobeSteppedUs: 18, uprobeNop5Us: 1.2, uretprobeUs: 1.25 };
  const note = (k?: Parameters<typeof buildTargets>[3]) => buildTargets(rows, samples, [], k).find((x) => x.measure.startsWith('nginx static file, HTTPS'))!.note;
  assert.match(note(kernel), /every SSL read or write call of nginx is a uprobe hit and a return probe, 5\.75 µs of kernel entry on this machine before any program runs \(4\.50 \+ 1\.25,/);
  assert.match(note(kernel), /a request takes at least two such calls/, 'a run without the counts');
  assert.doesNotMatch(note(), /uprobe hit/);
  assert.doesNotMatch(note({ error: 'x86-64 only (this is arm64)' }), /uprobe hit/);
  const md = describeKernelEntry(kernel)!;
  assert.match(md, /a system call 1\.00 µs; a uprobe hit 4\.50 µs on an instruction the kernel emulates \(`push`, where the TLS probes sit\), 18\.0 µs on one it single-steps/);
  assert.equal(describeKernelEntry(undefined), undefined);
  assert.equal(describeKernelEntry({ error: 'no tracefs' }), 'Kernel entry costs on this machine: not measured (no tracefs).');
});

test('the HTTPS note and the breakdown line count the TLS calls the agent intercepted, of nginx and of the load generator', () => {
  const samples: Sample[] = [];
  for (let rep = 0; rep < 3; rep++) {
    samples.push(sample('nginx-https', 'none', rep, 30_000, { appCpuUsPerRequest: 30, loadGenCpuUsPerRequest: 20 }));
    samples.push(sample('nginx-https', 'obi', rep, 12_000, {
      appCpuUsPerRequest: 75,
      loadGenCpuUsPerRequest: 24 + rep,
      agent: agentOf(12_000, { tlsCallsPerRequest: [3, 3.5, 2.5][rep], tlsOtherCallsPerRequest: 2 }),
    }));
  }
  const rows = buildRows(samples);
  const kernel = { syscallUs: 1, uprobeEmulatedUs: 4.5, uprobeSteppedUs: 18, uprobeNop5Us: 1.2, uretprobeUs: 1.25 };
  const note = buildTargets(rows, samples, [], kernel).find((x) => x.measure.startsWith('nginx static file, HTTPS'))!.note;
  assert.match(note, /nginx made 3\.00 such calls per request in these runs \(obi_ebpf_tls_calls_total: .*\), 17\.25 µs of kernel entry per request at those costs; /);
  assert.match(note, /so its own 2\.00 calls per request trap as well, although it is not selected \(its CPU per request 20\.00 → 25\.00 µs\)/);
  assert.doesNotMatch(note, /at least two such calls/);
  const md = renderMarkdown({ schema: 1, date: '2026-01-01', startedAt: 'a', finishedAt: 'b', machine: { kernel: 'k', cpu: 'c', cpus: 2, memMB: 1000, node: 'v24', loadAvgStart: [0], loadAvgEnd: [1] }, options: parseOptions([]), samples, errors: [], rows, targets: [], pending: [], notes: [], micro: [] } satisfies BenchResult, 'x.svg');
  assert.match(md, /; TLS reads and writes intercepted by the uprobes: 3\.00 per request of the application, 2\.00 of other processes running the same library file\./);
});
