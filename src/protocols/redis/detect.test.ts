import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectRedis, redisQueryText } from './index.ts';
import type { RedisOperation } from './types.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('commands are detected from a RESP array whose first element is a command name', () => {
  assert.equal(detectRedis(b('*1\r\n$4\r\nPING\r\n'), 'request'), true);
  assert.equal(detectRedis(b('*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n'), 'request'), true);
  assert.equal(detectRedis(b('*2\r\n$6\r\nCLIENT\r\n'), 'request'), true);
  assert.equal(detectRedis(b('*2\r\n$3\r\nGE'), 'request'), true, 'a command cut by the capture');
  assert.equal(detectRedis(b('*0\r\n'), 'request'), false);
  assert.equal(detectRedis(b('*1\r\n:4\r\n'), 'request'), false);
  assert.equal(detectRedis(b('*1\r\n$4\r\n1234\r\n'), 'request'), false, 'a command starts with a letter');
  assert.equal(detectRedis(b('*1\r\n$3\r\nPING\r\n'), 'request'), false, 'length mismatch');
  assert.equal(detectRedis(b('PING\r\n'), 'request'), false, 'inline commands are not used for detection');
  assert.equal(detectRedis(b('GET / HTTP/1.1\r\n\r\n'), 'request'), false);
});

test('replies are detected from a well-formed first RESP line', () => {
  for (const ok of ['+OK\r\n', '+PONG\r\n', '-ERR unknown command\r\n', '-WRONGTYPE Operation\r\n', ':42\r\n', '$5\r\nhello\r\n', '$-1\r\n', '*2\r\n$1\r\na\r\n', '*-1\r\n', '%1\r\n+a\r\n', '_\r\n', '#t\r\n', '>3\r\n$7\r\nmessage\r\n']) {
    assert.equal(detectRedis(b(ok), 'response'), true, JSON.stringify(ok));
  }
  for (const bad of ['HTTP/1.1 200 OK\r\n', '+\r\n', '-err lower\r\n', ':x\r\n', '*2\r\nfoo', '$\r\n', '#x\r\n', '\x16\x03\x01']) {
    assert.equal(detectRedis(b(bad), 'response'), false, JSON.stringify(bad));
  }
});

const op = (operation: string | undefined, argc: number, firstArg?: string, secondArg?: string): RedisOperation => ({
  category: 'db', system: 'redis', operation, argc, firstArg, secondArg, truncated: false, startNs: 0, endNs: 0,
});

test('db.query.text keeps the command and its key, masks values and secrets', () => {
  assert.equal(redisQueryText(op('SET', 3, 'obi', 'rocks')), 'SET obi ?');
  assert.equal(redisQueryText(op('GET', 2, 'obi')), 'GET obi');
  assert.equal(redisQueryText(op('HSET', 4, 'h', 'f')), 'HSET h ? ?');
  assert.equal(redisQueryText(op('PING', 1)), 'PING');
  assert.equal(redisQueryText(op('AUTH', 3, 'user', 'secret')), 'AUTH ? ?');
  assert.equal(redisQueryText(op('HELLO', 5, '3', 'AUTH')), 'HELLO ? ? ? ?');
  assert.equal(redisQueryText(op('CONFIG', 4, 'SET', 'maxmemory')), 'CONFIG SET maxmemory ?');
  assert.equal(redisQueryText(op('SELECT', 2, '1')), 'SELECT 1');
  assert.equal(redisQueryText(op(undefined, 2)), undefined);
});
