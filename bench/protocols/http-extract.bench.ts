/**
 * HTTP payload extraction: ns per exchange of HTTP/1 parse + stitch without payload capture
 * (extractors off), with capture (headers and body kept), and with capture plus each extractor
 * on its own kind of exchange (GraphQL POST, Elasticsearch search, S3 PutObject), fed to one
 * ProtocolSession as two segments, keep-alive.
 * Run: node bench/protocols/http-extract.bench.ts  [iterations]
 */
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import type { HttpExtractor } from '../../src/protocols/common/http-extract.ts';
import type { HttpRecord } from '../../src/protocols/common/records.ts';
import { http1 } from '../../src/protocols/http1/index.ts';
import { awsS3 } from '../../src/protocols/aws-s3/index.ts';
import { elasticsearch } from '../../src/protocols/elasticsearch/index.ts';
import { graphql } from '../../src/protocols/graphql/index.ts';

const msg = (start: string, headers: string[], body: string): Buffer =>
  Buffer.from(`${start}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 'latin1');

const CASES: { name: string; x: HttpExtractor; role: 'client' | 'server'; req: Buffer; resp: Buffer }[] = [
  {
    name: 'graphql',
    x: graphql,
    role: 'server',
    req: msg('POST /graphql HTTP/1.1', ['Host: api.local', 'Content-Type: application/json', 'User-Agent: node'], JSON.stringify({ query: 'query GetBooks($n: Int) { books(first: $n) { id title author { name } } }', operationName: 'GetBooks', variables: { n: 10 } })),
    resp: msg('HTTP/1.1 200 OK', ['Content-Type: application/json'], JSON.stringify({ data: { books: [{ id: '1', title: 'Dune', author: { name: 'Frank Herbert' } }] } })),
  },
  {
    name: 'elasticsearch',
    x: elasticsearch,
    role: 'client',
    req: msg('POST /books/_search HTTP/1.1', ['Host: localhost:9200', 'User-Agent: elasticsearch-js/9.0.0', 'Content-Type: application/vnd.elasticsearch+json; compatible-with=9'], JSON.stringify({ query: { match: { title: 'dune' } }, size: 10 })),
    resp: msg('HTTP/1.1 200 OK', ['X-elastic-product: Elasticsearch', 'content-type: application/vnd.elasticsearch+json;compatible-with=9'], JSON.stringify({ took: 1, timed_out: false, hits: { total: { value: 1, relation: 'eq' }, hits: [] } })),
  },
  {
    name: 'aws-s3',
    x: awsS3,
    role: 'client',
    req: msg('PUT /photos/2026/cat.jpg?x-id=PutObject HTTP/1.1', ['Host: 127.0.0.1:9000', 'x-amz-date: 20260101T000000Z', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024'], 'x'.repeat(512)),
    resp: msg('HTTP/1.1 200 OK', ['x-amz-request-id: 4442587FB7D0A2F9', 'x-amz-id-2: vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=', 'ETag: "abc"'], ''),
  },
];

function run(n: number, c: (typeof CASES)[number], capture: number, extract: boolean): number {
  const s = new ProtocolSession(http1.createParser(capture > 0 ? ({ http_payload_capture: capture } as never) : undefined));
  let ts = 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    s.feed('request', c.req, c.req.length, ts++);
    for (const r of s.feed('response', c.resp, c.resp.length, ts++) as HttpRecord[]) {
      if (extract && c.x.extract(r, r.payload!, { role: c.role, server: 'localhost:9200' }) !== undefined) count++;
      else if (!extract) count++;
    }
  }
  return count;
}

function median(n: number, f: () => number): number {
  f(); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const got = f();
    const dt = performance.now() - t0;
    if (got !== n) throw new Error(`expected ${n}, got ${got}`);
    rounds.push((dt * 1e6) / n);
  }
  return rounds.sort((a, b) => a - b)[2];
}

const n = Number(process.argv[2] ?? 100_000);
for (const c of CASES) {
  const off = median(n, () => run(n, c, 0, false));
  const kept = median(n, () => run(n, c, 8192, false));
  const full = median(n, () => run(n, c, 8192, true));
  console.log(`${c.name} (${c.req.length} B + ${c.resp.length} B): capture off ${off.toFixed(0)} ns/exchange, headers+bodies kept ${kept.toFixed(0)}, kept+extracted ${full.toFixed(0)}`);
}
