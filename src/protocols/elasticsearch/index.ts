/**
 * Elasticsearch / OpenSearch over HTTP, client side (OBI:
 * `ebpf.payload_extraction.http.elasticsearch.enabled`). An exchange is Elasticsearch's when the
 * response carries `X-Elastic-Product: Elasticsearch` (sent by Elasticsearch since 7.14), and
 * OpenSearch's when the client names itself so in its `User-Agent` (`opensearch-js`,
 * `opensearch-py`, ...; OpenSearch sends no product header).
 *
 * Span (as OBI; docs/reference/spans.md, Elasticsearch/OpenSearch): category `db` (so
 * `db_client_operation_duration_seconds`, not the HTTP client metric), name `<operation>
 * <index>`, else `<operation> <server.address>:<server.port>`; `db.system.name`
 * (`elasticsearch` | `opensearch`), `db.operation.name` (the REST API's endpoint name: `search`,
 * `index`, `bulk`, `get`, `delete`, `indices.create`, ...), `db.collection.name` (the index or
 * comma-separated indices of the path), `db.namespace` (the cluster, from
 * `X-Found-Handling-Cluster`), `elasticsearch.node.name` (from `X-Found-Handling-Instance`),
 * `db.query.text` (opt-in: the JSON request body compacted, when whole), `error.type` (the
 * response's `error.type`, as `index_not_found_exception`).
 */
import type { HttpEnrichment, HttpExtractor, HttpPayload } from '../common/http-extract.ts';
import { headerValue, switchedOn } from '../common/http-extract.ts';
import { jsonMember, jsonMembers, parseJson } from '../common/json-prefix.ts';
import type { HttpRecord } from '../common/records.ts';

/** `db.system.name` of the exchange, or undefined when it is neither product's */
export function searchProduct(payload: HttpPayload): 'elasticsearch' | 'opensearch' | undefined {
  if (headerValue(payload.responseHeaders, 'x-elastic-product') === 'Elasticsearch') return 'elasticsearch';
  const ua = headerValue(payload.requestHeaders, 'user-agent');
  if (ua !== undefined && ua.toLowerCase().includes('opensearch')) return 'opensearch';
  return undefined;
}

/** endpoints whose path is `/{index}/_x/{id}`: the operation depends on the method */
const DOC_ENDPOINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  _doc: { GET: 'get', HEAD: 'exists', DELETE: 'delete', PUT: 'index', POST: 'index' },
  _source: { GET: 'get_source', HEAD: 'exists_source' },
  _create: { PUT: 'create', POST: 'create' },
  _update: { POST: 'update' },
};

/** `/{index}` alone: index management */
const INDEX_OPS: Readonly<Record<string, string>> = { PUT: 'indices.create', DELETE: 'indices.delete', HEAD: 'indices.exists', GET: 'indices.get' };

/** endpoints under an index named differently from their path segment */
const INDEX_ENDPOINTS: Readonly<Record<string, string>> = {
  _refresh: 'indices.refresh',
  _mapping: 'indices.get_mapping',
  _settings: 'indices.get_settings',
  _flush: 'indices.flush',
  _alias: 'indices.get_alias',
  _stats: 'indices.stats',
};

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The endpoint's operation name and the index part of a path (ES/OpenSearch REST API). */
export function searchOperation(method: string, path: string): { operation?: string; index?: string } {
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.length === 0) return method === 'HEAD' ? { operation: 'ping' } : method === 'GET' ? { operation: 'info' } : {};
  const first = parts[0];
  if (!first.startsWith('_')) {
    const index = decode(first);
    if (parts.length === 1) {
      const op = INDEX_OPS[method];
      return op === undefined ? { index } : { operation: op, index };
    }
    const ep = parts[1];
    const byMethod = DOC_ENDPOINTS[ep];
    if (byMethod !== undefined) {
      const op = byMethod[method];
      return op === undefined ? { index } : { operation: op, index };
    }
    const named = INDEX_ENDPOINTS[ep];
    if (named !== undefined) return { operation: method === 'PUT' && ep !== '_refresh' ? named.replace('get_', 'put_') : named, index };
    if (ep.startsWith('_')) return { operation: ep.slice(1), index };
    return { index };
  }
  // cluster-level: `/_search`, `/_bulk`, `/_cluster/health`, `/_cat/indices`
  if (parts.length >= 2 && (first === '_cluster' || first === '_cat' || first === '_nodes' || first === '_ingest' || first === '_snapshot' || first === '_tasks')) {
    const sub = parts[1].startsWith('_') ? parts[1].slice(1) : first === '_cat' || first === '_cluster' ? parts[1] : undefined;
    return { operation: sub === undefined ? first.slice(1) : `${first.slice(1)}.${sub}` };
  }
  return { operation: first.slice(1) };
}

/** the request body compacted, when it is one whole JSON document */
function queryText(payload: HttpPayload): string | undefined {
  if (!payload.requestBodyComplete || payload.requestBody.length === 0) return undefined;
  const v = parseJson(payload.requestBody.toString('utf8'));
  return v === undefined || v === null || typeof v !== 'object' ? undefined : JSON.stringify(v);
}

/** `error.type` of an error response body (`{"error": {"type": ...}}`) */
function errorType(payload: HttpPayload): string | undefined {
  const text = payload.responseBody.toString('utf8');
  const err = jsonMember(jsonMembers(text), text, 'error');
  if (err === undefined) return undefined;
  const v = parseJson(err) as { type?: unknown; reason?: unknown } | string | undefined | null;
  if (v !== null && typeof v === 'object' && typeof v.type === 'string') return v.type;
  return undefined;
}

/** The enrichment of one exchange, or undefined when it is not an Elasticsearch/OpenSearch call. */
export function extractSearch(rec: HttpRecord, payload: HttpPayload, server?: string): HttpEnrichment | undefined {
  const system = searchProduct(payload);
  if (system === undefined) return undefined;
  const { operation, index } = searchOperation(rec.method, rec.path);
  const attributes: Record<string, string> = { 'db.system.name': system };
  if (operation !== undefined) attributes['db.operation.name'] = operation;
  if (index !== undefined) attributes['db.collection.name'] = index;
  const cluster = headerValue(payload.responseHeaders, 'x-found-handling-cluster');
  if (cluster !== undefined && cluster.length > 0) attributes['db.namespace'] = cluster;
  const node = headerValue(payload.responseHeaders, 'x-found-handling-instance');
  if (node !== undefined && node.length > 0) attributes['elasticsearch.node.name'] = node;
  const text = queryText(payload);
  if (text !== undefined) attributes['db.query.text'] = text;
  const target = index ?? attributes['db.namespace'] ?? server;
  const name = operation === undefined ? system : target === undefined ? operation : `${operation} ${target}`;
  const err = rec.status >= 400 ? errorType(payload) : undefined;
  return { name, category: 'db', attributes, ...(err === undefined ? undefined : { errorType: err }) };
}

export const elasticsearch: HttpExtractor = Object.freeze<HttpExtractor>({
  name: 'elasticsearch',
  enabled: (config) => switchedOn(config, 'elasticsearch'),
  roles: Object.freeze(['client'] as const),
  extract: (rec, payload, ctx) => extractSearch(rec, payload, ctx.server),
});
