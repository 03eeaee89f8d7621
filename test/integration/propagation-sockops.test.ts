/**
 * The sockops program's per-segment callbacks (TCP option writing, `tcp` propagation, the
 * default) are turned on only for connections a traced process makes. A client that is not
 * traced but runs in the same cgroup as a selected server (a load generator, a sidecar, a shell)
 * must not pay a callback per segment it sends. Measured with the kernel's own BPF run counts
 * (kernel.bpf_stats_enabled): 200 keep-alive requests from an untraced curl to a traced server
 * cost a handful of per-connection callbacks, not one per segment; the same requests from a Python
 * client the agent traces (selected by its command line, tracked before it connects) still get
 * theirs, and an option each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, run } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

const REQUESTS = 200;

async function sockopsRuns(): Promise<number> {
  const progs = JSON.parse(await run('bpftool', ['prog', 'show', '-j'])) as { name?: string; run_cnt?: number }[];
  return progs.filter((p) => p.name === 'obi_sockops').reduce((t, p) => t + (p.run_cnt ?? 0), 0);
}

describe('propagation tcp: per-segment sockops callbacks only on traced clients', () => {
  let agent: TestAgent;
  let nginx: Nginx;
  let port: number;
  let dir: string;
  let statsBefore: string;

  before(async () => {
    statsBefore = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
    dir = mkdtempSync(join(tmpdir(), 'obi-sockops-'));
    port = await freePort();
    nginx = await startNginx(port, { workers: 1 });
    // the server by its port, the traced client by its command line
    const config = join(dir, 'obi.yaml');
    writeFileSync(config, `discovery:\n  instrument:\n    - open_ports: ${port}\n    - cmd_args: "*obi-sockops-client*"\n`);
    agent = await TestAgent.start({ OTEL_EBPF_CONFIG_PATH: config });
    for (const pid of [nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(pid);
  });

  after(async () => {
    await agent?.stop();
    await nginx?.stop();
    if (statsBefore !== undefined) writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsBefore);
    rmSync(dir, { recursive: true, force: true });
  });

  const urls = (): string[] => Array.from({ length: REQUESTS }, (_, i) => `http://127.0.0.1:${port}/?r=${i}`).flatMap((u) => ['-o', '/dev/null', u]);

  test(`${REQUESTS} keep-alive requests from an untraced curl: a few callbacks per connection, none per segment`, async () => {
    const before = await sockopsRuns();
    await run('/usr/bin/curl', ['-sf', ...urls()]);
    const runs = (await sockopsRuns()) - before;
    console.log(`# untraced: ${runs} sockops callbacks`);
    assert.ok(runs <= 10, `${runs} sockops callbacks for one connection of ${REQUESTS} requests`);
  });

  test(`the same from a traced client: a callback per segment sent, and an option on each request`, async () => {
    const written = (await agent.metricValue('obi_context_propagation_tcp_options_written_total', {})) ?? 0;
    const before = await sockopsRuns();
    // tracked (by the agent, from its exec) during its first second, then one connection
    const client = `import http.client, time  # obi-sockops-client
time.sleep(1)
c = http.client.HTTPConnection('127.0.0.1', ${port})
for i in range(${REQUESTS}):
    c.request('GET', f'/?r={i}')
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
`;
    await run('/usr/bin/python3', ['-c', client, 'obi-sockops-client']);
    const runs = (await sockopsRuns()) - before;
    console.log(`# traced: ${runs} sockops callbacks`);
    assert.ok(runs >= REQUESTS, `${runs} sockops callbacks for ${REQUESTS} requests`);
    await new Promise((r) => setTimeout(r, 100)); // the agent reads its counters at most every 50 ms
    const options = ((await agent.metricValue('obi_context_propagation_tcp_options_written_total', {})) ?? 0) - written;
    assert.ok(options >= REQUESTS, `${options} options written for ${REQUESTS} requests`);
  });
});
