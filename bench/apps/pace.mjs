// The fixed-rate load generator: HTTP/1.1 GETs on `connections` keep-alive connections (plain
// or TLS), sent on a schedule of `rate` requests per second for `seconds` (open loop). Latency
// is measured from each request's SCHEDULED time, so a request that waits for a free
// connection counts its wait (no coordinated omission). One request in flight per connection;
// responses must carry Content-Length (nginx static files and the benchmark's Node app do).
// Prints one JSON line: requests, rps, p50Us, p99Us, errors, late (sends more than 1 ms behind
// schedule), wallS.
//   node pace.mjs <url> <rate> <seconds> <connections>
import net from 'node:net';
import tls from 'node:tls';

const [url, rateArg, secondsArg, connsArg] = process.argv.slice(2);
const u = new URL(url);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const nconns = Number(connsArg);
const tlsOn = u.protocol === 'https:';
const port = Number(u.port || (tlsOn ? 443 : 80));
const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: keep-alive\r\n\r\n`);
const total = Math.round(rate * seconds);
const lat = new Float64Array(total);
let done = 0;
let errors = 0;
let late = 0;
let next = 0; // index of the next request to send
const idle = [];
const t0 = process.hrtime.bigint() + 50_000_000n; // first send 50 ms after the connections are up
const due = (i) => t0 + BigInt(Math.round((i * 1e9) / rate));
let finish;
let lastNs = 0n;
const finished = new Promise((r) => (finish = r));

function open() {
  return new Promise((resolve, reject) => {
    const s = tlsOn ? tls.connect({ host: u.hostname, port, rejectUnauthorized: false }) : net.connect({ host: u.hostname, port });
    s.setNoDelay(true);
    const c = { s, buf: Buffer.alloc(0), scheduled: 0n };
    s.once(tlsOn ? 'secureConnect' : 'connect', () => resolve(c));
    s.once('error', reject);
    s.on('data', (d) => onData(c, d));
  });
}

function onData(c, d) {
  c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
  for (;;) {
    const h = c.buf.indexOf('\r\n\r\n');
    if (h < 0) return;
    const head = c.buf.subarray(0, h).toString('latin1');
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (c.buf.length < h + 4 + len) return;
    c.buf = c.buf.subarray(h + 4 + len);
    const ok = / 2\d\d /.test(head.slice(0, 16));
    if (!ok) errors++;
    lastNs = process.hrtime.bigint();
    lat[done++] = Number(lastNs - c.scheduled) / 1000;
    if (done === total) finish();
    idle.push(c);
    pump();
  }
}

function pump() {
  const now = process.hrtime.bigint();
  while (next < total && idle.length > 0 && due(next) <= now) {
    const c = idle.pop();
    c.scheduled = due(next);
    if (now - c.scheduled > 1_000_000n) late++;
    next++;
    c.s.write(request);
  }
}

const conns = await Promise.all(Array.from({ length: nconns }, open));
idle.push(...conns);
const timer = setInterval(pump, 0.2);
const started = process.hrtime.bigint();
await Promise.race([finished, new Promise((r) => setTimeout(r, (seconds + 10) * 1000))]);
clearInterval(timer);
const wallS = Number(process.hrtime.bigint() - started) / 1e9;
for (const c of conns) c.s.destroy();
const got = lat.subarray(0, done).sort();
const q = (p) => (got.length === 0 ? 0 : got[Math.min(got.length - 1, Math.floor(p * got.length))]);
console.log(JSON.stringify({ requests: done, rps: done / Math.max(1e-9, Number(lastNs - t0) / 1e9), p50Us: q(0.5), p99Us: q(0.99), errors: errors + (total - done), late, wallS }));
