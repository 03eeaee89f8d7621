/**
 * Python asyncio (aiohttp, Debian python3-aiohttp) on the real kernel: one thread serves every
 * request, so thread correlation is sound only while one request is open on it
 * (docs/devdocs/correlation.md, `thread` policy). Checked here:
 * - one request at a time: each aiohttp client call (after an awaited sleep) is the child of its own
 *   request, and the leaf's server span is the child of that call (both ends);
 * - 20 concurrent requests interleaved on the loop: never a wrong link. A client span is either the
 *   child of its own request or unlinked, and every unlinked one is counted
 *   `obi_unlinked_client_spans_total{reason="overlap"}`, exactly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';

const apps = join(import.meta.dirname, '../helpers/apps');
const PY = '/usr/bin/python3';
const N = 20;

describe('correlation: Python asyncio (aiohttp), one thread for every request', () => {
  let agent: TestAgent;
  let leaf: Proc;
  let hop: Proc;
  const ports = { leaf: 0, hop: 0 };

  before(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    leaf = startProcess(PY, [join(apps, 'chain/hop.py'), String(ports.leaf)], { env: { ...process.env, OTEL_SERVICE_NAME: 'leaf' } });
    hop = startProcess(PY, [join(apps, 'asyncio_hop.py'), String(ports.hop), `http://127.0.0.1:${ports.leaf}`], { env: { ...process.env, OTEL_SERVICE_NAME: 'aio-hop' } });
    for (const p of Object.values(ports)) await waitForPort(p, '127.0.0.1', 30_000);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: Object.values(ports).join(',') });
    for (const pid of [leaf.pid, hop.pid]) await agent.waitTracked(pid);
  });

  after(async () => {
    await agent?.stop();
    for (const p of [leaf, hop]) await p?.kill();
  });

  const idOf = (s: SpanJSON): string | undefined => /\/[qc]\/\d+$/.exec(String(s.attributes['url.path'] ?? s.attributes['url.full'] ?? ''))?.[0];
  const byId = (spans: SpanJSON[], pid: number, kind: string): Map<string, SpanJSON> => {
    const m = new Map<string, SpanJSON>();
    for (const s of spans) if (s.service.pid === pid && s.kind === kind) m.set(idOf(s)!, s);
    return m;
  };
  const spansOf = async (prefix: string): Promise<{ srv: Map<string, SpanJSON>; cli: Map<string, SpanJSON>; leafSrv: Map<string, SpanJSON> }> => {
    const mine = (s: SpanJSON): boolean => idOf(s)?.startsWith(`/${prefix}/`) === true;
    await agent.waitSpans(3 * N, mine, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    const spans = agent.spans(mine);
    assert.equal(spans.length, 3 * N);
    const out = { srv: byId(spans, hop.pid, 'server'), cli: byId(spans, hop.pid, 'client'), leafSrv: byId(spans, leaf.pid, 'server') };
    for (const m of Object.values(out)) assert.equal(m.size, N);
    for (const [id, c] of out.cli) {
      assert.equal(out.leafSrv.get(id)!.parentSpanId, c.spanId, `leaf request ${id}: child of the client span (both ends)`);
      assert.equal(out.leafSrv.get(id)!.traceId, c.traceId);
    }
    return out;
  };

  test('one request at a time: each client call is the child of its own request', async () => {
    for (let i = 0; i < N; i++) await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${ports.hop}/q/${i}`]);
    const { srv, cli } = await spansOf('q');
    for (const [id, c] of cli) {
      assert.equal(c.parentSpanId, srv.get(id)!.spanId, `client call of ${id}`);
      assert.equal(c.traceId, srv.get(id)!.traceId);
    }
    assert.equal(await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'overlap' }), undefined);
  });

  test(`${N} concurrent requests on one loop: no wrong link, every unlinked call counted as overlap`, async (t) => {
    const urls = Array.from({ length: N }, (_, i) => `http://127.0.0.1:${ports.hop}/c/${i}`);
    await run('curl', ['-sf', '-Z', '--parallel-max', String(N), ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
    const { srv, cli } = await spansOf('c');
    let linked = 0;
    for (const [id, c] of cli) {
      if (c.parentSpanId === undefined) continue;
      assert.equal(c.parentSpanId, srv.get(id)!.spanId, `client call of ${id}: linked only to its own request`);
      assert.equal(c.traceId, srv.get(id)!.traceId);
      linked++;
    }
    const overlap = (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'overlap' })) ?? 0;
    assert.equal(overlap, N - linked, `${linked} linked, ${overlap} counted overlap`);
    assert.ok(overlap > 0, 'interleaved requests did overlap on the loop');
    t.diagnostic(`${linked} of ${N} client calls linked, ${overlap} unlinked (overlap)`);
  });
});
