import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamBuffer } from '../common/stream.ts';
import { detectFastCgi, findFcgiFrameBoundary } from './detect.ts';
import { cgiHead, decodeParams } from './parse.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('detect: nginx BEGIN_REQUEST (responder), with and without its body captured', () => {
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00  0001 00 0000000000'), 'request'), true);
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00  0001 01 0000000000'), 'request'), true); // FCGI_KEEP_CONN
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00'), 'request'), true); // PHP-FPM reads the header alone first
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00  0003 00 0000000000'), 'request'), true); // filter role
});

test('detect: near misses', () => {
  assert.equal(detectFastCgi(hex('01 01 0000 0008 00 00 0001 00 0000000000'), 'request'), false); // request id 0 is management
  assert.equal(detectFastCgi(hex('01 01 0001 0009 00 00 0001 00 0000000000'), 'request'), false); // wrong length
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00 0004 00 0000000000'), 'request'), false); // no role 4
  assert.equal(detectFastCgi(hex('01 01 0001 0008 00 00 0001 00 0000000001'), 'request'), false); // reserved bytes
  assert.equal(detectFastCgi(hex('02 01 0001 0008 00 00 0001 00 0000000000'), 'request'), false); // version 2
  assert.equal(detectFastCgi(hex('01 04 0001 0008 00 00'), 'request'), false); // PARAMS first: a connection seen from its middle is not claimed on a request
  assert.equal(detectFastCgi(Buffer.from('\u0001\u0000\u0001\u0000\u0000\u0000\u0008\u0000', 'latin1'), 'request'), false); // AMQP 0-9-1 method frame
  assert.equal(detectFastCgi(Buffer.from('GET / HTTP/1.1\r\n'), 'request'), false);
  assert.equal(detectFastCgi(hex('01 06 0001 0010 00 00'), 'response'), false); // header alone: too little
  assert.equal(detectFastCgi(Buffer.concat([hex('01 06 0001 0010 00 00'), Buffer.from('\u0000\u0001binary')]), 'response'), false);
});

test('detect: a response seen first (STDOUT with a CGI head, STDERR text)', () => {
  assert.equal(detectFastCgi(Buffer.concat([hex('01 06 0001 0020 00 00'), Buffer.from('Status: 404 Not Found\r\n')]), 'response'), true);
  assert.equal(detectFastCgi(Buffer.concat([hex('01 07 0001 0011 00 00'), Buffer.from('PHP message: x')]), 'response'), true);
});

test('findFrameBoundary: the next header of the direction, or a header cut at the end', () => {
  const buf = new StreamBuffer();
  buf.append(Buffer.concat([Buffer.from('junk'), hex('01 06 0001 0003 00 00'), Buffer.from('abc')]), 15, 1);
  assert.equal(findFcgiFrameBoundary('response', buf, 1), 4);
  assert.equal(findFcgiFrameBoundary('request', buf, 1), -1);
  const cut = new StreamBuffer();
  cut.append(Buffer.from([0x41, 0x01]), 2, 1);
  assert.equal(findFcgiFrameBoundary('request', cut, 1), 1);
});

test('decodeParams: 1- and 4-byte lengths, unknown names skipped, a pair cut at the end left out', () => {
  const long = '/' + 'a'.repeat(300);
  const b = Buffer.concat([
    Buffer.from([14, 3]), Buffer.from('REQUEST_METHODGET'),
    Buffer.from([11, 0x80, 0, 1, 45]), Buffer.from('REQUEST_URI'), Buffer.from(long),
    Buffer.from([9, 4]), Buffer.from('SOMETHINGelse'),
    Buffer.from([11, 6]), Buffer.from('SCRIPT_NAME/x.php'),
  ]);
  assert.deepEqual(decodeParams(b), { method: 'GET', requestUri: long, scriptName: '/x.php' });
  assert.deepEqual(decodeParams(b.subarray(0, b.length - 3)), { method: 'GET', requestUri: long });
});

test('cgiHead: Status, Location without Status (302), default 200, LF-only heads, incomplete heads', () => {
  assert.deepEqual(cgiHead(Buffer.from('Status: 404 Not Found\r\nContent-type: text/html\r\n\r\nbody')), [404, 50]);
  assert.deepEqual(cgiHead(Buffer.from('Location: /x\r\n\r\n')), [302, 16]);
  assert.deepEqual(cgiHead(Buffer.from('Location: /x\r\nStatus: 301 Moved\r\n\r\n')), [301, 35]);
  assert.deepEqual(cgiHead(Buffer.from('Content-type: text/plain\n\nhi')), [200, 26]);
  assert.equal(cgiHead(Buffer.from('Status: 404 Not Found\r\nContent-')), undefined);
});
