// Traced Redis client for test/integration/db-redis.test.ts: ioredis with a pipeline, a
// MULTI/EXEC transaction, a deliberate WRONGTYPE error and SELECT. Prints the pipeline results.
import Redis from 'ioredis';

const port = Number(process.argv[2]);
const r = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0, lazyConnect: true });
await r.connect();
await r.set('greeting', 'hello');
const piped = await r.pipeline().set('p1', 'a').set('p2', 'b').get('p1').incr('cnt').hset('ph', 'f', 'v').exec();
await r.multi().set('t1', 'x').incr('tcnt').exec();
let wrongType = '';
try {
  await r.lpush('greeting', 'x');
} catch (err) {
  wrongType = String(err.message).split(' ')[0];
}
await r.select(2);
await r.set('db2key', 'v');
await r.quit();
console.log(JSON.stringify({ piped: piped.map(([e, v]) => (e ? String(e) : v)), wrongType }));
