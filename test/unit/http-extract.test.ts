/**
 * The HTTP payload extractors through recordToSpan: the registry list, switching on by config,
 * renaming, category change, errors, and a throwing extractor counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnInfo } from '../../src/common/conn.ts';
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { ProtocolConn } from '../../src/protocols/common/descriptor.ts';
import type { HttpExtractor } from '../../src/protocols/common/http-extract.ts';
import type { HttpPayload, HttpRecord } from '../../src/protocols/common/records.ts';
import { enabledHttpExtractors, HTTP_EXTRACTORS, PROTOCOLS } from '../../src/protocols/registry.ts';
import type { IdSource } from '../../src/telemetry/ids.ts';
import { recordToSpan, type SpanContext } from '../../src/telemetry/record.ts';

const ids: IdSource = { traceId: () => '0af7651916cd43dd8448eb211c80319c', spanId: () => 'b7ad6b7169203331' };
const service = { name: 'app', namespace: '', instanceId: 'h:1', pid: 1 } as unknown as ServiceIdentity;
const info = (role: 'client' | 'server'): ConnInfo => ({ pid: 1, tid: 1, role, localAddr: '127.0.0.1', localPort: 4000, remoteAddr: '127.0.0.2', remotePort: 9200, tls: false });
const conn = (role: 'client' | 'server'): ProtocolConn => ({ info: info(role), service, descriptor: PROTOCOLS.find((p) => p.wire === 'http1')! });

const payload = (p: Partial<HttpPayload>): HttpPayload => ({
  requestHeaders: [],
  responseHeaders: [],
  requestBody: Buffer.alloc(0),
  requestBodyComplete: true,
  responseBody: Buffer.alloc(0),
  responseBodyComplete: true,
  ...p,
});
const rec = (r: Partial<HttpRecord>): HttpRecord => ({ category: 'http', method: 'POST', target: '/graphql', path: '/graphql', status: 200, requestBodySize: 0, responseBodySize: 0, startNs: 1, endNs: 2, ...r });
const ctx = (httpExtractors: readonly HttpExtractor[], stats?: Map<string, number>): SpanContext => ({ ids, route: () => '', httpExtractors, ...(stats ? { httpExtractStats: stats } : {}) });

test('the registry lists the extractors; config switches them on one by one (all off by default)', () => {
  assert.deepEqual(HTTP_EXTRACTORS.map((x) => x.name), ['graphql', 'elasticsearch', 'aws-s3', 'genai']);
  assert.deepEqual(enabledHttpExtractors(undefined), []);
  assert.deepEqual(enabledHttpExtractors({ graphql: { enabled: false } }), []);
  assert.deepEqual(enabledHttpExtractors({ graphql: { enabled: true }, aws: { enabled: true } }).map((x) => x.name), ['graphql', 'aws-s3']);
  assert.deepEqual(enabledHttpExtractors({ elasticsearch: { enabled: true } }).map((x) => x.name), ['elasticsearch']);
});

test('a GraphQL server exchange: renamed, attributes added, HTTP attributes kept', () => {
  const body = Buffer.from(JSON.stringify({ query: 'query TestMe { testme }' }));
  const r = rec({ requestBodySize: body.length, payload: payload({ requestBody: body }) });
  const s = recordToSpan(r, conn('server'), ctx(HTTP_EXTRACTORS))!;
  assert.equal(s.name, 'GraphQL query');
  assert.equal(s.category, 'http');
  assert.equal(s.kind, 'server');
  assert.equal(s.status, 'unset');
  assert.equal(s.attributes['graphql.operation.name'], 'TestMe');
  assert.equal(s.attributes['graphql.document'], 'query TestMe { testme }');
  assert.equal(s.attributes['http.request.method'], 'POST');
  // the same exchange seen by a client: GraphQL reads servers only
  assert.equal(recordToSpan(r, conn('client'), ctx(HTTP_EXTRACTORS))!.name, 'POST');
  // no payload (extraction off in the parser): untouched
  assert.equal(recordToSpan(rec({}), conn('server'), ctx(HTTP_EXTRACTORS))!.name, 'POST');
});

test('an Elasticsearch client exchange becomes a db span named after its peer when it has no index', () => {
  const r = rec({ method: 'GET', target: '/_search', path: '/_search', payload: payload({ responseHeaders: [['x-elastic-product', 'Elasticsearch']] }) });
  const s = recordToSpan(r, conn('client'), ctx(HTTP_EXTRACTORS))!;
  assert.equal(s.category, 'db');
  assert.equal(s.kind, 'client');
  assert.equal(s.name, 'search 127.0.0.2:9200');
  assert.equal(s.attributes['db.system.name'], 'elasticsearch');
});

test('errorType makes the span ERROR with error.type and the message; a throwing extractor is counted and skipped', () => {
  const failing: HttpExtractor = { name: 'x', enabled: () => true, roles: ['server'], extract: () => ({ name: 'X op', errorType: 'E_X', errorMessage: 'went wrong' }) };
  const thrower: HttpExtractor = { name: 't', enabled: () => true, roles: ['server'], extract: () => { throw new Error('bug'); } };
  const stats = new Map<string, number>();
  const s = recordToSpan(rec({ payload: payload({}) }), conn('server'), ctx([thrower, failing], stats))!;
  assert.deepEqual([...stats], [['t', 1]]);
  assert.equal(s.name, 'X op');
  assert.equal(s.status, 'error');
  assert.equal(s.statusMessage, 'went wrong');
  assert.equal(s.attributes['error.type'], 'E_X');
});
