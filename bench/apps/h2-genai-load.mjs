// The HTTP/2 GenAI load generator: `concurrency` OpenAI chat-completion POSTs in flight on one
// HTTP/2-over-TLS connection (ALPN h2, node:http2) for `seconds`, each answered with 20 KB of
// JSON by test/helpers/apps/genai-server.mjs in `h2` mode; prints one JSON line: requests, rps,
// p50Us, p99Us, errors, wallS.
// The bench's certificate names 127.0.0.1 in its CN only (no SAN), so it is not verified here.
//   node h2-genai-load.mjs <port> <seconds> <concurrency>
import http2 from 'node:http2';

const [port, seconds, concurrency] = process.argv.slice(2, 5).map(Number);
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'in=12 out=34 size=20000' }] });
const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
const lat = [];
let errors = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
const once = () =>
  new Promise((resolve) => {
    const s = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' });
    let status = 0;
    s.on('response', (h) => (status = h[':status']));
    s.on('data', () => undefined);
    s.on('end', () => resolve(status === 200));
    s.on('error', () => resolve(false));
    s.end(body);
  });
async function worker() {
  while (performance.now() < end) {
    const s = performance.now();
    if (await once()) lat.push((performance.now() - s) * 1000);
    else errors++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const wallS = (performance.now() - t0) / 1000;
session.close();
lat.sort((a, b) => a - b);
const q = (p) => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]);
console.log(JSON.stringify({ requests: lat.length + errors, rps: lat.length / wallS, p50Us: q(0.5), p99Us: q(0.99), errors, wallS }));
