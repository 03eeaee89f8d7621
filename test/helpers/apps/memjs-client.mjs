// Traced Memcached client (binary protocol) for test/integration/db-memcached.test.ts: memjs.
import memjs from 'memjs';

const port = Number(process.argv[2]);
const mc = memjs.Client.create(`127.0.0.1:${port}`, { retries: 0, timeout: 2 });
await mc.set('bin:1', 'hello', { expires: 60 });
const hit = await mc.get('bin:1');
const miss = await mc.get('bin:missing');
await mc.delete('bin:1');
await mc.set('bin:word', 'abc', {});
let incrError = '';
try {
  await mc.increment('bin:word', 1, {});
} catch (err) {
  incrError = String(err.message ?? err);
}
mc.close();
console.log(JSON.stringify({ hit: hit.value?.toString(), miss: miss.value, incrError: incrError.length > 0 }));
