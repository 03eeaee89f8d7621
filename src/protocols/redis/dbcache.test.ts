// `ebpf.redis_db_cache`: `SELECT n` → db.namespace only when enabled (OBI's default: disabled),
// for at most `max_size` connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolSession } from '../common/session.ts';
import { createRedisParser, redisParser, RedisDbCache } from './index.ts';
import type { RedisOperation } from './types.ts';

const cmd = (...args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`);

class Conn {
  readonly s: ProtocolSession<never, never, RedisOperation, unknown>;
  private _ts = 0;
  constructor(parser: typeof redisParser) {
    this.s = new ProtocolSession(parser) as unknown as Conn['s'];
  }
  /** one command and its reply: the operation */
  call(reply: string, ...args: string[]): RedisOperation {
    const q = cmd(...args);
    assert.deepEqual(this.s.feed('request', q, q.length, (this._ts += 1000)), []);
    const r = Buffer.from(reply);
    const ops = this.s.feed('response', r, r.length, (this._ts += 1000));
    assert.equal(ops.length, 1);
    return ops[0];
  }
  get(): string | undefined {
    return this.call('$-1\r\n', 'GET', 'k').namespace;
  }
}

test('redis: without the DB cache (the default) SELECT sets no db.namespace', () => {
  const c = new Conn(redisParser);
  assert.equal(c.call('+OK\r\n', 'SELECT', '3').namespace, undefined);
  assert.equal(c.get(), undefined);
  const d = new Conn(createRedisParser({ dbCache: { enabled: false, maxSize: 10 } }));
  d.call('+OK\r\n', 'SELECT', '3');
  assert.equal(d.get(), undefined);
});

test('redis: with the DB cache enabled SELECT n sets db.namespace of the commands after it', () => {
  const c = new Conn(createRedisParser({ dbCache: { enabled: true } }));
  assert.equal(c.get(), undefined);
  assert.equal(c.call('+OK\r\n', 'SELECT', '3').namespace, undefined);
  assert.equal(c.get(), '3');
  assert.equal(c.call('-ERR DB index is out of range\r\n', 'SELECT', '99').namespace, '3');
  assert.equal(c.get(), '3');
  c.call('+RESET\r\n', 'RESET');
  assert.equal(c.get(), undefined);
});

test('redis: max_size connections remember their DB; the least recent SELECT is forgotten first; a close frees its place', () => {
  const parser = createRedisParser({ dbCache: { enabled: true, maxSize: 2 } });
  const [a, b, c] = [new Conn(parser), new Conn(parser), new Conn(parser)];
  a.call('+OK\r\n', 'SELECT', '1');
  b.call('+OK\r\n', 'SELECT', '2');
  a.call('+OK\r\n', 'SELECT', '1'); // a is now the most recent
  c.call('+OK\r\n', 'SELECT', '3'); // evicts b
  assert.deepEqual([a.get(), b.get(), c.get()], ['1', undefined, '3']);
  a.call('+OK\r\n', 'SELECT', '1'); // c is now the least recent
  a.s.close(1e9);
  b.call('+OK\r\n', 'SELECT', '2'); // a's place is free: nothing is evicted
  assert.deepEqual([b.get(), c.get()], ['2', '3']);
});

test('redis: RedisDbCache sizes', () => {
  assert.equal(new RedisDbCache().maxSize, 1000);
  assert.throws(() => new RedisDbCache(0), RangeError);
  const cache = new RedisDbCache(1);
  const x = {};
  const y = {};
  cache.select(x, '1');
  cache.select(y, '2');
  assert.deepEqual([cache.size, (x as { db?: string }).db, (y as { db?: string }).db], [1, undefined, '2']);
  cache.forget(y);
  assert.equal(cache.size, 0);
});
