/**
 * Fuzzing the Elasticsearch/OpenSearch extractor on the HTTP/1 parser
 * (test/helpers/http-extract-fuzz.ts).
 */
import fc from 'fast-check';
import { fuzzExtractor, message, type GeneratedExchange } from '../../../test/helpers/http-extract-fuzz.ts';
import { elasticsearch } from './index.ts';

const index = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

/** method, path (with `{i}` for the index), operation */
const ENDPOINTS: readonly (readonly [string, string, string])[] = [
  ['POST', '/{i}/_search', 'search'],
  ['GET', '/{i}/_count', 'count'],
  ['PUT', '/{i}/_doc/7', 'index'],
  ['POST', '/{i}/_doc', 'index'],
  ['GET', '/{i}/_doc/7', 'get'],
  ['DELETE', '/{i}/_doc/7', 'delete'],
  ['POST', '/{i}/_bulk', 'bulk'],
  ['PUT', '/{i}', 'indices.create'],
  ['DELETE', '/{i}', 'indices.delete'],
  ['POST', '/{i}/_update/7', 'update'],
];

const exchangeArb: fc.Arbitrary<GeneratedExchange> = fc
  .record({ ep: fc.constantFrom(...ENDPOINTS), index, opensearch: fc.boolean(), node: fc.option(index, { nil: undefined }), body: fc.boolean() })
  .map(({ ep, index, opensearch, node, body }) => {
    const [method, tpl, operation] = ep;
    const path = tpl.replace('{i}', index);
    const reqBody = body && method !== 'GET' && method !== 'DELETE' ? JSON.stringify({ query: { match_all: {} } }) : '';
    const respHeaders: [string, string][] = opensearch ? [] : [['X-Elastic-Product', 'Elasticsearch']];
    if (node !== undefined) respHeaders.push(['X-Found-Handling-Instance', node]);
    const attributes: Record<string, string> = { 'db.system.name': opensearch ? 'opensearch' : 'elasticsearch', 'db.operation.name': operation, 'db.collection.name': index };
    if (node !== undefined) attributes['elasticsearch.node.name'] = node;
    if (reqBody !== '') attributes['db.query.text'] = reqBody;
    return {
      req: message(`${method} ${path} HTTP/1.1`, [['Host', 'localhost:9200'], ['User-Agent', opensearch ? 'opensearch-js/3.0.0' : 'elasticsearch-js/9.0.0']], reqBody),
      resp: message('HTTP/1.1 200 OK', respHeaders, '{"acknowledged":true}'),
      expect: { name: `${operation} ${index}`, category: 'db', attributes },
    };
  });

fuzzExtractor(elasticsearch, 'client', exchangeArb, [
  'POST /books/_search HTTP/1.1\r\nContent-Length: 20\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: 12\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nX-Elastic-Product: Elasticsearch\r\nTransfer-Encoding: chunked\r\n\r\n',
  '{"error":{"type":"index_not_found_exception"},"status":404}',
  'User-Agent: opensearch-js/3.0.0\r\n',
]);
