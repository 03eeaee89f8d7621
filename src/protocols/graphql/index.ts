/**
 * GraphQL over HTTP, server side (OBI: `ebpf.payload_extraction.http.graphql.enabled`): the
 * operation from the request (GraphQL over HTTP: a POST with a JSON body `{"query",
 * "operationName", "variables"}` or an `application/graphql` body, or a GET with `query` and
 * `operationName` in the query string), errors from the response's `errors` array.
 *
 * Span (as OBI; docs/reference/spans.md, GraphQL): name `GraphQL <operation type>` (`GraphQL Operation` when the
 * type is not known), `graphql.operation.type`, `graphql.operation.name`, `graphql.document`
 * (opt-in through `attributes.select.traces`; only when the whole query was captured). A
 * non-empty `errors` array makes the span ERROR with `error.type` = the first error's
 * `extensions.code` when it has one, else `GraphQLError`, and its message as status message.
 */
import type { HttpEnrichment, HttpExtractor, HttpPayload } from '../common/http-extract.ts';
import { headerValue, switchedOn } from '../common/http-extract.ts';
import { jsonMember, jsonMembers, jsonStringPrefix, parseJson } from '../common/json-prefix.ts';
import type { HttpRecord } from '../common/records.ts';
import { graphqlOperation } from './document.ts';

export { graphqlOperation, graphqlOperations } from './document.ts';
export type { GraphqlOperation, GraphqlOperationType } from './document.ts';

/** the request's document and operation name, as far as they were captured */
interface GraphqlRequest {
  readonly document: string;
  readonly complete: boolean;
  readonly operationName?: string;
}

function fromQueryString(query: string | undefined): GraphqlRequest | undefined {
  if (query === undefined || !query.includes('query=')) return undefined;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return undefined;
  }
  const document = params.get('query');
  if (document === null) return undefined;
  const operationName = params.get('operationName') ?? undefined;
  return { document, complete: true, ...(operationName === undefined ? undefined : { operationName }) };
}

function fromBody(payload: HttpPayload): GraphqlRequest | undefined {
  const body = payload.requestBody;
  if (body.length === 0) return undefined;
  const contentType = headerValue(payload.requestHeaders, 'content-type')?.toLowerCase() ?? '';
  const text = body.toString('utf8');
  if (contentType.startsWith('application/graphql') && !contentType.includes('json')) {
    return { document: text, complete: payload.requestBodyComplete };
  }
  const members = jsonMembers(text);
  let document: string | undefined;
  let complete = false;
  let operationName: string | undefined;
  for (const m of members) {
    if (m.key === 'query') {
      const s = jsonStringPrefix(text, m.start);
      if (s === undefined) return undefined;
      document = s.value;
      complete = s.complete;
    } else if (m.key === 'operationName' && m.end >= 0) {
      const v = parseJson(text.slice(m.start, m.end));
      if (typeof v === 'string') operationName = v;
    }
  }
  if (document === undefined) return undefined;
  return { document, complete, ...(operationName === undefined ? undefined : { operationName }) };
}

/** the first GraphQL error of a response body, when its `errors` array was captured and is not empty */
function responseError(payload: HttpPayload): { type: string; message?: string } | undefined {
  const body = payload.responseBody;
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  const members = jsonMembers(text);
  const errors = jsonMember(members, text, 'errors');
  if (errors === undefined) {
    // cut inside the array: an error is there if its first element started
    const cut = members.find((m) => m.key === 'errors' && m.end < 0);
    if (cut !== undefined && /^\[\s*\{/.test(text.slice(cut.start))) return { type: 'GraphQLError' };
    return undefined;
  }
  const list = parseJson(errors);
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const first = list[0] as { message?: unknown; extensions?: { code?: unknown } } | null;
  const code = first?.extensions?.code;
  const message = first?.message;
  return { type: typeof code === 'string' && code.length > 0 ? code : 'GraphQLError', ...(typeof message === 'string' ? { message } : undefined) };
}

/** The enrichment of one exchange, or undefined when it is not a GraphQL request. */
export function extractGraphql(rec: HttpRecord, payload: HttpPayload): HttpEnrichment | undefined {
  let req: GraphqlRequest | undefined;
  if (rec.method === 'GET') req = fromQueryString(rec.query);
  else if (rec.method === 'POST') req = fromBody(payload) ?? fromQueryString(rec.query);
  if (req === undefined) return undefined;
  const op = graphqlOperation(req.document, req.operationName);
  if (op === undefined) {
    // a `query` member whose operation was not captured: GraphQL only on a GraphQL endpoint's path
    return rec.path.endsWith('/graphql') ? { name: 'GraphQL Operation' } : undefined;
  }
  const attributes: Record<string, string> = { 'graphql.operation.type': op.type };
  const name = req.operationName !== undefined && req.operationName !== '' ? req.operationName : op.name;
  if (name !== undefined) attributes['graphql.operation.name'] = name;
  if (req.complete) attributes['graphql.document'] = req.document;
  const err = responseError(payload);
  return {
    name: `GraphQL ${op.type}`,
    attributes,
    ...(err === undefined ? undefined : { errorType: err.type, ...(err.message === undefined ? undefined : { errorMessage: err.message }) }),
  };
}

export const graphql: HttpExtractor = Object.freeze<HttpExtractor>({
  name: 'graphql',
  enabled: (config) => switchedOn(config, 'graphql'),
  roles: Object.freeze(['server'] as const),
  extract: (rec, payload) => extractGraphql(rec, payload),
});
