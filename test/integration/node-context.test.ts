/**
 * Node.js parent links on the real kernel (docs/devdocs/correlation-node.md): a real Node.js
 * service serving 50 concurrent requests per async shape (a timer of random length then fetch,
 * http.get called synchronously, a real redis-server query then fetch, Promise.all of three
 * fetches) calls a downstream HTTP service with its request id in the URL; every client span the
 * OTLP receiver gets must be the child of the server span of its own request. Run with the
 * provisioned Node 24 and with the system's `nodejs` package when installed.
 * Safety: a process with its own SIGUSR1 handler is never signalled (its counter stays 0) and still
 * gets server spans; a process started with --disable-sigusr1 (SIGUSR1 would kill it) is not
 * signalled; after the agent stops no inspector port is open and the process serves on unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { startRedis, type SimpleServer } from '../helpers/db-servers.ts';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { TestAgent, freePort, nodeBin, run, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { listeningSockets } from '../../src/pipeline/node-ctx/procfs.ts';

const app = join(import.meta.dirname, '../helpers/apps/node-ctx-app.mjs');
const N = 50;

/** Sends `paths` to 127.0.0.1:port all at once from a separate Node process (the test process is the agent). */
async function burst(port: number, paths: string[]): Promise<void> {
  const script = `const ps = JSON.parse(process.argv[1]); const r = await Promise.all(ps.map((p) => fetch('http://127.0.0.1:${port}' + p).then((x) => x.status)));
    if (r.some((s) => s !== 200)) { console.error(r); process.exit(1); }`;
  await run(nodeBin, ['--input-type=module', '-e', script, JSON.stringify(paths)]);
}

async function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://127.0.0.1:${port}${path}`)).json()) as Record<string, unknown>;
}

