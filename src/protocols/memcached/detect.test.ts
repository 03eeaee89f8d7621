import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMemcached, memcachedQueryText } from './index.ts';
import type { McOperation } from './types.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const bin = (magic: number, opcode: number, key: string): Buffer => {
  const h = Buffer.alloc(24);
  h[0] = magic;
  h[1] = opcode;
  h.writeUInt16BE(key.length, 2);
  h.writeUInt32BE(key.length, 8);
  return Buffer.concat([h, Buffer.from(key)]);
};

test('text commands are detected with their fields checked', () => {
  for (const ok of ['get k\r\n', 'gets a b c\r\n', 'set k 0 60 5\r\nhello\r\n', 'set k 0 0 1 noreply\r\nx\r\n', 'delete k\r\n', 'incr n 5\r\n', 'touch k 10\r\n', 'gat 10 k\r\n', 'stats\r\n', 'version\r\n', 'flush_all\r\n']) {
    assert.equal(detectMemcached(b(ok), 'request'), true, JSON.stringify(ok));
  }
  for (const bad of ['get\r\n', 'set k x 0 5\r\n', 'set k 0 0\r\n', 'incr n x\r\n', 'GET / HTTP/1.1\r\n\r\n', 'hello world\r\n', 'get k', '*1\r\n$4\r\nPING\r\n']) {
    assert.equal(detectMemcached(b(bad), 'request'), false, JSON.stringify(bad));
  }
});

test('answers are detected from distinctive lines; binary from its header', () => {
  for (const ok of ['STORED\r\n', 'END\r\n', 'VALUE k 0 5\r\nhello\r\nEND\r\n', 'NOT_FOUND\r\n', 'STAT pid 1\r\n', 'VERSION 1.6.18\r\n', 'SERVER_ERROR out of memory\r\n']) {
    assert.equal(detectMemcached(b(ok), 'response'), true, JSON.stringify(ok));
  }
  for (const bad of ['OK\r\n', 'ERROR\r\n', '+OK\r\n', 'HTTP/1.1 200 OK\r\n', 'VALUE k x 5\r\n']) {
    assert.equal(detectMemcached(b(bad), 'response'), false, JSON.stringify(bad));
  }
  assert.equal(detectMemcached(bin(0x80, 0x00, 'key'), 'request'), true);
  assert.equal(detectMemcached(bin(0x81, 0x00, ''), 'response'), true);
  assert.equal(detectMemcached(bin(0x80, 0x7f, 'key'), 'request'), false, 'unknown opcode');
  assert.equal(detectMemcached(bin(0x80, 0x00, 'key').subarray(0, 20), 'request'), false);
});

test('db.query.text: the command and its keys', () => {
  const op = (operation: string, keys: string[], keyCount = keys.length): McOperation => ({
    category: 'db', system: 'memcached', operation, keys, keyCount, noreply: false, binary: false, truncated: false, startNs: 0, endNs: 0,
  });
  assert.equal(memcachedQueryText(op('GET', ['a', 'b'])), 'GET a b');
  assert.equal(memcachedQueryText(op('GET', ['a'], 20)), 'GET a ...');
  assert.equal(memcachedQueryText(op('STATS', [])), 'STATS');
});
