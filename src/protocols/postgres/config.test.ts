// `ebpf.postgres_prepared_statements_cache_size`: the LRU of prepared statements per connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolSession } from '../common/session.ts';
import { createPgParser, pgParser, MAX_STATEMENTS } from './index.ts';
import type { PgOperation } from './types.ts';

function msg(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([h, body]);
}
const z = (s: string): Buffer => Buffer.from(`${s}\0`);
const parse = (name: string, q: string): Buffer => msg('P', Buffer.concat([z(name), z(q), Buffer.from([0, 0])]));
const bind = (name: string): Buffer => msg('B', Buffer.concat([z(''), z(name), Buffer.from([0, 0, 0, 0, 0, 0])]));
const execute = (): Buffer => msg('E', Buffer.concat([z(''), Buffer.alloc(4)]));
const sync = (): Buffer => msg('S', Buffer.alloc(0));
const ready = (): Buffer => msg('Z', Buffer.from('I'));
const complete = (tag: string): Buffer => msg('C', z(tag));

/** prepares s1..s3 (tables t1..t3), then executes s1, s3, s2: the operations of the executes */
function run(parser: typeof pgParser): PgOperation[] {
  const s = new ProtocolSession(parser);
  const out: PgOperation[] = [];
  let ts = 1000;
  const feed = (type: 'request' | 'response', b: Buffer): void => void out.push(...s.feed(type, b, b.length, (ts += 1000)));
  for (const n of [1, 2, 3]) {
    feed('request', Buffer.concat([parse(`s${n}`, `SELECT * FROM t${n} WHERE id = $1`), sync()]));
    feed('response', Buffer.concat([msg('1', Buffer.alloc(0)), ready()]));
  }
  for (const n of [1, 3, 2]) {
    feed('request', Buffer.concat([bind(`s${n}`), execute(), sync()]));
    feed('response', Buffer.concat([msg('2', Buffer.alloc(0)), complete('SELECT 1'), ready()]));
  }
  return out;
}

test('postgres: the default parser remembers 1024 prepared statements per connection', () => {
  assert.equal(MAX_STATEMENTS, 1024);
  const ops = run(pgParser);
  assert.deepEqual(ops.map((o) => [o.statement, o.collection]), [['s1', 't1'], ['s3', 't3'], ['s2', 't2']]);
  assert.equal(pgParser.newState().maxStatements, 1024);
});

test('postgres: preparedStatementsCacheSize 2 forgets the least recently used statement', () => {
  const ops = run(createPgParser({ preparedStatementsCacheSize: 2 }));
  // s1 was evicted when s3 was prepared: its execute is known by name only
  assert.deepEqual(ops.map((o) => [o.statement, o.operation, o.collection]), [['s1', undefined, undefined], ['s3', 'SELECT', 't3'], ['s2', 'SELECT', 't2']]);
});

test('postgres: preparedStatementsCacheSize must be a positive integer', () => {
  assert.throws(() => createPgParser({ preparedStatementsCacheSize: 0 }), RangeError);
  assert.throws(() => createPgParser({ preparedStatementsCacheSize: 1.5 }), RangeError);
  assert.equal(createPgParser({ preparedStatementsCacheSize: 7 }).newState().maxStatements, 7);
});
