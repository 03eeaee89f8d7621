// MongoDB parser: the cases the captured sessions (fixtures/) do not show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Long } from 'bson';
import { ProtocolSession } from '../common/session.ts';
import { createMongoParser, detectMongo, mongoParser, readDocument } from './index.ts';
import type { MongoOperation } from './types.ts';
import { compressed, opMsg } from '../../../test/helpers/mongo-messages.ts';

type Session = ProtocolSession<never, never, MongoOperation, unknown>;
const session = (parser = mongoParser): Session => new ProtocolSession(parser) as unknown as Session;
const MORE = 2;
const EXHAUST = 1 << 16;

test('mongo: moreToCome request (w:0 write) is an operation at once, timed by its own bytes', () => {
  const s = session();
  const q = opMsg(7, 0, { insert: 'logs', $db: 'app' }, MORE, [['documents', [{ msg: 'hi' }]]]);
  const out = s.feed('request', q, q.length, 5000);
  assert.equal(out.length, 1);
  assert.deepEqual([out[0].operation, out[0].collection, out[0].namespace, out[0].startNs, out[0].endNs], ['insert', 'logs', 'app', 5000, 5000]);
  assert.equal(out[0].statement, '{"insert":"logs","documents":[{"msg":"?"}]}');
  assert.deepEqual(s.close(6000), []);
  assert.equal(s.unpairedFrames, 0);
});

test('mongo: OP_MSG exhaust getMore: every streamed reply is a getMore of the cursor collection, chained by responseTo', () => {
  const s = session();
  const find = opMsg(1, 0, { find: 'ev', batchSize: 1, $db: 'd' });
  s.feed('request', find, find.length, 1000);
  const r1 = opMsg(100, 1, { cursor: { firstBatch: [{ a: 1 }], id: Long.fromNumber(77), ns: 'd.ev' }, ok: 1 });
  assert.deepEqual(s.feed('response', r1, r1.length, 2000).map((r) => r.operation), ['find']);
  // a getMore whose collection field was not captured falls back to the cursor's collection
  const gm = opMsg(2, 0, { getMore: Long.fromNumber(77), $db: 'd' }, EXHAUST);
  s.feed('request', gm, gm.length, 3000);
  const a = opMsg(101, 2, { cursor: { nextBatch: [{ a: 2 }], id: Long.fromNumber(77), ns: 'd.ev' }, ok: 1 }, MORE);
  const b = opMsg(102, 101, { cursor: { nextBatch: [{ a: 3 }], id: Long.fromNumber(77), ns: 'd.ev' }, ok: 1 }, MORE);
  const c = opMsg(103, 102, { cursor: { nextBatch: [], id: Long.fromNumber(0), ns: 'd.ev' }, ok: 1 });
  const out = [...s.feed('response', a, a.length, 4000), ...s.feed('response', b, b.length, 5000), ...s.feed('response', c, c.length, 6000)];
  assert.deepEqual(out.map((r) => [r.operation, r.collection, r.startNs, r.endNs]), [
    ['getMore', 'ev', 3000, 4000],
    ['getMore', 'ev', 4000, 5000],
    ['getMore', 'ev', 5000, 6000],
  ]);
  s.close(7000);
  assert.equal(s.unpairedFrames, 0);
});

for (const [id, name] of [[0, 'noop'], [1, 'snappy'], [2, 'zlib'], [3, 'zstd']] as const) {
  test(`mongo: OP_COMPRESSED ${name} request and reply are decoded`, () => {
    const s = session();
    const q = compressed(opMsg(9, 0, { delete: 'carts', deletes: [{ q: { user: 'u1' }, limit: 1 }], $db: 'shop' }), id);
    const r = compressed(opMsg(900, 9, { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'not authorized' }), id);
    s.feed('request', q, q.length, 1000);
    const out = s.feed('response', r, r.length, 2000);
    assert.deepEqual(out.map((o) => [o.operation, o.collection, o.namespace, o.errorCode, o.errorType, o.errorMessage, o.truncated]), [['delete', 'carts', 'shop', '13', '13', 'not authorized', false]]);
  });
}

