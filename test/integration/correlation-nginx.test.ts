/**
 * nginx as a reverse proxy under 50 concurrent requests (docs/devdocs/correlation.md, event
 * correlation): one worker serves them all on one thread. Each request carries its own id in
 * the URL; every upstream (client) span must be the child of the downstream (server) span of the
 * same id, or have no parent and be counted (`obi_unlinked_client_spans_total{reason="ambiguous"}`),
 * never the child of another request. Both upstream paths: a new connection per request
 * (`connect()` right after the downstream read) and keep-alive upstream connections (the write on
 * a reused connection right after the downstream read). The upstream's server spans (a Python
 * threaded server) are the children of nginx's upstream spans (both ends on this host).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, freePort, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

const apps = join(import.meta.dirname, '../helpers/apps/chain');
const N = 50;

describe('correlation: nginx reverse proxy, 50 concurrent requests', () => {
  let agent: TestAgent;
  let leaf: Proc;
  let nginx: Nginx;
  let proxyPort: number;

  before(async () => {
    const leafPort = await freePort();
    proxyPort = await freePort();
    leaf = startProcess('/usr/bin/python3', [join(apps, 'hop.py'), String(leafPort)], { env: { ...process.env, OTEL_SERVICE_NAME: 'upstream' } });
    nginx = await startNginx(await freePort(), {
      workers: 1,
      extraServer: `
  upstream ka { server 127.0.0.1:${leafPort}; keepalive 4; }
  server {
    listen 127.0.0.1:${proxyPort};
    location /new/ { proxy_pass http://127.0.0.1:${leafPort}; }
    location /ka/ { proxy_pass http://ka; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
    });
    await waitForPort(leafPort);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${proxyPort},${leafPort}` });
    for (const pid of [leaf.pid, nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(pid);
  });

  after(async () => {
    await agent?.stop();
    await leaf?.kill();
    await nginx?.stop();
  });

  const idOf = (s: SpanJSON): string | undefined => /\/(new|ka)\/(\d+)$/.exec(String(s.attributes['url.path'] ?? s.attributes['url.full'] ?? ''))?.[0];

  for (const mode of ['new', 'ka'] as const) {
    test(`${mode === 'new' ? 'a new upstream connection per request' : 'keep-alive upstream connections'}: every upstream span's parent is its own request, or none and counted`, async () => {
      const before = (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0;
      const urls = Array.from({ length: N }, (_, i) => `http://127.0.0.1:${proxyPort}/${mode}/${i}`);
      const t0 = Date.now();
      await run('curl', ['-sf', '-Z', '--parallel-max', String(N), ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
      console.log(`# curl ${Date.now() - t0} ms`);
      const mine = (s: SpanJSON): boolean => idOf(s)?.startsWith(`/${mode}/`) === true;
      const spans = await agent.waitSpans(3 * N, mine, 20_000);
      console.log(`# spans ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(agent.spans(mine).length, 3 * N);
      const workers = nginx.workerPids();
      const by = (kind: string, pids: number[]): Map<string, SpanJSON> => {
        const m = new Map<string, SpanJSON>();
        for (const s of spans) if (s.kind === kind && pids.includes(s.service.pid)) m.set(idOf(s)!, s);
        return m;
      };
      const down = by('server', workers);
      const up = by('client', workers);
      const leafSrv = by('server', [leaf.pid]);
      assert.equal(down.size, N);
      assert.equal(up.size, N);
      assert.equal(leafSrv.size, N);
      const spanIds = new Map(spans.map((s) => [s.spanId, s]));
      let linked = 0;
      let unlinked = 0;
      for (const [id, u] of up) {
        if (u.parentSpanId === undefined) {
          unlinked++;
          assert.notEqual(u.traceId, down.get(id)!.traceId);
          continue;
        }
        const parent = spanIds.get(u.parentSpanId);
        assert.equal(parent === undefined ? undefined : idOf(parent), id, `upstream ${id} linked to another request`);
        assert.equal(u.parentSpanId, down.get(id)!.spanId);
        assert.equal(u.traceId, down.get(id)!.traceId);
        linked++;
      }
      // the upstream's server spans: children of nginx's upstream spans of the same id
      for (const [id, l] of leafSrv) {
        assert.equal(l.parentSpanId, up.get(id)!.spanId, `upstream server ${id}`);
        assert.equal(l.traceId, up.get(id)!.traceId);
      }
      const after = (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'ambiguous' })) ?? 0;
      assert.equal(after - before, unlinked, 'every unlinked upstream span is counted');
      console.log(`# nginx ${mode}: ${linked} of ${N} upstream spans linked, ${unlinked} not linked (counted)`);
      assert.ok(linked >= N / 2, `most upstream spans are linked (${linked} of ${N})`);
    });
  }
});
