// Node.js under `headers` (rule idle, propagation-headers.test.ts): a request made while the process
// serves none (at start: GET /node-idle) gets a traceparent; one made while it serves a request
// (GET /call → GET /node-busy) does not (the inspector linker decides its parent after the write).
// Usage: node node_idle.mjs RECORDER_PORT LISTEN_PORT
import { createServer } from 'node:http';

const [recorder, listen] = process.argv.slice(2).map(Number);
const down = async (path) => (await fetch(`http://127.0.0.1:${recorder}${path}`)).text();
await down('/node-idle');
createServer(async (req, res) => {
  const body = await down('/node-busy');
  res.end(body);
}).listen(listen, '127.0.0.1', () => console.log('listening'));
