import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMysql } from './index.ts';

const pkt = (seq: number, body: Buffer | string): Buffer => {
  const b = Buffer.from(body);
  const h = Buffer.alloc(4);
  h.writeUIntLE(b.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, b]);
};
const greeting = (version: string): Buffer =>
  pkt(0, Buffer.concat([Buffer.from([0x0a]), Buffer.from(version + '\0'), Buffer.alloc(4), Buffer.from('abcdefgh\0'), Buffer.alloc(30, 1), Buffer.from('mysql_native_password\0')]));

test('the server greeting and answers are detected', () => {
  assert.equal(detectMysql(greeting('5.5.5-10.11.19-MariaDB-0+deb12u1'), 'response'), true);
  assert.equal(detectMysql(greeting('8.0.36'), 'response'), true);
  assert.equal(detectMysql(pkt(1, Buffer.concat([Buffer.from([0xff, 0x7a, 0x04]), Buffer.from("#42S02Table 'x' doesn't exist")])), 'response'), true);
  assert.equal(detectMysql(pkt(1, Buffer.from([0, 0, 0, 2, 0, 0, 0])), 'response'), true);
  assert.equal(detectMysql(greeting('x.y'), 'response'), false);
  assert.equal(detectMysql(Buffer.from('HTTP/1.1 200 OK\r\n'), 'response'), false);
  assert.equal(detectMysql(Buffer.from('+OK\r\n'), 'response'), false);
  assert.equal(detectMysql(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]), 'response'), false, 'a PostgreSQL AuthenticationOk');
});

test('commands are detected: COM_QUERY / COM_STMT_PREPARE with SQL, COM_STMT_EXECUTE', () => {
  assert.equal(detectMysql(pkt(0, '\x03SELECT 1'), 'request'), true);
  assert.equal(detectMysql(pkt(0, '\x03select @@version_comment limit 1'), 'request'), true);
  assert.equal(detectMysql(pkt(0, '\x16INSERT INTO t VALUES (?)'), 'request'), true);
  assert.equal(detectMysql(pkt(0, Buffer.from([0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0])), 'request'), true);
  assert.equal(detectMysql(pkt(1, '\x03SELECT 1'), 'request'), false, 'commands start a sequence');
  assert.equal(detectMysql(pkt(0, '\x03\x01\x02'), 'request'), false);
  assert.equal(detectMysql(pkt(0, '\x0e'), 'request'), false, 'a PING alone is too weak');
  assert.equal(detectMysql(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'request'), false);
  assert.equal(detectMysql(Buffer.concat([pkt(0, '\x03SELECT 1'), Buffer.from([1])]), 'request'), false, 'trailing garbage');
  assert.equal(detectMysql(pkt(0, '\x03Data 1'), 'request'), false, 'text that starts with a word that starts no statement');
});

test('a packet longer than its segment is a command only where the capture cut the segment', () => {
  const query = pkt(0, '\x03SELECT ' + 'x, '.repeat(40) + '1');
  const head = query.subarray(0, 64);
  assert.equal(detectMysql(head, 'request', query.length), true, 'cut by the capture: the syscall moved the whole packet');
  assert.equal(detectMysql(head, 'request'), false, 'the whole segment: 64 bytes of a packet that declares 127');
  assert.equal(detectMysql(head, 'request', 100), false, 'the segment ends before the packet does');
  // a MongoDB header read as MySQL: the message's length, requestID 0x..45 4c 03 -> COM_QUERY "LE..."
  const mongo = Buffer.alloc(80);
  mongo.writeInt32LE(80, 0);
  mongo.writeUInt32LE(0x00454c03, 4);
  mongo.write('SELECT', 5, 'latin1');
  mongo.writeInt32LE(2004, 12);
  assert.equal(detectMysql(mongo, 'request', 80), false, 'declares 84 bytes, the segment had 80');
});

test('a handshake response is detected (TLS plaintext starts with it, sequence 2)', () => {
  const caps = Buffer.alloc(4);
  caps.writeUInt32LE(0x013a8208);
  const body = Buffer.concat([caps, Buffer.from([0, 0, 0, 1, 45]), Buffer.alloc(23), Buffer.from('app\0'), Buffer.from([0])]);
  assert.equal(detectMysql(pkt(2, body), 'request'), true);
  assert.equal(detectMysql(pkt(1, body), 'request'), true);
  assert.equal(detectMysql(pkt(3, body), 'request'), false);
  const noFiller = Buffer.from(body);
  noFiller[20] = 1;
  assert.equal(detectMysql(pkt(2, noFiller), 'request'), false);
});
