// A Node.js hop for test/integration/correlation-chain.test.ts: one event loop, no SDK, no
// trace header forwarded. GET /x: a Redis GET (ioredis) of the key `chain:/x`, then fetch() of
// NEXT_URL_PREFIX + /x, answered with what the next hop said. Prints "listening" once bound.
// argv: port nextUrlPrefix redisPort
import http from 'node:http';
import Redis from 'ioredis';

const [port, next, redisPort] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const redis = new Redis({ port: redisPort, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, lazyConnect: true });
await redis.connect();

http
  .createServer(async (req, res) => {
    try {
      await redis.get(`chain:${req.url}`);
      const body = await (await fetch(next + req.url)).text();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(body);
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  })
  .listen(port, '127.0.0.1', () => console.log('listening'));
