/**
 * An Elasticsearch / OpenSearch REST peer for the integration tests, written from the public REST
 * API documentation (no Elasticsearch or OpenSearch server can be installed on these machines:
 * neither is packaged for Debian and their downloads are not reachable). It keeps documents in
 * memory and answers the endpoints the tests' clients call, with the documented response bodies:
 * create index (`PUT /{index}`), index (`PUT|POST /{index}/_doc/{id}`), get (`GET
 * /{index}/_doc/{id}`), delete (`DELETE /{index}/_doc/{id}`), search (`GET|POST
 * /{index}/_search`, every document a hit), bulk (`POST /_bulk`, NDJSON index/create/delete
 * actions), and `index_not_found_exception` errors for a missing index.
 *
 * As `elasticsearch` it sends Elasticsearch's `X-Elastic-Product: Elasticsearch` on every
 * response (the official client refuses a server without it) and Elastic Cloud's
 * `X-Found-Handling-Cluster` / `X-Found-Handling-Instance`; as `opensearch` it sends no product
 * header. Runs in the test process (not traced).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface SearchPeer {
  readonly port: number;
  /** requests seen, as `METHOD path` */
  readonly requests: string[];
  stop(): Promise<void>;
}

export const PEER_CLUSTER = 'obi-test-cluster';
export const PEER_NODE = 'instance-0000000007';

const SHARDS = { total: 1, successful: 1, failed: 0 };

export async function startSearchPeer(product: 'elasticsearch' | 'opensearch'): Promise<SearchPeer> {
  const indices = new Map<string, Map<string, unknown>>();
  const requests: string[] = [];
  const headers: Record<string, string> =
    product === 'elasticsearch'
      ? { 'content-type': 'application/vnd.elasticsearch+json;compatible-with=9', 'x-elastic-product': 'Elasticsearch', 'x-found-handling-cluster': PEER_CLUSTER, 'x-found-handling-instance': PEER_NODE }
      : { 'content-type': 'application/json; charset=UTF-8' };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const notFound = (res: ServerResponse, index: string): void => {
    const cause = { type: 'index_not_found_exception', reason: `no such index [${index}]`, 'resource.type': 'index_or_alias', 'resource.id': index, index_uuid: '_na_', index };
    send(res, 404, { error: { root_cause: [cause], ...cause }, status: 404 });
  };
  const indexDoc = (index: string, id: string, doc: unknown): { status: number; body: Record<string, unknown> } => {
    let docs = indices.get(index);
    if (docs === undefined) indices.set(index, (docs = new Map()));
    const created = !docs.has(id);
    docs.set(id, doc);
    return { status: created ? 201 : 200, body: { _index: index, _id: id, _version: 1, result: created ? 'created' : 'updated', _shards: SHARDS, _seq_no: 0, _primary_term: 1 } };
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = new URL(req.url ?? '/', 'http://peer');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const parts = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
    if (parts.length === 0) {
      return send(res, 200, { name: 'node-1', cluster_name: PEER_CLUSTER, version: product === 'opensearch' ? { distribution: 'opensearch', number: '2.11.0' } : { number: '9.0.0' }, tagline: 'You Know, for Search' });
    }
    if (parts[0] === '_bulk' && method === 'POST') {
      const lines = raw.split('\n').filter((l) => l.trim().length > 0);
      const items: unknown[] = [];
      for (let i = 0; i < lines.length; i++) {
        const action = JSON.parse(lines[i]) as Record<string, { _index: string; _id: string }>;
        const [kind, meta] = Object.entries(action)[0];
        if (kind === 'delete') {
          const found = indices.get(meta._index)?.delete(meta._id) ?? false;
          items.push({ delete: { _index: meta._index, _id: meta._id, result: found ? 'deleted' : 'not_found', status: found ? 200 : 404 } });
        } else {
          const r = indexDoc(meta._index, meta._id, JSON.parse(lines[++i]));
          items.push({ [kind]: { ...r.body, status: r.status } });
        }
      }
      return send(res, 200, { took: 1, errors: false, items });
    }
    const index = parts[0];
    const docs = indices.get(index);
    if (parts.length === 1 && method === 'PUT') {
      indices.set(index, docs ?? new Map());
      return send(res, 200, { acknowledged: true, shards_acknowledged: true, index });
    }
    if (parts[1] === '_doc' && parts.length === 3) {
      const id = parts[2];
      if (method === 'PUT' || method === 'POST') {
        const r = indexDoc(index, id, JSON.parse(raw));
        return send(res, r.status, r.body);
      }
      if (docs === undefined) return notFound(res, index);
      if (method === 'GET') {
        return docs.has(id)
          ? send(res, 200, { _index: index, _id: id, _version: 1, _seq_no: 0, _primary_term: 1, found: true, _source: docs.get(id) })
          : send(res, 404, { _index: index, _id: id, found: false });
      }
      if (method === 'DELETE') {
        const found = docs.delete(id);
        return send(res, found ? 200 : 404, { _index: index, _id: id, _version: 2, result: found ? 'deleted' : 'not_found', _shards: SHARDS, _seq_no: 1, _primary_term: 1 });
      }
    }
    if (parts[1] === '_search' && (method === 'GET' || method === 'POST')) {
      if (docs === undefined) return notFound(res, index);
      const hits = [...docs.entries()].map(([id, source]) => ({ _index: index, _id: id, _score: 1, _source: source }));
      return send(res, 200, { took: 1, timed_out: false, _shards: { ...SHARDS, skipped: 0 }, hits: { total: { value: hits.length, relation: 'eq' }, max_score: hits.length > 0 ? 1 : null, hits } });
    }
    send(res, 400, { error: { type: 'illegal_argument_exception', reason: `no handler for ${method} ${url.pathname}` }, status: 400 });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        send(res, 500, { error: { type: 'exception', reason: String(err) }, status: 500 });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
