/**
 * GraphQL over HTTP end to end on the real kernel (ebpf.payload_extraction.http.graphql): a
 * graphql-yoga server (Node) and a graphene 2 app (Debian python3-graphene) behind Python's
 * http.server, queried by Node's fetch: named and anonymous queries, a mutation with
 * variables, a GET query string, a resolver error and a validation error. Exact server spans:
 * names, graphql.* attributes (graphql.document selected in attributes.select.traces), errors
 * from the response's `errors` array. The same calls to graphql-yoga served over cleartext HTTP/2
 * (node:http2 server and client, prior knowledge), where the request and response bodies are
 * DATA frames of a stream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http2 from 'node:http2';
import { TestAgent, freePort, nodeBin, startProcess, waitForPort, type Proc, type SpanJSON } from '../helpers/harness.ts';

const yogaApp = join(import.meta.dirname, '../helpers/apps/graphql-yoga-server.mjs');
const grapheneApp = join(import.meta.dirname, '../helpers/apps/graphene_server.py');

interface Call {
  readonly get?: boolean;
  readonly body: { query: string; operationName?: string; variables?: Record<string, unknown> };
}

const CALLS: readonly Call[] = [
  { body: { query: 'query GetBooks { books { title } }' } },
  { body: { query: '{ books { id } }' } },
  { body: { query: 'mutation AddBook($t: String!) { addBook(title: $t) { id } }', operationName: 'AddBook', variables: { t: 'Emma' } } },
  { get: true, body: { query: '{ books { title } }' } },
  { body: { query: 'query Boom { boom }' } },
  { body: { query: '{ nope }' } },
];

/** the calls over one h2c connection (sequential streams) */
async function callsH2c(port: number, calls: readonly Call[]): Promise<number[]> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const out: number[] = [];
    for (const c of calls) {
      out.push(
        await new Promise<number>((resolve, reject) => {
          const path = c.get ? `/graphql?query=${encodeURIComponent(c.body.query)}` : '/graphql';
          const s = client.request({ ':method': c.get ? 'GET' : 'POST', ':path': path, accept: 'application/json', ...(c.get ? {} : { 'content-type': 'application/json' }) });
          let status = 0;
          s.on('response', (h) => (status = Number(h[':status'])));
          s.on('data', () => undefined);
          s.on('end', () => resolve(status));
          s.on('error', reject);
          s.end(c.get ? undefined : JSON.stringify(c.body));
        }),
      );
    }
    return out;
  } finally {
    client.close();
  }
}

async function call(port: number, c: Call): Promise<number> {
  const url = `http://127.0.0.1:${port}/graphql`;
  const r = c.get
    ? await fetch(`${url}?query=${encodeURIComponent(c.body.query)}`, { headers: { accept: 'application/json' } })
    : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(c.body) });
  await r.text();
  return r.status;
}

/** what each call must give: name, graphql attributes, error.type and status message, HTTP status */
const expected = (validation: { type: string; status: number }) => [
  { name: 'GraphQL query', gql: { 'graphql.operation.type': 'query', 'graphql.operation.name': 'GetBooks', 'graphql.document': 'query GetBooks { books { title } }' }, status: 200 },
  { name: 'GraphQL query', gql: { 'graphql.operation.type': 'query', 'graphql.document': '{ books { id } }' }, status: 200 },
  { name: 'GraphQL mutation', gql: { 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'AddBook', 'graphql.document': 'mutation AddBook($t: String!) { addBook(title: $t) { id } }' }, status: 200 },
  { name: 'GraphQL query', gql: { 'graphql.operation.type': 'query', 'graphql.document': '{ books { title } }' }, status: 200 },
  { name: 'GraphQL query', gql: { 'graphql.operation.type': 'query', 'graphql.operation.name': 'Boom', 'graphql.document': 'query Boom { boom }' }, status: 200, error: ['GraphQLError', 'boom failed'] },
  { name: 'GraphQL query', gql: { 'graphql.operation.type': 'query', 'graphql.document': '{ nope }' }, status: validation.status, error: [validation.type, 'Cannot query field "nope" on type "Query".'] },
];

