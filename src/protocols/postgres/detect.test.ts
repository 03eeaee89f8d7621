import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPg } from './index.ts';

const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const msg = (t: string, body: Buffer | string): Buffer => {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(t), be32(4 + b.length), b]);
};
const startup = (kv: string): Buffer => {
  const body = Buffer.concat([be32(196608), Buffer.from(kv + '\0')]);
  return Buffer.concat([be32(4 + body.length), body]);
};

test('requests: startup, SSL/GSS requests, mid-connection Query / Parse', () => {
  assert.equal(detectPg(startup('user\0postgres\0database\0obi\0'), 'request'), true);
  assert.equal(detectPg(startup('database\0obi\0user\0u\0'), 'request'), true);
  assert.equal(detectPg(Buffer.concat([be32(8), be32(80877103)]), 'request'), true);
  assert.equal(detectPg(Buffer.concat([be32(8), be32(80877104)]), 'request'), true);
  assert.equal(detectPg(msg('Q', 'SELECT 1\0'), 'request'), true);
  assert.equal(detectPg(msg('P', 'stmt\0select * from t where a = $1\0\0\0'), 'request'), true);
  assert.equal(detectPg(Buffer.concat([msg('P', '\0SELECT 1\0\0\0'), msg('S', '')]), 'request'), true);
  assert.equal(detectPg(startup('bogus\0x\0'), 'request'), false);
  assert.equal(detectPg(Buffer.concat([be32(8), be32(1234)]), 'request'), false);
  assert.equal(detectPg(msg('Q', '\x01\x02\x03\0'), 'request'), false);
  assert.equal(detectPg(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'request'), false);
  assert.equal(detectPg(Buffer.from('POST /x HTTP/1.1\r\n'), 'request'), false);
  assert.equal(detectPg(Buffer.from('*1\r\n$4\r\nPING\r\n'), 'request'), false);
  assert.equal(detectPg(Buffer.from([0x21, 0, 0, 0, 0x03, 0x73, 0x65, 0x6c]), 'request'), false, 'a MySQL COM_QUERY packet');
});

test('responses: authentication, first answer messages', () => {
  assert.equal(detectPg(msg('R', be32(0)), 'response'), true);
  assert.equal(detectPg(msg('R', Buffer.concat([be32(10), Buffer.from('SCRAM-SHA-256\0\0')])), 'response'), true);
  assert.equal(detectPg(msg('Z', 'I'), 'response'), true);
  assert.equal(detectPg(msg('1', ''), 'response'), true);
  assert.equal(detectPg(msg('C', 'SELECT 1\0'), 'response'), true);
  assert.equal(detectPg(msg('E', 'SFATAL\0C28P01\0Mpassword authentication failed\0\0'), 'response'), true);
  assert.equal(detectPg(msg('R', be32(99)), 'response'), false);
  assert.equal(detectPg(msg('Z', 'x'), 'response'), false);
  assert.equal(detectPg(Buffer.from('HTTP/1.1 200 OK\r\n'), 'response'), false);
  assert.equal(detectPg(Buffer.from('+OK\r\n'), 'response'), false);
  assert.equal(detectPg(Buffer.from('N'), 'response'), false);
});
