// A Node.js service for test/integration/node-context.test.ts: each handler calls a downstream
// HTTP service with its own request id in the URL, in a different async shape, so the test can
// check that every client span is the child of the server span of its own request.
//   /timer/<id>  awaits a timer of random length, then fetch()
//   /sync/<id>   http.get() called synchronously in the handler
//   /redis/<id>  awaits a Redis GET (ioredis), then fetch()
//   /all/<id>    Promise.all of three fetch() calls
//   /late/<id>   answers at once, then calls fetch() 30 ms after its response (fire and forget)
//   /state       what the process looks like: its SIGUSR1 handler count, whether net.Socket#write,
//                globals and diagnostics channels are as the app left them
// argv: port downstreamPort redisPort(0 = none) [--own-sigusr1]
import http from 'node:http';
import net from 'node:net';
import dc from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';

const [port, down, redisPort] = process.argv.slice(2, 5).map(Number);
let sigusr1 = 0;
if (process.argv.includes('--own-sigusr1')) process.on('SIGUSR1', () => sigusr1++);
const write0 = net.Socket.prototype.write;
const ownWrite0 = Object.hasOwn(net.Socket.prototype, 'write');
const globals0 = Object.getOwnPropertyNames(globalThis).length;
let redis;
if (redisPort > 0) {
  const { default: Redis } = await import('ioredis');
  redis = new Redis({ port: redisPort, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, lazyConnect: true });
  await redis.connect();
}
const base = `http://127.0.0.1:${down}`;
const get = (path) => fetch(base + path).then((r) => r.text());

function httpGet(path) {
  return new Promise((resolve, reject) => {
    http.get(base + path, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const [, kind, id] = req.url.split('/');
    if (kind === 'timer') {
      await sleep(Math.floor(Math.random() * 40));
      await get(`/down/timer-${id}`);
    } else if (kind === 'sync') {
      const p = httpGet(`/down/sync-${id}`);
      await p;
    } else if (kind === 'redis') {
      await redis.get(`key-${id}`);
      await get(`/down/redis-${id}`);
    } else if (kind === 'all') {
      await Promise.all([0, 1, 2].map((k) => get(`/down/all-${id}-${k}`)));
    } else if (kind === 'late') {
      res.end(`ok ${kind} ${id}\n`);
      await sleep(30);
      await get(`/down/late-${id}`).catch(() => {});
      return;
    } else if (kind === 'state') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        sigusr1,
        writeUnchanged: net.Socket.prototype.write === write0 && Object.hasOwn(net.Socket.prototype, 'write') === ownWrite0,
        globalsAdded: Object.getOwnPropertyNames(globalThis).length - globals0,
        serverStartSubscribers: dc.hasSubscribers('http.server.request.start'),
        undiciSubscribers: dc.hasSubscribers('undici:request:create'),
      }));
      return;
    }
    res.end(`ok ${kind} ${id}\n`);
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => console.log('listening', port));
