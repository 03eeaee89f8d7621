/**
 * Connected traces inside one host (docs/devdocs/correlation.md), on the real kernel:
 * curl → Python ThreadingHTTPServer (urllib on the handling thread) → Node.js (a Redis GET, then
 * fetch) → nginx (proxy_pass, a new upstream connection per request) → Go net/http server →
 * Python leaf. Nothing on the wire changes (the hops forward no trace header); the links come
 * from thread correlation (Python), the Node.js async-context provider (correlation-node.md),
 * event correlation (nginx), both ends of each loopback connection, and an incoming traceparent.
 * The Go server's own call is NOT linked to its request (goroutines share threads): it keeps
 * its own trace, and `obi_unlinked_client_spans_total{reason="go_runtime"}` counts it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, type SimpleServer } from '../helpers/db-servers.ts';
import { TestAgent, freePort, nodeBin, run, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';
import { startNginx, type Nginx } from '../helpers/nginx.ts';

const root = join(import.meta.dirname, '../..');
const apps = join(root, 'test/helpers/apps/chain');
const PY = '/usr/bin/python3';

describe('correlation: curl → Python (threads) → Node.js → nginx → Go → Python leaf on one host', () => {
  let agent: TestAgent;
  let py: Proc;
  let leaf: Proc;
  let go: Proc;
  let node: Proc;
  let redis: SimpleServer;
  let nginx: Nginx;
  const ports = { py: 0, node: 0, nginx: 0, go: 0, leaf: 0 };

  before(async () => {
    const binDir = join(root, 'build/test-go');
    mkdirSync(binDir, { recursive: true });
    await run('go', ['build', '-o', join(binDir, 'chainhop'), join(apps, 'main.go')], {
      env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOCACHE: join(binDir, 'cache'), GOFLAGS: '' },
    });
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    leaf = startProcess(PY, [join(apps, 'hop.py'), String(ports.leaf)], { env: { ...process.env, OTEL_SERVICE_NAME: 'leaf' } });
    go = startProcess(join(binDir, 'chainhop'), [String(ports.go), `http://127.0.0.1:${ports.leaf}`], { env: { ...process.env, OTEL_SERVICE_NAME: 'go-hop' } });
    const nginxMain = await freePort();
    nginx = await startNginx(nginxMain, {
      workers: 1,
      extraServer: `server { listen 127.0.0.1:${ports.nginx}; location / { proxy_pass http://127.0.0.1:${ports.go}; } }`,
    });
    redis = await startRedis();
    node = startProcess(nodeBin, [join(apps, 'hop.mjs'), String(ports.node), `http://127.0.0.1:${ports.nginx}`, String(redis.port)], {
      env: { ...process.env, OTEL_SERVICE_NAME: 'node-hop' },
    });
    py = startProcess(PY, [join(apps, 'hop.py'), String(ports.py), `http://127.0.0.1:${ports.node}`], { env: { ...process.env, OTEL_SERVICE_NAME: 'py-front' } });
    for (const p of [ports.leaf, ports.go, ports.nginx, ports.node, ports.py]) await waitForPort(p);
    agent = await TestAgent.start({
      OTEL_EBPF_OPEN_PORT: `${ports.py},${ports.node},${nginxMain},${ports.go},${ports.leaf}`,
      OTEL_EBPF_METRICS_FEATURES: 'application,application_service_graph',
    });
    for (const pid of [py.pid, node.pid, leaf.pid, go.pid, nginx.proc.pid, ...nginx.workerPids()]) await agent.waitTracked(pid);
    await agent.agent.nodeContextIdle();
    assert.ok(agent.agent.nodeContextAttached().has(node.pid), `Node.js attached: ${agent.logs.filter((l) => l.includes('Node.js')).join('')}`);
  });

  after(async () => {
    await agent?.stop();
    for (const p of [py, node, leaf, go]) await p?.kill();
    await nginx?.stop();
    await redis?.stop();
  });

  type Hop = 'pySrv' | 'pyCli' | 'nodeSrv' | 'nodeRedis' | 'nodeCli' | 'ngSrv' | 'ngCli' | 'goSrv' | 'goCli' | 'leafSrv';
  /** the 9 HTTP spans of one request through the chain and the Node hop's Redis span, by hop */
  const hops = async (path: string): Promise<Record<Hop, SpanJSON>> => {
    const mine = (s: SpanJSON): boolean => s.attributes['url.path'] === path || String(s.attributes['url.full'] ?? '').endsWith(path);
    const spans = await agent.waitSpans(9, mine, 15_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(agent.spans(mine).length, 9, JSON.stringify(agent.spans(mine)));
    const one = (pid: number | number[], kind: string): SpanJSON => {
      const pids = Array.isArray(pid) ? pid : [pid];
      const found = spans.filter((s) => pids.includes(s.service.pid) && s.kind === kind);
      assert.equal(found.length, 1, `${kind} span of ${pids.join(',')}: ${JSON.stringify(spans)}`);
      return found[0];
    };
    const workers = nginx.workerPids();
    const nodeSrv = one(node.pid, 'server');
    const redisSpans = agent.spans((s) => s.service.pid === node.pid && s.kind === 'client' && s.attributes['db.system.name'] === 'redis' && s.parentSpanId === nodeSrv.spanId);
    assert.equal(redisSpans.length, 1, `the Redis GET of ${path}: ${JSON.stringify(redisSpans)}`);
    return {
      pySrv: one(py.pid, 'server'),
      pyCli: one(py.pid, 'client'),
      nodeSrv,
      nodeRedis: redisSpans[0],
      nodeCli: one(node.pid, 'client'),
      ngSrv: one(workers, 'server'),
      ngCli: one(workers, 'client'),
      goSrv: one(go.pid, 'server'),
      goCli: one(go.pid, 'client'),
      leafSrv: one(leaf.pid, 'server'),
    };
  };

  const checkChain = (h: Awaited<ReturnType<typeof hops>>, trace: string): void => {
    for (const k of ['pySrv', 'pyCli', 'nodeSrv', 'nodeRedis', 'nodeCli', 'ngSrv', 'ngCli', 'goSrv'] as const) assert.equal(h[k].traceId, trace, `${k} in the chain's trace`);
    assert.equal(h.pyCli.parentSpanId, h.pySrv.spanId, 'Python client call: child of its request (thread)');
    assert.equal(h.nodeSrv.parentSpanId, h.pyCli.spanId, 'Node.js server span: child of the Python client span (both ends)');
    assert.equal(h.nodeRedis.parentSpanId, h.nodeSrv.spanId, 'Node.js Redis GET: child of its request (async context)');
    assert.equal(h.nodeCli.parentSpanId, h.nodeSrv.spanId, 'Node.js fetch: child of its request (async context)');
    assert.equal(h.ngSrv.parentSpanId, h.nodeCli.spanId, 'nginx server span: child of the Node.js client span (both ends)');
    assert.equal(h.ngCli.parentSpanId, h.ngSrv.spanId, 'nginx upstream: child of its downstream request (event)');
    assert.equal(h.goSrv.parentSpanId, h.ngCli.spanId, 'Go server span: child of the nginx upstream span (both ends)');
    // Go's own call: not linked by thread; its server end (the leaf) still joins it
    assert.notEqual(h.goCli.traceId, trace);
    assert.equal(h.goCli.parentSpanId, undefined);
    assert.equal(h.leafSrv.parentSpanId, h.goCli.spanId);
    assert.equal(h.leafSrv.traceId, h.goCli.traceId);
  };

  test('without a traceparent: one trace from the Python server to the Go server, each parent correct', async () => {
    await run('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${ports.py}/chain/plain`]);
    const h = await hops('/chain/plain');
    assert.equal(h.pySrv.parentSpanId, undefined, 'the front request is the root');
    checkChain(h, h.pySrv.traceId);
    assert.equal(agent.spans((s) => s.traceId === h.pySrv.traceId).length, 8);
  });

  test('with an incoming traceparent: the whole chain continues it', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await run('curl', ['-sf', '-o', '/dev/null', '-H', `traceparent: 00-${trace}-00f067aa0ba902b7-01`, `http://127.0.0.1:${ports.py}/chain/tp`]);
    const h = await hops('/chain/tp');
    assert.equal(h.pySrv.parentSpanId, '00f067aa0ba902b7');
    checkChain(h, trace);
    assert.equal(agent.spans((s) => s.traceId === trace).length, 8);
  });

  test('the unlinked Go call is counted; the service graph shows the edges between the services with exact counts', async () => {
    assert.equal(await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'go_runtime' }), 2);
    const edge = async (client: string, server: string): Promise<number | undefined> => await agent.metricValue('traces_service_graph_request_total', { client, server });
    assert.equal(await edge('py-front', 'node-hop'), 2);
    assert.equal(await edge('node-hop', 'nginx'), 2);
    assert.equal(await agent.metricValue('obi_unlinked_client_spans_total', { reason: 'event_loop' }), undefined);
    assert.equal(await edge('nginx', 'go-hop'), 2);
    assert.equal(await edge('go-hop', 'leaf'), 2);
  });
});
