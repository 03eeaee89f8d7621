/**
 * Elasticsearch / OpenSearch end to end on the real kernel
 * (ebpf.payload_extraction.http.elasticsearch). No Elasticsearch or OpenSearch server can be
 * installed on these machines (neither is packaged for Debian; their downloads are not
 * reachable), so the REAL official clients — @elastic/elasticsearch and
 * @opensearch-project/opensearch — talk to a peer written for the tests from their REST API
 * documentation (test/helpers/search-peer.ts), in the test process (not traced). The clients run
 * behind the exec gate. Exact client spans (category db): names, db.system.name by the product
 * header (Elasticsearch) or the client's User-Agent (OpenSearch), operation, index, cluster and
 * node from Elastic Cloud's response headers, db.query.text (selected), index_not_found_exception
 * as error.type, and db_client_operation_duration_seconds instead of the HTTP client metric.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent, nodeBin, waitFor } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { PEER_CLUSTER, PEER_NODE, startSearchPeer, type SearchPeer } from '../helpers/search-peer.ts';

const client = join(import.meta.dirname, '../helpers/apps/search-client.mjs');

/** sum of a metric's series whose labels include `labels` */
async function metricSum(agent: TestAgent, name: string, labels: Record<string, string>): Promise<number> {
  let n = 0;
  for (const line of (await agent.metrics()).split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

describe('Elasticsearch and OpenSearch: the official clients against a REST peer', () => {
  let agent: TestAgent;
  let gate: Gate;
  let cfgDir: string;
  const peers: SearchPeer[] = [];

  before(async () => {
    gate = createGate();
    cfgDir = mkdtempSync(join(tmpdir(), 'obi-es-cfg-'));
    const cfg = join(cfgDir, 'obi.yaml');
    writeFileSync(cfg, 'attributes:\n  select:\n    traces:\n      include: [db.query.text]\n');
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_HTTP_ELASTICSEARCH_ENABLED: 'true', OTEL_EBPF_CONFIG_PATH: cfg });
  });

  after(async () => {
    await agent?.stop();
    for (const p of peers) await p.stop();
    gate?.cleanup();
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  for (const product of ['elasticsearch', 'opensearch'] as const) {
    test(`${product}: create index, index, bulk, get, search, delete, missing index`, async () => {
      const peer = await startSearchPeer(product);
      peers.push(peer);
      const r = await runGated(agent, gate, nodeBin, [client, product, `http://127.0.0.1:${peer.port}`], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.output);
      assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { bulkErrors: false, title: 'Dune', hits: 3, deleted: 'deleted', missing: 'index_not_found_exception' });
      const want: [string, string, string | undefined, string | undefined][] = [
        ['indices.create books', 'indices.create', 'books', undefined],
        ['index books', 'index', 'books', '{"title":"Dune","year":1965}'],
        // no index: `<op> <db.namespace>`, else `<op> <server.address>:<server.port>` (as OBI; docs/reference/spans.md)
        [product === 'elasticsearch' ? `bulk ${PEER_CLUSTER}` : `bulk 127.0.0.1:${peer.port}`, 'bulk', undefined, undefined],
        ['get books', 'get', 'books', undefined],
        ['search books', 'search', 'books', '{"query":{"match":{"title":"dune"}}}'],
        ['delete books', 'delete', 'books', undefined],
        ['get nope', 'get', 'nope', undefined],
      ];
      await agent.waitSpans(want.length, (s) => s.service.pid === r.pid);
      await new Promise((res) => setTimeout(res, 300));
      const spans = agent.spans((s) => s.service.pid === r.pid);
      assert.deepEqual(
        spans.map((s) => [s.name, s.attributes['db.operation.name'], s.attributes['db.collection.name'], s.attributes['db.query.text']]),
        want,
      );
      for (const s of spans) {
        assert.equal(s.kind, 'client');
        assert.equal(s.attributes['db.system.name'], product);
        assert.equal(s.attributes['server.port'], peer.port);
        assert.equal(s.attributes['db.namespace'], product === 'elasticsearch' ? PEER_CLUSTER : undefined);
        assert.equal(s.attributes['elasticsearch.node.name'], product === 'elasticsearch' ? PEER_NODE : undefined);
      }
      const failed = spans.filter((s) => s.status === 'error');
      assert.deepEqual(failed.map((s) => [s.name, s.attributes['error.type'], s.attributes['http.response.status_code']]), [['get nope', 'index_not_found_exception', 404]]);
      // the DB client metric records them; the HTTP client metric does not
      const n = await waitFor('db_client_operation_duration_seconds', async () => {
        const v = await metricSum(agent, 'db_client_operation_duration_seconds_count', { db_system_name: product });
        return v >= want.length ? v : undefined;
      });
      assert.equal(n, want.length);
      assert.equal(await metricSum(agent, 'http_client_request_duration_seconds_count', { server_port: String(peer.port) }), 0);
    });
  }
});