test('mongo: a compressed message only partly captured: zlib decodes the prefix, snappy is named from the header only', () => {
  const big = { insert: 'blobs', $db: 'files' };
  const docs = [{ data: randomBytes(4000).toString('base64') }]; // incompressible: the message stays long
  for (const [id, command] of [[2, 'insert'], [1, undefined]] as const) {
    const s = session();
    const q = compressed(opMsg(3, 0, big, 0, [['documents', docs]]), id);
    const cap = 200;
    assert.ok(q.length > 200);
    s.feed('request', q.subarray(0, cap), q.length, 1000);
    const r = opMsg(300, 3, { n: 1, ok: 1 });
    const out = s.feed('response', r, r.length, 2000);
    assert.equal(out.length, 1);
    assert.equal(out[0].operation, command);
    assert.equal(out[0].truncated, true);
  }
});

test('mongo: a large insert with most bytes uncaptured still pairs; its reply error comes from writeErrors', () => {
  const s = session();
  const q = opMsg(11, 0, { insert: 'big', ordered: true, $db: 'x' }, 0, [['documents', [{ blob: 'z'.repeat(200_000) }]]]);
  s.feed('request', q.subarray(0, 1024), q.length, 1000);
  const r = opMsg(110, 11, { n: 0, writeErrors: [{ index: 0, code: 10334, errmsg: 'BSONObj size too large' }], ok: 1 });
  const out = s.feed('response', r, r.length, 2000);
  assert.deepEqual(out.map((o) => [o.operation, o.collection, o.errorCode, o.errorMessage, o.truncated]), [['insert', 'big', '10334', 'BSONObj size too large', true]]);
  assert.ok(s.requestBuffer.capturedLength === 0);
});

test('mongo: replies nobody waits for and requests unanswered at close are counted; the pending requests are bounded', () => {
  const s = session(createMongoParser({ requestsCacheSize: 2 }));
  const stray = opMsg(500, 42, { ok: 1 });
  assert.deepEqual(s.feed('response', stray, stray.length, 1000), []);
  for (let i = 1; i <= 3; i++) {
    const q = opMsg(i, 0, { ping: 1, $db: 'admin' });
    s.feed('request', q, q.length, 1000 + i);
  }
  const r = opMsg(501, 3, { ok: 1 });
  assert.deepEqual(s.feed('response', r, r.length, 2000).map((o) => o.operation), ['ping']);
  s.close(3000);
  assert.equal(s.unpairedFrames, 3); // the stray reply, request 1 evicted, request 2 unanswered
});

test('mongo: detection accepts the first message of each direction and rejects other protocols', () => {
  const q = opMsg(1, 0, { hello: 1, $db: 'admin' });
  const r = opMsg(2, 1, { ok: 1 });
  assert.equal(detectMongo(q, 'request'), true);
  assert.equal(detectMongo(r, 'response'), true);
  assert.equal(detectMongo(r, 'request'), false); // responseTo set
  assert.equal(detectMongo(q, 'response'), false);
  assert.equal(detectMongo(compressed(q, 2), 'request'), true);
  assert.equal(detectMongo(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'request'), false);
  assert.equal(detectMongo(Buffer.from('*1\r\n$4\r\nPING\r\n\0\0\0\0\0\0\0\0\0\0\0\0'), 'request'), false);
  const bad = Buffer.from(q);
  bad.writeUInt32LE(0x100, 16); // unknown OP_MSG flag
  assert.equal(detectMongo(bad, 'request'), false);
});

test('mongo: the BSON reader keeps what was captured and marks the rest truncated', () => {
  const full = opMsg(1, 0, { find: 'c', filter: { a: 1, b: 'two' }, $db: 'd' }).subarray(21);
  const d = readDocument(full)!;
  assert.deepEqual(d.entries.map(([k]) => k), ['find', 'filter', '$db']);
  assert.equal(d.truncated, false);
  const cut = readDocument(full.subarray(0, 20))!;
  assert.deepEqual(cut.entries.map(([k]) => k), ['find']);
  assert.equal(cut.truncated, true);
  assert.equal(readDocument(Buffer.from([1, 0])), undefined);
});