function startDownstream(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('down\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, seen })));
}

const SERVER = 2;
const CLIENT = 3;

const binaries: [string, string][] = [['provisioned Node 24', nodeBin]];
if (existsSync('/usr/bin/nodejs') && '/usr/bin/nodejs' !== nodeBin) binaries.push(['system nodejs package', '/usr/bin/nodejs']);

for (const [label, bin] of binaries) {
  describe(`Node.js context correlation (${label}): each client span is the child of its own request`, () => {
    let rx: OtlpReceiver;
    let agent: TestAgent | undefined;
    let redis: SimpleServer;
    let down: Awaited<ReturnType<typeof startDownstream>>;
    let svc: Proc;
    let port: number;
    let listenersBefore: number[];

    before(async () => {
      rx = await OtlpReceiver.start();
      redis = await startRedis();
      down = await startDownstream();
      port = await freePort();
      svc = startProcess(bin, [app, String(port), String(down.port), String(redis.port)]);
      await waitForPort(port);
      listenersBefore = (await listeningSockets(svc.pid)).map((s) => s.port).sort();
      agent = await TestAgent.start({
        OTEL_EBPF_OPEN_PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rx.httpPort}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EBPF_OTLP_TRACES_BATCH_TIMEOUT: '50ms',
      });
      await agent.waitTracked(svc.pid);
      await agent.agent.nodeContextIdle();
      assert.ok(agent.agent.nodeContextAttached().has(svc.pid), `attached: ${agent.logs.filter((l) => l.includes('Node.js')).join('')}`);
    });

    after(async () => {
      await agent?.stop();
      await svc?.kill();
      await redis?.stop();
      down?.server.close();
      await rx?.close();
    });

    /** the server spans of `/kind/<id>` and the client spans of the downstream calls, checked pairwise */
    async function check(kind: string, perRequest: number): Promise<void> {
      const servers = await rx.waitSpans(N, (s) => s.kind === SERVER && String(s.attributes['url.path']).startsWith(`/${kind}/`), 20_000);
      const clients = await rx.waitSpans(N * perRequest, (s) => s.kind === CLIENT && String(s.attributes['url.full']).includes(`/down/${kind}-`), 20_000);
      await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
      const allServers = rx.spans.filter((s) => s.kind === SERVER && String(s.attributes['url.path']).startsWith(`/${kind}/`));
      const allClients = rx.spans.filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).includes(`/down/${kind}-`));
      assert.equal(allServers.length, N);
      assert.equal(allClients.length, N * perRequest);
      const byId = new Map<string, ReceivedSpan>();
      for (const s of servers) byId.set(String(s.attributes['url.path']).split('/')[2]!, s);
      assert.equal(byId.size, N);
      for (const c of clients) {
        const id = /\/down\/[a-z]+-(\d+)/.exec(String(c.attributes['url.full']))![1]!;
        const parent = byId.get(id)!;
        assert.equal(c.parentSpanId, parent.spanId, `client ${String(c.attributes['url.full'])} is the child of /${kind}/${id}`);
        assert.equal(c.traceId, parent.traceId);
      }
      for (const s of servers) assert.equal(s.parentSpanId, '');
    }

    test(`${N} concurrent requests awaiting a timer of random length, then fetch`, async () => {
      await burst(port, Array.from({ length: N }, (_, i) => `/timer/${i}`));
      await check('timer', 1);
    });

    test(`${N} concurrent requests calling http.get synchronously`, async () => {
      await burst(port, Array.from({ length: N }, (_, i) => `/sync/${i}`));
      await check('sync', 1);
    });

    test(`${N} concurrent requests awaiting a Redis query, then fetch: the Redis spans are children too`, async () => {
      await burst(port, Array.from({ length: N }, (_, i) => `/redis/${i}`));
      await check('redis', 1);
      const servers = rx.spans.filter((s) => s.kind === SERVER && String(s.attributes['url.path']).startsWith('/redis/'));
      const redisSpans = await rx.waitSpans(N, (s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'redis' && s.attributes['db.operation.name'] === 'GET', 20_000);
      assert.equal(redisSpans.length, N);
      // each request has exactly one GET child: no span linked to another request
      const children = new Map(servers.map((s) => [s.spanId, 0]));
      for (const r of redisSpans) {
        const parent = servers.find((s) => s.spanId === r.parentSpanId);
        assert.ok(parent, 'the Redis span is the child of a /redis/ server span');
        assert.equal(r.traceId, parent.traceId);
        children.set(parent.spanId, children.get(parent.spanId)! + 1);
      }
      assert.deepEqual([...new Set(children.values())], [1]);
    });

    test(`${N} concurrent requests with Promise.all of three fetches`, async () => {
      await burst(port, Array.from({ length: N }, (_, i) => `/all/${i}`));
      await check('all', 3);
      const linked = await agent!.metricValue('obi_nodejs_context_links_total', { outcome: 'linked' });
      assert.equal(linked, N * 7); // timer + sync + redis (GET and fetch) + all (three)
      assert.equal(await agent!.metricValue('obi_nodejs_context_links_total', { outcome: 'ambiguous' }), 0);
      assert.equal(await agent!.metricValue('obi_nodejs_context_attach_total', { result: 'attached' }), 1);
      // the request correlator (telemetry/correlate.ts) leaves an attached process to this mechanism
      assert.equal((await agent!.metricValue('obi_unlinked_client_spans_total', { reason: 'event_loop' })) ?? 0, 0);
      // the agent's own exchanges with the inspector (/json/list, the WebSocket upgrade) are not the service's spans
      const inspectorPort = agent!.agent.nodeContextAttached().get(svc.pid)!;
      assert.equal(rx.spans.filter((s) => s.attributes['server.port'] === inspectorPort).length, 0);
      assert.equal(rx.spans.filter((s) => s.kind === SERVER).length, N * 4);
    });

    test(`${N} concurrent requests answered at once, each calling fetch 30 ms after its response: the late call is still its request's child`, async () => {
      const outcome = async (o: string): Promise<number> => (await agent!.metricValue('obi_nodejs_context_links_total', { outcome: o })) ?? 0;
      const before = { linked: await outcome('linked'), matched: await outcome('server_matched'), passed: await outcome('server_passed') };
      await burst(port, Array.from({ length: N }, (_, i) => `/late/${i}`));
      await check('late', 1);
      assert.equal((await outcome('linked')) - before.linked, N);
      // the server spans passed before their request's report (made with the call, after the response), or met it in one drain
      assert.equal((await outcome('server_matched')) - before.matched + (await outcome('server_passed')) - before.passed, N);
    });

    test('after the agent stops: no inspector port, hooks gone, the process serves on', async () => {
      const inspectorPort = agent!.agent.nodeContextAttached().get(svc.pid)!;
      assert.ok((await listeningSockets(svc.pid)).some((s) => s.port === inspectorPort), 'the inspector listens while attached');
      await agent!.stop();
      agent = undefined;
      assert.deepEqual((await listeningSockets(svc.pid)).map((s) => s.port).sort(), listenersBefore);
      const state = await getJson(port, '/state');
      assert.deepEqual(state, { sigusr1: 0, writeUnchanged: true, globalsAdded: 0, serverStartSubscribers: false, undiciSubscribers: false });
      assert.match(await (await fetch(`http://127.0.0.1:${port}/timer/x`)).text(), /^ok timer x/);
    });
  });
}

