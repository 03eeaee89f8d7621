/**
 * Context propagation `tcp` across a network hop (docs/devdocs/propagation.md), on the real kernel
 * (lockdown on: nothing is written into process memory). Two network namespaces joined by a veth
 * pair (IPv4 10.231.x.0/24 and IPv6 fd00:231:x::/64), each with its own Python service
 * (ThreadingHTTPServer, test/helpers/apps/propagation/svc.py) in its own cgroup v2 directory:
 * service A (namespace A) serves a request and calls service B (namespace B) over one keep-alive
 * connection. Two agents, each selecting only its namespace's process by pid, so each attaches its
 * sockops program to its own process's cgroup only: agent A writes the option on A's client
 * sockets, agent B reads it on B's server sockets; neither sees the other's sockets (and the two
 * ends are in different namespaces, so no same-host join can link them: only the option can).
 * Both export to the OTLP test receiver.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitFor, type Proc } from '../helpers/harness.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { cgroup2Mount } from '../../src/pipeline/propagation.ts';

const root = join(import.meta.dirname, '../..');
const SVC = join(root, 'test/helpers/apps/propagation/svc.py');
const PY = '/usr/bin/python3';
const SERVER = 2;
const CLIENT = 3;

const tag = `${process.pid % 10000}`;
const net = (process.pid % 200) + 20; // 10.231.<net>.0/24, fd00:231:<net>::/64: unlikely to clash with another run
const ns = { a: `obi-pa-${tag}`, b: `obi-pb-${tag}` };
const veth = { a: `opa${tag}`, b: `opb${tag}` };
const addr4 = { a: `10.231.${net}.1`, b: `10.231.${net}.2` };
const addr6 = { a: `fd00:231:${net}::1`, b: `fd00:231:${net}::2` };

const path = (s: ReceivedSpan): string => String(s.attributes['url.path'] ?? new URL(String(s.attributes['url.full'] ?? 'http://x/')).pathname);

describe("propagation tcp: a trace crosses a veth hop between two network namespaces (two agents; then one, joining both ends)", () => {
  const cg = cgroup2Mount();
  const cgroups = { a: '', b: '' };
  let rx: OtlpReceiver;
  let a: Proc | undefined;
  let b: Proc | undefined;
  let agentA: TestAgent | undefined;
  let agentB: TestAgent | undefined;
  const ports = { a: 0, b: 0, bTls: 0 };
  const certDir = mkdtempSync(join(tmpdir(), 'obi-prop-cert-'));

  /** start a service in a namespace and a cgroup (the pid stays the shell's through both execs) */
  const startIn = (side: 'a' | 'b', args: string): Proc =>
    startProcess('/bin/sh', ['-c', `echo $$ > ${cgroups[side]}/cgroup.procs && exec ip netns exec ${ns[side]} ${PY} ${SVC} ${args}`], {
      env: { ...process.env, OTEL_SERVICE_NAME: `prop-${side}-${tag}` },
    });

  const startAgents = async (mode: string): Promise<void> => {
    const common = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.httpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
      OTEL_EBPF_TRACE_PRINTER: 'disabled',
      OTEL_EBPF_BPF_CONTEXT_PROPAGATION: mode,
    };
    agentA = await TestAgent.start({ ...common, OTEL_EBPF_TARGET_PID: String(a!.pid) });
    agentB = await TestAgent.start({ ...common, OTEL_EBPF_TARGET_PID: String(b!.pid) });
    await agentA.waitTracked(a!.pid);
    await agentB.waitTracked(b!.pid);
  };

  const stopAgents = async (): Promise<void> => {
    await agentA?.stop();
    await agentB?.stop();
    agentA = agentB = undefined;
  };

  const inA = async (url: string): Promise<string> => await run('ip', ['netns', 'exec', ns.a, 'curl', '-sf', '--max-time', '60', url]);

  const spansOf = (side: 'a' | 'b', kind: number, prefix: string): ReceivedSpan[] =>
    rx.spans.filter((s) => s.resource['service.name'] === `prop-${side}-${tag}` && s.kind === kind && path(s).startsWith(prefix));

  before(async () => {
    if (cg === undefined) throw new Error('no cgroup v2 hierarchy mounted: the sockops program needs one');
    const sh = async (cmd: string[]): Promise<void> => void (await run(cmd[0], cmd.slice(1)));
    await sh(['ip', 'netns', 'add', ns.a]);
    await sh(['ip', 'netns', 'add', ns.b]);
    await sh(['ip', 'link', 'add', veth.a, 'type', 'veth', 'peer', 'name', veth.b]);
    for (const side of ['a', 'b'] as const) {
      await sh(['ip', 'link', 'set', veth[side], 'netns', ns[side]]);
      await sh(['ip', '-n', ns[side], 'addr', 'add', `${addr4[side]}/24`, 'dev', veth[side]]);
      await sh(['ip', '-n', ns[side], 'addr', 'add', `${addr6[side]}/64`, 'dev', veth[side], 'nodad']);
      await sh(['ip', '-n', ns[side], 'link', 'set', veth[side], 'up']);
      await sh(['ip', '-n', ns[side], 'link', 'set', 'lo', 'up']);
      cgroups[side] = join(cg, `obi-prop-${side}-${tag}`);
      mkdirSync(cgroups[side], { recursive: true });
    }
    ports.a = await freePort();
    ports.b = await freePort();
    ports.bTls = await freePort();
    const cert = join(certDir, 'cert.pem');
    const key = join(certDir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=prop-b', '-days', '1', '-keyout', key, '-out', cert]);
    a = startIn('a', String(ports.a));
    b = startIn('b', `${ports.b} ${ports.bTls} ${cert} ${key}`);
    await waitFor('both services listening', () => a!.output().includes('listening') && b!.output().includes('listening'), 10_000);
    rx = await OtlpReceiver.start({ grpcPort: false });
    await startAgents('tcp');
  });

  after(async () => {
    await stopAgents().catch(() => {});
    for (const p of [a, b]) await p?.kill().catch(() => {});
    await rx?.close().catch(() => {});
    rmSync(certDir, { recursive: true, force: true });
    for (const n of Object.values(ns)) await run('ip', ['netns', 'del', n]).catch(() => {}); // takes the veth pair with it
    for (const d of Object.values(cgroups)) {
      if (d === '' || !existsSync(d)) continue;
      try {
        writeFileSync(join(d, 'cgroup.kill'), '1');
      } catch {
        /* older kernels: the processes were killed above */
      }
      await waitFor(`cgroup ${d} removed`, () => {
        try {
          rmdirSync(d);
          return true;
        } catch {
          return false;
        }
      }, 5_000).catch(() => {});
    }
  });

  /** one request into A that calls B once via `to`; returns A's server and client spans and B's server span */
  const oneHop = async (label: string, to: string): Promise<{ aSrv: ReceivedSpan; aCli: ReceivedSpan; bSrv: ReceivedSpan }> => {
    await inA(`http://${addr4.a}:${ports.a}/call?n=1&tag=${label}&to=${to}`); // curl -f: fails unless 200
    await waitFor(`3 spans of ${label}`, () => {
      const c = spansOf('a', CLIENT, `/leaf/${label}/`);
      return spansOf('b', SERVER, `/leaf/${label}/`).length >= 1 && c.length >= 1 && spansOf('a', SERVER, '/call').some((s) => s.spanId === c[0].parentSpanId);
    }, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const bSrv = spansOf('b', SERVER, `/leaf/${label}/`);
    const aCli = spansOf('a', CLIENT, `/leaf/${label}/`);
    assert.equal(bSrv.length, 1, `B server spans of ${label}`);
    assert.equal(aCli.length, 1, `A client spans of ${label}`);
    // A's server span of this request: the one whose span is A's client span's parent
    const aSrv = spansOf('a', SERVER, '/call').filter((s) => s.spanId === aCli[0].parentSpanId);
    assert.equal(aSrv.length, 1, `A's client span of ${label} is the child of an A server span`);
    return { aSrv: aSrv[0], aCli: aCli[0], bSrv: bSrv[0] };
  };

  test("start-up report: each agent names the mode and the one cgroup it attached (its process's)", () => {
    for (const [agent, side] of [[agentA!, 'a'], [agentB!, 'b']] as const) {
      const report = agent.logs.find((l) => l.includes('msg="context propagation"'));
      assert.ok(report !== undefined, agent.logs.join('\n'));
      assert.match(report, /mode=tcp/);
      assert.ok(report.includes(`cgroups=${cgroups[side]}`), report);
      assert.ok(!report.includes(cgroups[side === 'a' ? 'b' : 'a']), 'not the other namespace\'s cgroup');
    }
  });

  for (const [family, to] of [
    ['IPv4', (): string => `${addr4.b}:${ports.b}`],
    ['IPv6', (): string => `[${addr6.b}]:${ports.b}`],
    ['HTTPS (IPv4, the option is below TLS)', (): string => `${addr4.b}:${ports.bTls}&tls=1`],
  ] as const) {
    test(`${family}: one trace across the hop, B's server span is the child of A's client span`, async () => {
      const label = `one-${family.split(' ')[0]}`;
      const { aSrv, aCli, bSrv } = await oneHop(label, to());
      assert.equal(aCli.traceId, aSrv.traceId, "A's client span in its request's trace");
      assert.equal(bSrv.traceId, aSrv.traceId, "B's server span in A's trace (from the option)");
      assert.equal(bSrv.parentSpanId, aCli.spanId, "B's server span: child of A's client span");
      assert.equal(aSrv.parentSpanId, '', "A's server span: the root (curl sent no context)");
      assert.equal(spansOf('a', SERVER, '/call').filter((s) => s.traceId === aSrv.traceId).length, 1);
      assert.equal(rx.spans.filter((s) => s.traceId === aSrv.traceId).length, 3, 'exactly 3 spans in the trace');
    });
  }

  test('1,000 keep-alive requests on one connection each carry their own context', async () => {
    const N = 1000;
    await inA(`http://${addr4.a}:${ports.a}/call?n=${N}&tag=ka&to=${addr4.b}:${ports.b}`);
    await waitFor(`${N} + ${N} spans`, () => spansOf('b', SERVER, '/leaf/ka/').length >= N && spansOf('a', CLIENT, '/leaf/ka/').length >= N, 60_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    const bSrv = spansOf('b', SERVER, '/leaf/ka/');
    const aCli = spansOf('a', CLIENT, '/leaf/ka/');
    assert.equal(bSrv.length, N);
    assert.equal(aCli.length, N);
    const cliByPath = new Map(aCli.map((s) => [path(s), s]));
    assert.equal(cliByPath.size, N, 'one client span per request');
    assert.equal(new Set(aCli.map((s) => s.spanId)).size, N, `${N} distinct client span ids`);
    const traces = new Set(aCli.map((s) => s.traceId));
    assert.equal(traces.size, 1, 'all client calls in the trace of the one A request');
    let own = 0;
    for (const s of bSrv) {
      const c = cliByPath.get(path(s));
      assert.ok(c !== undefined, `a client span for ${path(s)}`);
      if (s.parentSpanId === c.spanId && s.traceId === c.traceId) own++;
    }
    assert.equal(own, N, "every B server span's parent is its own request's client span");
    const written = await metric(agentA!, 'obi_context_propagation_tcp_options_written_total');
    const parents = await metric(agentB!, 'obi_context_propagation_tcp_parents_total');
    const read = await metric(agentB!, 'obi_context_propagation_tcp_options_read_total');
    console.log(`# ${N} keep-alive requests: options written ${written} (agent A), read ${read}, used as parent ${parents} (agent B)`);
    assert.ok(written >= N, `options written: ${written}`);
    assert.ok(parents >= N, `server requests given their parent by an option: ${parents}`);
  });

  test('disabled: no option is written, B has no remote parent', async () => {
    await stopAgents();
    await startAgents('disabled');
    const label = 'off';
    await inA(`http://${addr4.a}:${ports.a}/call?n=3&tag=${label}&to=${addr4.b}:${ports.b}`);
    await waitFor('6 spans', () => spansOf('b', SERVER, `/leaf/${label}/`).length >= 3 && spansOf('a', CLIENT, `/leaf/${label}/`).length >= 3, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const bSrv = spansOf('b', SERVER, `/leaf/${label}/`);
    const aCli = spansOf('a', CLIENT, `/leaf/${label}/`);
    assert.equal(bSrv.length, 3);
    assert.equal(aCli.length, 3);
    for (const s of bSrv) {
      assert.equal(s.parentSpanId, '', 'no remote parent');
      assert.ok(!aCli.some((c) => c.traceId === s.traceId), "not in A's trace");
    }
    assert.equal(await metric(agentA!, 'obi_context_propagation_tcp_options_written_total'), 0);
    assert.equal(await metric(agentB!, 'obi_context_propagation_tcp_options_read_total'), 0);
    assert.match(await agentA!.metrics(), /obi_context_propagation_mode\{mode="disabled"\} 1/);
    assert.ok(agentA!.logs.some((l) => l.includes('msg="context propagation"') && l.includes('mode=disabled')));
  });

  test('one agent for both namespaces, propagation disabled: the same-host join links the two ends across the namespaces', async () => {
    // issue 11 item 2 (docs/devdocs/correlation.md): no option, nothing on the wire; one agent sees
    // A's client socket (10.231.x.1:p -> 10.231.x.2:port) and B's server socket (the same tuple
    // from the other end, in another network namespace) and pairs them
    await stopAgents();
    agentA = await TestAgent.start({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.httpPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
      OTEL_EBPF_TRACE_PRINTER: 'disabled',
      OTEL_EBPF_BPF_CONTEXT_PROPAGATION: 'disabled',
      OTEL_EBPF_TARGET_PID: `${a!.pid},${b!.pid}`,
    });
    await agentA.waitTracked(a!.pid);
    await agentA.waitTracked(b!.pid);
    const label = 'join';
    await inA(`http://${addr4.a}:${ports.a}/call?n=5&tag=${label}&to=${addr4.b}:${ports.b}`);
    await waitFor('5 + 5 spans', () => spansOf('b', SERVER, `/leaf/${label}/`).length >= 5 && spansOf('a', CLIENT, `/leaf/${label}/`).length >= 5, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    const bSrv = spansOf('b', SERVER, `/leaf/${label}/`);
    const aCli = new Map(spansOf('a', CLIENT, `/leaf/${label}/`).map((c) => [path(c), c]));
    assert.equal(bSrv.length, 5);
    assert.equal(aCli.size, 5);
    for (const s of bSrv) {
      const c = aCli.get(path(s))!;
      assert.equal(s.parentSpanId, c.spanId, `B's ${path(s)}: child of A's client span (joined)`);
      assert.equal(s.traceId, c.traceId);
    }
    assert.equal(await metric(agentA, 'obi_context_propagation_tcp_options_written_total'), 0);
  });
});

async function metric(agent: TestAgent, name: string): Promise<number> {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await agent.metrics());
  return m === null ? 0 : Number(m[1]);
}
