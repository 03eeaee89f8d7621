// `ebpf.mysql_prepared_statements_cache_size`: the LRU of prepared statements per connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolSession } from '../common/session.ts';
import { createMysqlParser, mysqlParser, MAX_STATEMENTS } from './index.ts';
import type { MysqlOperation } from './types.ts';

function packet(seq: number, body: Buffer): Buffer {
  const h = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16, seq]);
  return Buffer.concat([h, body]);
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const prepare = (q: string): Buffer => packet(0, Buffer.concat([Buffer.from([0x16]), Buffer.from(q)]));
/** COM_STMT_PREPARE OK: statement id, no columns, no parameters */
const prepareOk = (id: number): Buffer => packet(1, Buffer.concat([Buffer.from([0]), u32(id), Buffer.from([0, 0, 0, 0, 0, 0, 0])]));
const execute = (id: number): Buffer => packet(0, Buffer.concat([Buffer.from([0x17]), u32(id), Buffer.from([0]), u32(1)]));
const ok = (): Buffer => packet(1, Buffer.from([0, 1, 0, 2, 0, 0, 0]));

/** prepares ids 1..3 (tables t1..t3), then executes 1, 3, 2: the operations of the executes */
function run(parser: typeof mysqlParser): MysqlOperation[] {
  const s = new ProtocolSession(parser);
  const out: MysqlOperation[] = [];
  let ts = 1000;
  const feed = (type: 'request' | 'response', b: Buffer): void => void out.push(...s.feed(type, b, b.length, (ts += 1000)));
  for (const n of [1, 2, 3]) {
    feed('request', prepare(`DELETE FROM t${n}`));
    feed('response', prepareOk(n));
  }
  const prepared = out.length;
  for (const n of [1, 3, 2]) {
    feed('request', execute(n));
    feed('response', ok());
  }
  return out.slice(prepared);
}

test('mysql: the default parser remembers 1024 prepared statements per connection', () => {
  assert.equal(MAX_STATEMENTS, 1024);
  const ops = run(mysqlParser);
  assert.deepEqual(ops.map((o) => [o.statementId, o.collection]), [[1, 't1'], [3, 't3'], [2, 't2']]);
  assert.equal(mysqlParser.newState().maxStatements, 1024);
});

test('mysql: preparedStatementsCacheSize 2 forgets the least recently used statement', () => {
  const ops = run(createMysqlParser({ preparedStatementsCacheSize: 2 }));
  assert.deepEqual(ops.map((o) => [o.statementId, o.operation, o.collection]), [[1, undefined, undefined], [3, 'DELETE', 't3'], [2, 'DELETE', 't2']]);
});

test('mysql: preparedStatementsCacheSize must be a positive integer', () => {
  assert.throws(() => createMysqlParser({ preparedStatementsCacheSize: 0 }), RangeError);
  assert.equal(createMysqlParser({ preparedStatementsCacheSize: 3 }).newState().maxStatements, 3);
});
