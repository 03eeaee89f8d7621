/**
 * Records HTTP/2 exchanges for the HTTP payload extractors (node:http2 client and server, one h2c
 * connection each, through a loopback TCP relay) and writes them as fixtures replayed through the
 * HTTP/2 parser with a payload capture, then the extractor (test/helpers/http-extract-fixtures.ts):
 * src/protocols/graphql/fixtures/h2/recorded-h2c.md and src/protocols/genai/fixtures/h2/recorded-h2c.md.
 * Run by hand when they need renewing: `.tools/node/bin/node scripts/gen-h2-extract-fixtures.ts`.
 * The expectations are written from what the clients and servers were asked to do, not from the
 * parser's output. The servers answer in the documented formats (GraphQL over HTTP; the OpenAI
 * chat completions API); no GraphQL engine or model is behind them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { relay, type Seg } from './tcp-relay.ts';
import http2 from 'node:http2';

function md(title: string, intro: string, segs: Seg[], expect: unknown[]): string {
  let out = `## case: ${title}\n${intro}\n`;
  for (const s of segs) {
    out += `### ${s.dir}\n\`\`\`hex\n`;
    for (let i = 0; i < s.data.length; i += 32) {
      out += [...s.data.subarray(i, i + 32)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('') + '\n';
    }
    out += '```\n';
  }
  out += `### close\n### expect\n\`\`\`json\n${JSON.stringify(expect, null, 1)}\n\`\`\`\n`;
  return out;
}

type Handler = (method: string, path: string, body: string, stream: http2.ServerHttp2Stream) => void;

async function record(handler: Handler, calls: (req: (method: string, path: string, body?: string, headers?: Record<string, string>) => Promise<void>) => Promise<void>): Promise<Seg[]> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => handler(String(headers[':method']), String(headers[':path']), Buffer.concat(chunks).toString(), stream));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rl = await relay((server.address() as { port: number }).port);
  const client = http2.connect(`http://127.0.0.1:${rl.port}`);
  const req = (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<void> =>
    new Promise<void>((r) => {
      const s = client.request({ ':method': method, ':path': path, ...headers });
      s.on('data', () => {});
      s.on('end', r);
      s.end(body);
    });
  await calls(req);
  await new Promise((r) => setTimeout(r, 100));
  client.close();
  await new Promise((r) => setTimeout(r, 100));
  rl.close();
  server.close();
  return rl.segs;
}

async function graphqlCase(): Promise<string> {
  const json = { 'content-type': 'application/json' };
  const segs = await record(
    (method, path, body, stream) => {
      const q = method === 'GET' ? (new URL(path, 'http://x').searchParams.get('query') ?? '') : (JSON.parse(body) as { query: string }).query;
      stream.respond({ ':status': q.includes('nope') ? 400 : 200, ...json });
      if (q.includes('nope')) stream.end(JSON.stringify({ errors: [{ message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] }));
      else if (q.includes('boom')) stream.end(JSON.stringify({ data: { boom: null }, errors: [{ message: 'resolver failed', path: ['boom'] }] }));
      else if (q.includes('books')) stream.end(JSON.stringify({ data: { books: Array.from({ length: 40 }, (_, i) => ({ title: `Book ${i}`, author: 'A. Author' })) } }));
      else stream.end(JSON.stringify({ data: { ok: true } }));
    },
    async (req) => {
      await req('POST', '/graphql', JSON.stringify({ query: 'query TestMe { testme }' }), json);
      await req('POST', '/graphql', JSON.stringify({ query: 'mutation ($n: String!) { addBook(title: $n) { id } }', variables: { n: 'Dune' } }), json);
      await req('GET', `/graphql?query=${encodeURIComponent('{ books { title author } }')}`);
      await req('POST', '/graphql', JSON.stringify({ query: '{ nope }' }), json);
      await req('POST', '/graphql', JSON.stringify({ query: 'query Boom { boom }' }), json);
      // concurrent streams: each body stays with its stream
      await Promise.all([
        req('POST', '/graphql', JSON.stringify({ query: 'query A { a }' }), json),
        req('POST', '/graphql', JSON.stringify({ operationName: 'B', query: 'query A { a } mutation B { b }' }), json),
      ]);
    },
  );
  const q = (name: string | undefined, doc: string, type = 'query'): Record<string, string> => ({ 'graphql.operation.type': type, ...(name === undefined ? {} : { 'graphql.operation.name': name }), 'graphql.document': doc });
  return md(
    'node:http2 GraphQL server over h2c: named query, mutation, GET, a validation error, a resolver error, two concurrent streams',
    'Recorded from node:http2 client and server (scripts/gen-h2-extract-fixtures.ts), one h2c connection; the server answers in the GraphQL-over-HTTP format.',
    segs,
    [
      { method: 'POST', path: '/graphql', status: 200, requestBodyComplete: true, responseBodyComplete: true, enrichment: { name: 'GraphQL query', attributes: q('TestMe', 'query TestMe { testme }') } },
      { status: 200, enrichment: { name: 'GraphQL mutation', attributes: q(undefined, 'mutation ($n: String!) { addBook(title: $n) { id } }', 'mutation') } },
      { method: 'GET', path: '/graphql', status: 200, responseBodyComplete: true, enrichment: { name: 'GraphQL query', attributes: q(undefined, '{ books { title author } }') } },
      { status: 400, enrichment: { name: 'GraphQL query', attributes: q(undefined, '{ nope }'), errorType: 'GRAPHQL_VALIDATION_FAILED', errorMessage: 'Cannot query field "nope" on type "Query".' } },
      { status: 200, enrichment: { name: 'GraphQL query', attributes: q('Boom', 'query Boom { boom }'), errorType: 'GraphQLError', errorMessage: 'resolver failed' } },
      { status: 200, enrichment: { name: 'GraphQL query', attributes: q('A', 'query A { a }') } },
      { status: 200, enrichment: { name: 'GraphQL mutation', attributes: q('B', 'query A { a } mutation B { b }', 'mutation') } },
    ],
  );
}

async function genaiCase(): Promise<string> {
  const segs = await record(
    (_method, _path, body, stream) => {
      const b = JSON.parse(body) as { model: string; stream?: boolean };
      if (b.stream === true) {
        stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
        const chunk = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
        const base = { id: 'chatcmpl-h2s', object: 'chat.completion.chunk', created: 1741569952, model: 'gpt-4o-2024-08-06' };
        stream.write(chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null }));
        for (let i = 0; i < 5; i++) stream.write(chunk({ ...base, choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }], usage: null }));
        stream.write(chunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }));
        stream.write(chunk({ ...base, choices: [], usage: { prompt_tokens: 21, completion_tokens: 6, total_tokens: 27 } }));
        stream.end('data: [DONE]\n\n');
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(
        JSON.stringify({
          id: 'chatcmpl-h2w',
          object: 'chat.completion',
          created: 1741569952,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(3000), refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 13, completion_tokens: 750, total_tokens: 763 },
        }),
      );
    },
    async (req) => {
      const json = { 'content-type': 'application/json' };
      await req('POST', '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }], temperature: 0.5 }), json);
      await req('POST', '/v1/chat/completions', JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Count' }] }), json);
    },
  );
  return md(
    'node:http2 OpenAI-shaped server over h2c: chat completion whole (a 3 KB answer in one DATA frame), then streamed (SSE, usage in the last chunk)',
    'Recorded from node:http2 client and server (scripts/gen-h2-extract-fixtures.ts), one h2c connection; the server answers in the documented OpenAI chat completions format.',
    segs,
    [
      {
        method: 'POST',
        path: '/v1/chat/completions',
        status: 200,
        requestBodyComplete: true,
        responseBodyComplete: true,
        enrichment: {
          name: 'chat gpt-4o-mini',
          category: 'genai',
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.request.temperature': 0.5,
            'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
            'gen_ai.response.id': 'chatcmpl-h2w',
            'gen_ai.usage.input_tokens': 13,
            'gen_ai.usage.output_tokens': 750,
            'gen_ai.response.finish_reasons': 'stop',
          },
        },
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        status: 200,
        responseBodyComplete: true,
        enrichment: {
          name: 'chat gpt-4o',
          category: 'genai',
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': 'gpt-4o',
            'gen_ai.response.model': 'gpt-4o-2024-08-06',
            'gen_ai.response.id': 'chatcmpl-h2s',
            'gen_ai.usage.input_tokens': 21,
            'gen_ai.usage.output_tokens': 6,
            'gen_ai.response.finish_reasons': 'stop',
          },
        },
      },
    ],
  );
}

const root = new URL('../src/protocols/', import.meta.url);
for (const [dir, title, body] of [
  ['graphql/fixtures/h2/', 'GraphQL over HTTP/2 (h2c)', await graphqlCase()],
  ['genai/fixtures/h2/', 'OpenAI-compatible API over HTTP/2 (h2c)', await genaiCase()],
] as const) {
  const at = new URL(dir, root);
  mkdirSync(at, { recursive: true });
  writeFileSync(new URL('recorded-h2c.md', at), `# ${title}\n\nFormat: test/helpers/protocol-fixtures.ts and test/helpers/http-extract-fixtures.ts (the HTTP/2 parser keeping payloads).\n\n${body}`);
}
