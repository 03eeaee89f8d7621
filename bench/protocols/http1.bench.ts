/**
 * HTTP/1 parse + stitch: ns per exchange for a typical GET + 200 pair, fed to one
 * ProtocolSession as two segments (request, response), keep-alive; and the shape of nginx
 * serving a static file (`make bench`'s nginx rows): the request, the response head in one
 * write, its body in a sendfile the capture sees as a length only (3 segments).
 * Run: node bench/protocols/http1.bench.ts  [iterations]
 */
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import { http1Parser } from '../../src/protocols/http1/index.ts';

const req = Buffer.from(
  'GET /api/v1/users/12345?include=profile&fields=name,email HTTP/1.1\r\n' +
    'Host: users.default.svc.cluster.local:8080\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n' +
    'Accept: application/json\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\n' +
    'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n' +
    'Connection: keep-alive\r\n' +
    '\r\n',
  'latin1',
);
const body = '{"id":12345,"name":"Alice","email":"alice@example.com"}';
const resp = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n` +
    'Date: Tue, 25 Nov 2025 11:00:00 GMT\r\n' +
    'Server: nginx/1.25.3\r\n' +
    'Cache-Control: no-cache\r\n' +
    '\r\n' +
    body,
  'latin1',
);

function run(n: number): number {
  const s = new ProtocolSession(http1Parser);
  let ts = 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    s.feed('request', req, req.length, ts++);
    count += s.feed('response', resp, resp.length, ts++).length;
  }
  return count;
}

const nginxReq = Buffer.from('GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n', 'latin1');
const FILE_SIZE = 615;
const nginxHead = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'Server: nginx/1.22.1\r\n' +
    'Date: Fri, 04 Dec 2026 16:00:00 GMT\r\n' +
    'Content-Type: text/html\r\n' +
    `Content-Length: ${FILE_SIZE}\r\n` +
    'Last-Modified: Fri, 04 Dec 2026 15:00:00 GMT\r\n' +
    'Connection: keep-alive\r\n' +
    'ETag: "6750a1b0-267"\r\n' +
    'Accept-Ranges: bytes\r\n' +
    '\r\n',
  'latin1',
);
const NO_BYTES = Buffer.alloc(0);

function runNginx(n: number): number {
  const s = new ProtocolSession(http1Parser);
  let ts = 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    s.feed('request', nginxReq, nginxReq.length, ts++);
    s.feed('response', nginxHead, nginxHead.length, ts++);
    count += s.feed('response', NO_BYTES, FILE_SIZE, ts++).length;
  }
  return count;
}

function measure(label: string, fn: (n: number) => number, n: number): void {
  fn(50_000); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const got = fn(n);
    const dt = performance.now() - t0;
    if (got !== n) throw new Error(`${label}: expected ${n} exchanges, got ${got}`);
    rounds.push((dt * 1e6) / n);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${label}: median ${rounds[2].toFixed(0)} ns/exchange (min ${rounds[0].toFixed(0)}, max ${rounds[4].toFixed(0)}; ${n} exchanges x 5)`);
}

const n = Number(process.argv[2] ?? 500_000);
measure(`http1 GET+200 (${req.length} B + ${resp.length} B, 2 segments)`, run, n);
measure(`http1 nginx static file (${nginxReq.length} B + ${nginxHead.length} B head + ${FILE_SIZE} B sendfile, 3 segments)`, runNginx, n);
