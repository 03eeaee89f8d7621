// A small Node http server for integration tests: PORT from argv[2].
// Routes: /hello, /users/<id>, /sleep (50 ms), /status/<code>, /echo (POST: replies with the body size),
// /chunked (chunked response), /big (200 000 B body), /proxy?port=N&path=P[&host=H] (an HTTP client call to H, default 127.0.0.1),
// /basic/<n>[?delay=30ms&status=404] (OBI's test route: answers after the delay with the status).
// argv[3]: bind address (default 127.0.0.1).
import http from 'node:http';
const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/hello') return res.end('hello world\n');
  if (p.startsWith('/users/')) return res.end(JSON.stringify({ id: p.slice(7) }));
  if (p === '/sleep') {
    // at least 50 ms of real time from here: libuv timers count from the loop's cached time, so
    // a bare setTimeout(50) can end up to a millisecond early as measured from this point
    const t0 = performance.now();
    const done = () => (performance.now() - t0 >= 50 ? res.end('slept\n') : setTimeout(done, 1));
    return setTimeout(done, 50);
  }
  if (p.startsWith('/basic/')) {
    const delay = /^(\d+)ms$/.exec(url.searchParams.get('delay') ?? '');
    res.statusCode = Number(url.searchParams.get('status') ?? 200);
    return setTimeout(() => res.end('basic\n'), delay ? Number(delay[1]) : 0);
  }
  if (p.startsWith('/status/')) {
    res.statusCode = Number(p.slice(8));
    return res.end();
  }
  if (p === '/echo') {
    let n = 0;
    req.on('data', (d) => (n += d.length));
    req.on('end', () => res.end(String(n)));
    return;
  }
  if (p === '/chunked') {
    res.write('a'.repeat(100));
    res.write('b'.repeat(200));
    return res.end('c'.repeat(300));
  }
  if (p === '/big') {
    res.setHeader('content-length', 200000);
    return res.end(Buffer.alloc(200000, 120));
  }
  if (p === '/proxy') {
    const target = `http://${url.searchParams.get('host') ?? '127.0.0.1'}:${url.searchParams.get('port')}${url.searchParams.get('path')}`;
    return fetch(target).then(
      async (r) => {
        await r.arrayBuffer();
        res.end(`proxied ${r.status}\n`);
      },
      (e) => {
        res.statusCode = 502;
        res.end(String(e));
      },
    );
  }
  res.statusCode = 404;
  res.end('not found\n');
});
server.keepAliveTimeout = 30000;
server.listen(port, process.argv[3] ?? '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
