// The gRPC load generator: `concurrency` unary calls in flight on one channel (one HTTP/2
// connection) for `seconds`; prints one JSON line: requests, rps, p50Us, p99Us, errors, wallS.
//   node grpc-load.mjs <port> <seconds> <concurrency>
import * as grpc from '@grpc/grpc-js';

const [port, seconds, concurrency] = process.argv.slice(2).map(Number);
const id = (b) => b;
const Client = grpc.makeGenericClientConstructor(
  { echo: { path: '/bench.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
  'Echo',
);
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const payload = Buffer.alloc(64, 0x61);
const lat = [];
let errors = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
async function worker() {
  while (performance.now() < end) {
    const s = performance.now();
    await new Promise((resolve) =>
      client.echo(payload, (err) => {
        if (err) errors++;
        else lat.push((performance.now() - s) * 1000);
        resolve();
      }),
    );
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const wallS = (performance.now() - t0) / 1000;
client.close();
lat.sort((a, b) => a - b);
const q = (p) => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]);
console.log(JSON.stringify({ requests: lat.length + errors, rps: lat.length / wallS, p50Us: q(0.5), p99Us: q(0.99), errors, wallS }));