describe('Node.js context correlation: processes that SIGUSR1 would disturb are never signalled', () => {
  let agent: TestAgent;
  let own: Proc;
  let disabled: Proc;
  let down: Awaited<ReturnType<typeof startDownstream>>;
  let ownPort: number;
  let disabledPort: number;

  before(async () => {
    down = await startDownstream();
    ownPort = await freePort();
    disabledPort = await freePort();
    own = startProcess(nodeBin, [app, String(ownPort), String(down.port), '0', '--own-sigusr1']);
    // SIGUSR1 left at its default action: a signal would kill it (OBI's failure)
    disabled = startProcess(nodeBin, ['--disable-sigusr1', app, String(disabledPort), String(down.port), '0']);
    await waitForPort(ownPort);
    await waitForPort(disabledPort);
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${ownPort},${disabledPort}` });
    await agent.waitTracked(own.pid);
    await agent.waitTracked(disabled.pid);
    await agent.agent.nodeContextIdle();
  });

  after(async () => {
    await agent?.stop();
    await own?.kill();
    await disabled?.kill();
    down?.server.close();
  });

  test('own SIGUSR1 handler: not signalled, still gets server spans; --disable-sigusr1: not signalled, alive', async () => {
    assert.equal(await agent.metricValue('obi_nodejs_context_attach_total', { result: 'app_sigusr1_handler' }), 1);
    assert.equal(await agent.metricValue('obi_nodejs_context_attach_total', { result: 'no_inspector' }), 1);
    assert.equal(await agent.metricValue('obi_nodejs_context_attach_total', { result: 'attached' }), 0);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`http://127.0.0.1:${ownPort}/timer/${i}`)).status, 200);
    const servers = await agent.waitSpans(3, (s) => s.kind === 'server' && s.service.pid === own.pid && s.attributes['url.path']!.toString().startsWith('/timer/'));
    assert.equal(servers.length, 3);
    const state = await getJson(ownPort, '/state');
    assert.equal(state.sigusr1, 0);
    assert.equal(state.writeUnchanged, true);
    assert.equal((await fetch(`http://127.0.0.1:${disabledPort}/timer/1`)).status, 200);
    assert.equal(disabled.child.exitCode, null);
    assert.equal(disabled.child.signalCode, null);
    // their client spans keep their own trace, counted by the request correlator (3 + 1 fetches)
    await agent.waitSpans(4, (s) => s.kind === 'client' && String(s.attributes['url.full']).includes('/down/timer-'));
    assert.ok(agent.spans((s) => s.kind === 'client').every((s) => s.parentSpanId === undefined));
    await waitFor('event_loop count', async () => (await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'event_loop' })) === 4);
    assert.deepEqual((await listeningSockets(own.pid)).map((s) => s.port), [ownPort]);
    assert.deepEqual((await listeningSockets(disabled.pid)).map((s) => s.port), [disabledPort]);
  });
});
