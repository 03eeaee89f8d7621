/**
 * Records real HTTP/2 traffic (grpc-js, node:http2) through a loopback TCP relay and writes it
 * as parser fixtures (src/protocols/http2/fixtures/recorded-*.md). Run by hand when the fixtures
 * need renewing: `.tools/node/bin/node scripts/gen-h2-fixtures.ts`; the expectations are written
 * from what the clients and servers were asked to do, not from the parser's output.
 */
import { writeFileSync } from 'node:fs';
import { relay, type Seg } from './tcp-relay.ts';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';

function md(title: string, intro: string, segs: Seg[], expect: unknown[], counters?: unknown): string {
  let out = `## case: ${title}\n${intro}\n`;
  for (const s of segs) {
    out += `### ${s.dir}\n\`\`\`hex\n`;
    for (let i = 0; i < s.data.length; i += 32) {
      out += [...s.data.subarray(i, i + 32)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('') + '\n';
    }
    out += '```\n';
  }
  out += `### close\n### expect\n\`\`\`json\n${JSON.stringify(expect, null, 1)}\n\`\`\`\n`;
  if (counters !== undefined) out += `### counters\n\`\`\`json\n${JSON.stringify(counters)}\n\`\`\`\n`;
  return out;
}

const proto = {
  echo: {
    path: '/test.Echo/Unary',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
  stream: {
    path: '/test.Echo/ServerStream',
    requestStream: false,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} as const;

async function grpcCase(): Promise<string> {
  const server = new grpc.Server();
  server.addService(proto as never, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (call.request.toString() === 'missing') cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      else cb(null, Buffer.from('pong:' + call.request.toString()));
    },
    stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < 3; i++) call.write(Buffer.from(`m${i}`));
      call.end();
    },
  } as never);
  const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  const rl = await relay(port);
  const Client = grpc.makeGenericClientConstructor(proto as never, 'Echo');
  const client = new Client(`127.0.0.1:${rl.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => unknown>;
  const unary = (msg: string) => new Promise<void>((r) => client.echo(Buffer.from(msg), () => r()));
  await unary('ping');
  await unary('missing');
  await new Promise<void>((r) => {
    const st = client.stream(Buffer.from('go')) as NodeJS.EventEmitter;
    st.on('data', () => {});
    st.on('end', r);
    st.on('error', r);
  });
  await unary('again');
  await new Promise((r) => setTimeout(r, 100));
  (client as unknown as grpc.Client).close();
  await new Promise((r) => setTimeout(r, 100));
  rl.close();
  server.forceShutdown();
  return md(
    'grpc-js: unary OK, unary NOT_FOUND, server streaming (3 messages), unary again on one connection',
    'Recorded from @grpc/grpc-js client and server (scripts/gen-h2-fixtures.ts), one h2c connection.',
    rl.segs,
    [
      { category: 'rpc', method: '/test.Echo/Unary', statusCode: 0, requestMessages: 1, responseMessages: 1, requestBodySize: 9, responseBodySize: 14, partial: null },
      { category: 'rpc', method: '/test.Echo/Unary', statusCode: 5, statusMessage: 'no such thing', requestMessages: 1, responseMessages: 0, partial: null },
      { category: 'rpc', method: '/test.Echo/ServerStream', statusCode: 0, requestMessages: 1, responseMessages: 3, requestBodySize: 7, responseBodySize: 21 },
      { category: 'rpc', method: '/test.Echo/Unary', statusCode: 0, requestMessages: 1, responseMessages: 1, requestBodySize: 10, responseBodySize: 15 },
    ],
    { invalidFrames: 0 },
  );
}

async function httpCase(): Promise<string> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = headers[':path'];
    let body = 0;
    stream.on('data', (d: Buffer) => (body += d.length));
    stream.on('end', () => {
      if (path === '/missing') {
        stream.respond({ ':status': 404 });
        stream.end();
      } else {
        stream.respond({ ':status': headers[':method'] === 'POST' ? 201 : 200, 'content-type': 'text/plain' });
        stream.end('x'.repeat(path === '/big' ? 2000 : 5));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const rl = await relay((server.address() as { port: number }).port);
  const client = http2.connect(`http://127.0.0.1:${rl.port}`);
  const req = (method: string, path: string, body?: string) =>
    new Promise<void>((r) => {
      const s = client.request({ ':method': method, ':path': path, 'user-agent': 'fixture/1' });
      s.on('data', () => {});
      s.on('end', r);
      s.end(body);
    });
  await req('GET', '/a/1?x=1');
  await req('POST', '/items', 'hello world');
  await Promise.all([req('GET', '/big'), req('GET', '/missing'), req('GET', '/a/2')]);
  await new Promise((r) => setTimeout(r, 100));
  client.close();
  await new Promise((r) => setTimeout(r, 100));
  rl.close();
  server.close();
  return md(
    'node:http2: GET with query, POST with a body, then three concurrent streams (a 2000-byte body, a 404)',
    'Recorded from node:http2 client and server (scripts/gen-h2-fixtures.ts), one h2c connection. The concurrent streams complete in the order the server finished them.',
    rl.segs,
    [
      { category: 'http', method: 'GET', path: '/a/1', query: 'x=1', status: 200, responseBodySize: 5, requestBodySize: 0, protocolVersion: '2', userAgent: 'fixture/1', truncated: null },
      { category: 'http', method: 'POST', path: '/items', status: 201, requestBodySize: 11, responseBodySize: 5 },
      // concurrent: completed in the order the server ended them (recorded: as requested)
      { category: 'http', method: 'GET', path: '/big', status: 200, responseBodySize: 2000 },
      { category: 'http', method: 'GET', path: '/missing', status: 404, responseBodySize: 0 },
      { category: 'http', method: 'GET', path: '/a/2', status: 200, responseBodySize: 5 },
    ],
    { invalidFrames: 0 },
  );
}

const dir = new URL('../src/protocols/http2/fixtures/', import.meta.url);
writeFileSync(new URL('recorded-grpc.md', dir), `# Recorded gRPC traffic\n\n${await grpcCase()}`);
writeFileSync(new URL('recorded-http.md', dir), `# Recorded HTTP/2 traffic\n\n${await httpCase()}`);
