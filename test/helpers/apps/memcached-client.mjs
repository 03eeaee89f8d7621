// Traced Memcached client (text protocol) for test/integration/db-memcached.test.ts: memcached.
import Memcached from 'memcached';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const port = Number(process.argv[2]);
const mc = new Memcached(`127.0.0.1:${port}`, { retries: 0, timeout: 2000, poolSize: 1 });
const call = (fn, ...args) => promisify(mc[fn].bind(mc))(...args);
await call('set', 'text:1', 'alice', 60);
await call('set', 'text:2', 'bob', 60);
const one = await call('get', 'text:1');
const many = await call('getMulti', ['text:1', 'text:2', 'text:3']);
await call('del', 'text:2');
await call('set', 'text:n', '41', 60);
const n = await call('incr', 'text:n', 1);
await call('touch', 'text:1', 120);
let incrError = '';
try {
  await call('incr', 'text:1', 1);
} catch (err) {
  incrError = String(err.message ?? err);
}
mc.end();
// a raw connection: noreply commands pipelined with a retrieval
const raw = await new Promise((resolve, reject) => {
  const sock = connect(port, '127.0.0.1', () => sock.write('set raw:1 0 0 2 noreply\r\nhi\r\ndelete raw:2 noreply\r\nget raw:1\r\n'));
  let got = '';
  sock.on('data', (d) => {
    got += d.toString();
    if (got.endsWith('END\r\n')) {
      sock.end();
      resolve(got);
    }
  });
  sock.on('error', reject);
});
console.log(JSON.stringify({ one, many, n, incrError: incrError.length > 0, raw }));