describe('GraphQL: graphql-yoga and graphene servers', () => {
  let agent: TestAgent;
  let yoga: Proc;
  let graphene: Proc;
  let yogaH2: Proc;
  let yogaPort: number;
  let yogaH2Port: number;
  let graphenePort: number;
  let cfgDir: string;

  before(async () => {
    yogaPort = await freePort();
    graphenePort = await freePort();
    yogaH2Port = await freePort();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-graphql-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [graphql.document]\n');
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${yogaPort},${graphenePort},${yogaH2Port}`, OTEL_EBPF_HTTP_GRAPHQL_ENABLED: 'true', OTEL_EBPF_CONFIG_PATH: cfg });
    yoga = startProcess(nodeBin, [yogaApp, String(yogaPort)]);
    graphene = startProcess('/usr/bin/python3', [grapheneApp, String(graphenePort)]);
    yogaH2 = startProcess(nodeBin, [yogaApp, String(yogaH2Port), 'h2c']);
    await waitForPort(yogaPort);
    await waitForPort(graphenePort);
    await waitForPort(yogaH2Port);
    await agent.waitTracked(yoga.pid);
    await agent.waitTracked(graphene.pid);
    await agent.waitTracked(yogaH2.pid);
  });

  after(async () => {
    await agent?.stop();
    await yoga?.kill();
    await graphene?.kill();
    await yogaH2?.kill();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const server = (port: number) => (s: SpanJSON) => s.kind === 'server' && s.attributes['server.port'] === port;

  for (const [which, validation] of [
    ['graphql-yoga', { type: 'GRAPHQL_VALIDATION_FAILED', status: 200 }],
    ['graphene', { type: 'GraphQLError', status: 400 }],
    ['graphql-yoga over h2c', { type: 'GRAPHQL_VALIDATION_FAILED', status: 200 }],
  ] as const) {
    test(`${which}: queries, a mutation, GET, errors: exact spans`, async () => {
      const h2 = which === 'graphql-yoga over h2c';
      const port = which === 'graphene' ? graphenePort : h2 ? yogaH2Port : yogaPort;
      const statuses: number[] = [];
      if (h2) statuses.push(...(await callsH2c(port, CALLS)));
      else for (const c of CALLS) statuses.push(await call(port, c));
      const want = expected(validation);
      assert.deepEqual(statuses, want.map((w) => w.status));
      await agent.waitSpans(CALLS.length, server(port));
      await new Promise((r) => setTimeout(r, 300));
      const all = agent.spans(server(port));
      assert.equal(all.length, CALLS.length, all.map((s) => s.name).join(', '));
      // in the order of the calls (by start; ISO-8601 UTC with µs orders as strings): spans of a
      // Node.js server attached for context correlation may leave the agent out of order
      const spans = [...all].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      spans.forEach((s, i) => {
        const w = want[i];
        assert.equal(s.name, w.name, `call ${i}`);
        const gql = Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k.startsWith('graphql.')));
        assert.deepEqual(gql, w.gql, `call ${i}`);
        assert.equal(s.attributes['http.request.method'], CALLS[i].get ? 'GET' : 'POST');
        assert.equal(s.attributes['http.response.status_code'], w.status);
        assert.equal(s.attributes['url.path'], '/graphql');
        if (h2) assert.equal(s.attributes['network.protocol.version'], '2');
        if (w.error === undefined) {
          assert.equal(s.status, 'unset', `call ${i}`);
          assert.equal(s.attributes['error.type'], undefined);
        } else {
          assert.equal(s.status, 'error', `call ${i}`);
          assert.equal(s.attributes['error.type'], w.error[0]);
          assert.equal(s.statusMessage, w.error[1]);
        }
      });
    });
  }

  test('http_server_request_duration_seconds still counts GraphQL server spans', async () => {
    const text = await agent.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes(`server_port="${yogaPort}"`));
    assert.equal(lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0), CALLS.length, lines.join('\n'));
  });
});
