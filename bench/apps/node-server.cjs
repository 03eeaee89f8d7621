// The benchmark's Node.js application: an http server doing a little work per request
// (a small loop and the JSON of a small object). CommonJS on purpose, so the
// OpenTelemetry SDK's require hooks instrument `http` exactly as they would in a
// typical CommonJS service. PORT from argv[2].
'use strict';
const http = require('node:http');

const port = Number(process.argv[2]);
let served = 0;

const server = http.createServer((req, res) => {
  let acc = 0;
  for (let i = 0; i < 2000; i++) acc = (acc * 31 + i) % 1000003;
  const body = JSON.stringify({
    id: 12345,
    name: 'Alice Example',
    email: 'alice@example.com',
    roles: ['admin', 'dev'],
    path: req.url,
    checksum: acc,
    served: ++served,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');

// On SIGTERM close the server and let the loop drain, so an SDK registered with
// --require can flush what it holds (its own SIGTERM handler starts the shutdown).
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
});
