/**
 * Fuzzing the GraphQL extractor on the HTTP/1 parser (test/helpers/http-extract-fuzz.ts).
 */
import fc from 'fast-check';
import { fuzzExtractor, message, type GeneratedExchange } from '../../../test/helpers/http-extract-fuzz.ts';
import { graphql } from './index.ts';

const word = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/);

const exchangeArb: fc.Arbitrary<GeneratedExchange> = fc
  .record({
    type: fc.constantFrom('query', 'mutation', 'subscription'),
    name: fc.option(word, { nil: undefined }),
    field: word,
    withOpName: fc.boolean(),
    error: fc.option(fc.record({ message: fc.string({ maxLength: 20 }), code: fc.option(fc.constantFrom('BAD_USER_INPUT', 'UNAUTHENTICATED'), { nil: undefined }) }), { nil: undefined }),
  })
  .map(({ type, name, field, withOpName, error }) => {
    const document = `${type}${name === undefined ? '' : ` ${name}`} { ${field} }`;
    const body = JSON.stringify(withOpName && name !== undefined ? { query: document, operationName: name } : { query: document });
    const resp = JSON.stringify(error === undefined ? { data: { [field]: 1 } } : { errors: [{ message: error.message, ...(error.code === undefined ? {} : { extensions: { code: error.code } }) }] });
    const attributes: Record<string, string> = { 'graphql.operation.type': type };
    if (name !== undefined) attributes['graphql.operation.name'] = name;
    attributes['graphql.document'] = document;
    return {
      req: message('POST /graphql HTTP/1.1', [['Host', 'h'], ['Content-Type', 'application/json']], body),
      resp: message('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], resp),
      expect: { name: `GraphQL ${type}`, attributes, ...(error === undefined ? {} : { errorType: error.code ?? 'GraphQLError', errorMessage: error.message }) },
    };
  });

fuzzExtractor(graphql, 'server', exchangeArb, [
  'POST /graphql HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n',
  '{"query":"query A { a }"}',
  '{"query":"{ a }","operationName":"A"}',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
  '{"errors":[{"message":"x"}]}',
  'GET /graphql?query=%7Ba%7D HTTP/1.1\r\n\r\n',
]);
