// An uninstrumented HTTP/2 (h2c) server for propagation-headers.test.ts: answers each request with
// the traceparent header it carried ("none" without one) and prints "<path> <traceparent>".
// Usage: node h2_echo.mjs PORT
import { createServer } from 'node:http2';

createServer((req, res) => {
  const tp = req.headers.traceparent ?? 'none';
  console.log(`${req.url} ${tp}`);
  res.end(String(tp));
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
