/**
 * DNS (client side) end to end on the real kernel: Debian's dnsmasq on port 53 of a private
 * loopback address (test/helpers/dns-server.ts); dig (bind9-dnsutils), Node's dns.Resolver
 * (c-ares) and Python's socket.getaddrinfo through glibc's resolver (pointed at the test server by
 * a resolv.conf bind-mounted in a private mount namespace of the client only) as traced clients.
 * UDP capture is on because `dns` is listed in an `instrumentations` key (off by default).
 * Exact spans: names, answers, NXDOMAIN, a truncated UDP answer and its TCP retry, and
 * dns_lookup_duration_seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, sleep, waitFor, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { BIG_TXT_RECORDS, startDnsmasq, type DnsServer } from '../helpers/dns-server.ts';

const nodeClient = join(import.meta.dirname, '../helpers/apps/dns-client.mjs');

describe('DNS: dig, Node dns and glibc getaddrinfo against dnsmasq', () => {
  let agent: TestAgent;
  let server: DnsServer;
  let gate: Gate;
  let dir: string;

  before(async () => {
    server = await startDnsmasq();
    gate = createGate();
    dir = mkdtempSync(join(tmpdir(), 'obi-dns-'));
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_TRACES_INSTRUMENTATIONS: 'http,dns' });
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    gate?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const named = (service: string) => (s: SpanJSON) => s.service.name === service;
  const summary = (s: SpanJSON) => [s.name, s.attributes['network.transport'], s.attributes['dns.answers'], s.attributes['error.type'] ?? ''];

  /** the spans of `service`, once `count` are there and a moment has passed for any extra one */
  async function spansOf(service: string, count: number): Promise<SpanJSON[]> {
    await agent.waitSpans(count, named(service));
    await sleep(300);
    return agent.spans(named(service));
  }

  function checkCommon(spans: SpanJSON[]): void {
    for (const s of spans) {
      assert.equal(s.kind, 'client');
      assert.equal(s.protocol, 'dns');
      assert.equal(s.attributes['server.address'], server.address);
      assert.equal(s.attributes['server.port'], 53);
      assert.equal(s.status, s.attributes['error.type'] === undefined ? 'unset' : 'error');
    }
  }

  test('dig: an A record, NXDOMAIN, and a TXT answer truncated over UDP then retried over TCP', async () => {
    const at = `@${server.address}`;
    let output = '';
    for (const q of [['web.obi.test', 'A', '+short'], ['missing.obi.test', 'A'], ['big.obi.test', 'TXT']]) {
      const r = await runGated(agent, gate, 'dig', [at, ...q, '+tries=1', '+time=5'], { env: { OTEL_SERVICE_NAME: 'dig-app' } });
      assert.equal(r.code, 0, r.output);
      output += r.output;
    }
    assert.match(output, /10\.1\.2\.3/);
    assert.match(output, /status: NXDOMAIN/);
    assert.match(output, /Truncated, retrying in TCP mode/);
    const spans = await spansOf('dig-app', 4);
    checkCommon(spans);
    assert.deepEqual(spans.map(summary), [
      ['A web.obi.test', 'udp', 1, ''],
      ['A missing.obi.test', 'udp', 0, 'NXDOMAIN'],
      ['TXT big.obi.test', 'udp', 3, ''], // what fits in 512 bytes, TC set
      ['TXT big.obi.test', 'tcp', BIG_TXT_RECORDS, ''],
    ]);
    assert.equal(spans[0].attributes['dns.question.name'], 'web.obi.test');
    // one series per dig process (instance): summed
    const count = async (errorType: string): Promise<number> =>
      (await agent.metrics())
        .split('\n')
        .filter((l) => l.startsWith('dns_lookup_duration_seconds_count{') && l.includes('service_name="dig-app"') && l.includes(`error_type="${errorType}"`))
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    // metrics are recorded from the same spans, possibly a moment after they are printed
    await waitFor('4 lookups in dns_lookup_duration_seconds', async () => (await count('')) + (await count('NXDOMAIN')) >= 4, 10_000, 100).catch(() => undefined);
    assert.equal(await count(''), 3);
    assert.equal(await count('NXDOMAIN'), 1);
  });

  test('Node dns.Resolver (c-ares): resolve4, ENOTFOUND, resolveTxt over UDP then TCP', async () => {
    const r = await runGated(agent, gate, nodeBin, [nodeClient, server.address], { env: { OTEL_SERVICE_NAME: 'node-dns-app' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { a: ['10.1.2.3'], missing: 'ENOTFOUND', txt: BIG_TXT_RECORDS });
    const spans = await spansOf('node-dns-app', 4);
    checkCommon(spans);
    assert.deepEqual(spans.map(summary), [
      ['A web.obi.test', 'udp', 1, ''],
      ['A missing.obi.test', 'udp', 0, 'NXDOMAIN'],
      ['TXT big.obi.test', 'udp', 3, ''], // what fits in 512 bytes, TC set
      ['TXT big.obi.test', 'tcp', BIG_TXT_RECORDS, ''],
    ]);
  });

  test('Python socket.getaddrinfo through the system resolver (glibc: A and AAAA in one sendmmsg)', async () => {
    const rc = join(dir, 'resolv.conf');
    writeFileSync(rc, `nameserver ${server.address}\noptions attempts:1 timeout:5\n`);
    const py = "import socket,json; print(json.dumps(sorted({a[4][0] for a in socket.getaddrinfo('web.obi.test', 80, proto=socket.IPPROTO_TCP)})))";
    // the mount namespace is the client's own: the host's /etc/resolv.conf is not changed
    const r = await runGated(agent, gate, 'unshare', ['-m', '/bin/sh', '-c', `mount --bind ${rc} /etc/resolv.conf && exec /usr/bin/python3 -c "${py}"`], {
      env: { OTEL_SERVICE_NAME: 'py-getaddrinfo' },
    });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), ['10.1.2.3']);
    const spans = await spansOf('py-getaddrinfo', 2);
    checkCommon(spans);
    assert.deepEqual(spans.map(summary).sort(), [
      ['A web.obi.test', 'udp', 1, ''],
      ['AAAA web.obi.test', 'udp', 0, ''],
    ]);
  });
});

describe('DNS is off by default (as in OBI)', () => {
  test('with no `instrumentations` key listing dns, dig makes no span and no DNS metric', async () => {
    const server = await startDnsmasq();
    const gate = createGate();
    const agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
    try {
      const r = await runGated(agent, gate, 'dig', [`@${server.address}`, 'web.obi.test', 'A', '+tries=1', '+time=5', '+short'], { env: { OTEL_SERVICE_NAME: 'dig-off' } });
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /10\.1\.2\.3/);
      await sleep(500);
      assert.deepEqual(agent.spans((s) => s.service.pid === r.pid), []);
      assert.equal(await agent.metricValue('dns_lookup_duration_seconds_count', {}), undefined);
    } finally {
      await agent.stop();
      await server.stop();
      gate.cleanup();
    }
  });
});
