/**
 * The benchmark's memory breakdown (bench/lib/memory.ts): /proc/PID/smaps summed by kind on real
 * processes (this one, and a bare node it starts), and the RSS target's note built from runs
 * that measured it. The agent's own breakdown under load is checked by bench-smoke.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bareNodeRss, rssByKind, rssMissNote, rssTotal } from '../../bench/lib/memory.ts';
import { buildRows, buildTargets } from '../../bench/lib/report.ts';
import type { RssByKind, Sample } from '../../bench/lib/types.ts';
import { agentOf, sample } from '../helpers/bench-samples.ts';

function vmRssMB(pid: number | 'self'): number {
  return (Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024) / 1e6;
}

test('rssByKind sums /proc/PID/smaps by kind: the kinds add up to VmRSS, the executable is node', async () => {
  const before = vmRssMB('self');
  const m = rssByKind(process.pid)!;
  const after = vmRssMB('self');
  // smaps is read between two VmRSS readings; the process allocates while reading it
  assert.ok(rssTotal(m) >= Math.min(before, after) - 2 && rssTotal(m) <= Math.max(before, after) + 2, `${JSON.stringify(m)} vs VmRSS ${before}–${after} MB`);
  assert.ok(m.executable > 10, `node's executable: ${m.executable} MB`);
  assert.ok(m.libraries > 0 && m.anonymous > 5, JSON.stringify(m));
  assert.equal(m.bpf, 0); // no BPF map in a test process
  assert.equal(rssByKind(2 ** 22 + 1), undefined); // no such process
  const bare = (await bareNodeRss())!;
  assert.ok(bare.executable > 10 && rssTotal(bare) > bare.executable && rssTotal(bare) < rssTotal(m), `bare node ${JSON.stringify(bare)}, this test process ${JSON.stringify(m)}`);
});

test('a missed RSS target says where the memory is: the worst row, the agent with nothing selected, a bare node', () => {
  const kinds = (executable: number, anonymous: number): RssByKind => ({ executable, libraries: 5, anonymous, bpf: 8.4 });
  const samples: Sample[] = [];
  for (let rep = 0; rep < 3; rep++) {
    samples.push(sample('nginx-http', 'none', rep, 40_000));
    samples.push(sample('nginx-http', 'idle', rep, 39_000, { agent: agentOf(39_000, { rssSteadyMB: 104 + rep, rssByKind: kinds(48 + rep, 42) }) }));
    samples.push(sample('nginx-http', 'obi', rep, 30_000, { agent: agentOf(30_000, { rssSteadyMB: 130, rssByKind: kinds(49, 67 + rep) }) }));
  }
  const bare: RssByKind = { executable: 31, libraries: 3.6, anonymous: 8.2, bpf: 0 };
  const rss = buildTargets(buildRows(samples), samples, [], undefined, bare).find((t) => t.measure === 'agent memory, RSS steady')!;
  assert.equal(rss.status, 'FAIL');
  assert.equal(
    rss.note,
    'nginx-http 130.0 MB; with nothing selected 105.0 MB; where it is, in nginx-http (medians): the node executable 49.0 MB, other files 5.0 MB, anonymous memory (V8\'s heaps, malloc) 68.0 MB, BPF maps (the ring buffer) 8.4 MB; ' +
      'with nothing selected: the node executable 49.0 MB, other files 5.0 MB, anonymous memory (V8\'s heaps, malloc) 42.0 MB, BPF maps (the ring buffer) 8.4 MB; ' +
      'a bare node process (an idle timer) holds 42.8 MB (31.0 MB of it its executable), so the agent\'s code, modules and state add 61.6 MB before any traffic; ' +
      'the load adds +26.0 MB (anonymous memory +26.0 MB, BPF maps +0.0 MB, the executable +0.0 MB); ' +
      'closing it needs mostly less memory held under load (fewer objects and captured bytes in flight, a smaller ring where the capture allows it), then a smaller start-up footprint (fewer and lazier imports, a V8 heap cap)',
  );
  // an idle agent further over the target than the load adds: the start-up footprint first
  const rows = buildRows(samples);
  const idleRows = rows.filter((r) => r.config === 'idle');
  const worst = rows.find((r) => r.config === 'obi')!;
  assert.match(rssMissNote(idleRows, worst, bare, 70)!, /; closing it needs mostly a smaller start-up footprint \(fewer and lazier imports, a V8 heap cap\): the agent is over the target by 34\.4 MB before any traffic$/);
  // runs from before the breakdown existed keep the general explanation
  const old = samples.map((s) => (s.agent ? { ...s, agent: { ...s.agent, rssByKind: undefined } } : s));
  const oldNote = buildTargets(buildRows(old), old, []).find((t) => t.measure === 'agent memory, RSS steady')!.note;
  assert.match(oldNote, /; most of it is there before any traffic: the node executable's mapped code/);
});
