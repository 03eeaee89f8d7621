/**
 * GraphQL over HTTP end to end on the real kernel (ebpf.payload_extraction.http.graphql): a
 * graphql-yoga server (Node) and a graphene 2 app (Debian python3-graphene) behind Python's
 * http.server, queried by Node's fetch: named and anonymous queries, a mutation with
 * variables, a GET query string, a resolver error and a validation error. Exact server spans:
 * names, graphql.* attributes (graphql.document selected in attributes.select.traces), errors
 * from the response's `errors` array.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  let yogaPort: number;
  let graphenePort: number;
  let cfgDir: string;

  before(async () => {
    yogaPort = await freePort();
    graphenePort = await freePort();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-graphql-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [graphql.document]\n');
    agent = await TestAgent.start({ OTEL_EBPF_OPEN_PORT: `${yogaPort},${graphenePort}`, OTEL_EBPF_HTTP_GRAPHQL_ENABLED: 'true', OTEL_EBPF_CONFIG_PATH: cfg });
    yoga = startProcess(nodeBin, [yogaApp, String(yogaPort)]);
    graphene = startProcess('/usr/bin/python3', [grapheneApp, String(graphenePort)]);
    await waitForPort(yogaPort);
    await waitForPort(graphenePort);
    await agent.waitTracked(yoga.pid);
    await agent.waitTracked(graphene.pid);
  });

  after(async () => {
    await agent?.stop();
    await yoga?.kill();
    await graphene?.kill();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  const server = (port: number) => (s: SpanJSON) => s.kind === 'server' && s.attributes['server.port'] === port;

  for (const [which, validation] of [
    ['graphql-yoga', { type: 'GRAPHQL_VALIDATION_FAILED', status: 200 }],
    ['graphene', { type: 'GraphQLError', status: 400 }],
  ] as const) {
    test(`${which}: queries, a mutation, GET, errors: exact spans`, async () => {
      const port = which === 'graphene' ? graphenePort : yogaPort;
      const statuses: number[] = [];
      for (const c of CALLS) statuses.push(await call(port, c));
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
