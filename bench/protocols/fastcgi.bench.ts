/**
 * FastCGI parse + stitch: ns per exchange through one ProtocolSession, for the request nginx
 * 1.22 sends with Debian's fastcgi_params (BEGIN_REQUEST, 27 CGI variables in one PARAMS record,
 * the empty PARAMS and STDIN records) and PHP-FPM's answer (one STDOUT with a CGI head and a
 * 17-byte body, END_REQUEST), fed as the two ends see them: nginx's side (one writev, one read)
 * and PHP-FPM's (each record header read alone, then its content).
 * Run: node bench/protocols/fastcgi.bench.ts  [iterations]
 */
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import { fastcgiParser } from '../../src/protocols/fastcgi/index.ts';

function record(type: number, content: Buffer): Buffer {
  const h = Buffer.from([1, type, 0, 1, content.length >> 8, content.length & 255, 0, 0]);
  return Buffer.concat([h, content]);
}
function pair(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([name.length, value.length]), Buffer.from(name + value)]);
}
const vars: [string, string][] = [
  ['QUERY_STRING', 'x=1'], ['REQUEST_METHOD', 'GET'], ['CONTENT_TYPE', ''], ['CONTENT_LENGTH', ''], ['SCRIPT_NAME', '/hello'],
  ['REQUEST_URI', '/hello?x=1'], ['DOCUMENT_URI', '/hello'], ['DOCUMENT_ROOT', '/usr/share/nginx/html'], ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['REQUEST_SCHEME', 'http'], ['GATEWAY_INTERFACE', 'CGI/1.1'], ['SERVER_SOFTWARE', 'nginx/1.22.1'], ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '51234'], ['REMOTE_USER', ''], ['SERVER_ADDR', '127.0.0.1'], ['SERVER_PORT', '19302'], ['SERVER_NAME', ''],
  ['REDIRECT_STATUS', '200'], ['HTTP_HOST', '127.0.0.1'], ['SCRIPT_FILENAME', '/tmp/fcgi-cap/app2.php'], ['HTTP_USER_AGENT', 'curl/7.88.1'],
  ['HTTP_ACCEPT', '*/*'], ['PATH_INFO', ''], ['HTTPS', ''], ['SERVER_ADMIN', ''], ['HTTP_CONNECTION', 'close'],
];
const requestRecords = [
  record(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),
  record(4, Buffer.concat(vars.map(([n, v]) => pair(n, v)))),
  record(4, Buffer.alloc(0)),
  record(5, Buffer.alloc(0)),
];
const request = Buffer.concat(requestRecords);
const response = Buffer.concat([record(6, Buffer.from('X-Powered-By: PHP/8.2.36\r\nContent-type: text/plain;charset=UTF-8\r\n\r\nphp-fpm /hello 0\n')), record(3, Buffer.alloc(8))]);
/** PHP-FPM reads each header (8 bytes) alone, then the content */
const fpmReads = requestRecords.flatMap((r) => (r.length > 8 ? [r.subarray(0, 8), r.subarray(8)] : [r]));

function run(side: 'nginx' | 'fpm', n: number): number {
  const s = new ProtocolSession(fastcgiParser);
  let ts = 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (side === 'nginx') s.feed('request', request, request.length, ts++);
    else for (const r of fpmReads) s.feed('request', r, r.length, ts++);
    count += s.feed('response', response, response.length, ts++).length;
  }
  return count;
}

const n = Number(process.argv[2] ?? 200_000);
for (const side of ['nginx', 'fpm'] as const) {
  run(side, 20_000); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const got = run(side, n);
    const dt = performance.now() - t0;
    if (got !== n) throw new Error(`expected ${n} records, got ${got}`);
    rounds.push((dt * 1e6) / n);
  }
  rounds.sort((a, b) => a - b);
  const segs = side === 'nginx' ? 2 : fpmReads.length + 1;
  console.log(`fastcgi ${side} side (${request.length} B + ${response.length} B, ${segs} segments): median ${rounds[2].toFixed(0)} ns/exchange (min ${rounds[0].toFixed(0)}, max ${rounds[4].toFixed(0)}; ${n} x 5)`);
}
