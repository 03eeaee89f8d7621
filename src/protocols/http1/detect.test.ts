import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamBuffer } from '../common/stream.ts';
import { detectHttp1, findHttp1FrameBoundary, matchMethod, METHOD_NONE, METHOD_PARTIAL } from './detect.ts';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

test('detect requests: known method, SP, then /, *, http or a CONNECT authority', () => {
  const yes = ['GET / HTTP/1.1', 'POST /api', 'OPTIONS * HTTP/1.1', 'GET http://x/ HTTP/1.1', 'CONNECT example.com:443 HTTP/1.1', 'PROPFIND /dav', 'PATCH /x', 'DELETE /y', 'HEAD /', 'PUT /a', 'TRACE /', 'UNLOCK /l'];
  const no = ['', 'GET', 'GET ', 'GET /'.slice(0, 3), 'get / HTTP/1.1', 'GET  /', 'GETS / HTTP/1.1', 'FOO / HTTP/1.1', 'GET x HTTP/1.1', 'POST ftp://x', 'HTTP/1.1 200 OK', 'PRI * HTTP/2.0', '\x16\x03\x01\x02\x00', 'GET htt'];
  for (const s of yes) assert.equal(detectHttp1(B(s), 'request'), true, s);
  for (const s of no) assert.equal(detectHttp1(B(s), 'request'), false, JSON.stringify(s));
});

test('detect responses: HTTP/1. then DIGIT SP 3DIGIT as far as the head goes', () => {
  for (const s of ['HTTP/1.1 200 OK', 'HTTP/1.0 404', 'HTTP/1.1', 'HTTP/1.1 2']) assert.equal(detectHttp1(B(s), 'response'), true, s);
  for (const s of ['HTTP/1', 'HTTP/2 200', 'HTTP/1.1  200', 'HTTP/1.1 2x0', 'http/1.1 200', 'GET / HTTP/1.1', '']) {
    assert.equal(detectHttp1(B(s), 'response'), false, s);
  }
});

test('matchMethod distinguishes a match, a proper prefix and no match', () => {
  const m = (s: string) => matchMethod(B(s), 0, s.length);
  assert.equal(m('GET '), 0);
  assert.equal(m('PROPPATCH '), 10);
  assert.equal(m('PROP'), METHOD_PARTIAL);
  assert.equal(m('GET'), METHOD_PARTIAL);
  assert.equal(m('GETX'), METHOD_NONE);
  assert.equal(m('G@'), METHOD_NONE);
  assert.equal(m('x'), METHOD_NONE);
});

function buf(...segs: [string, number][]): StreamBuffer {
  const b = new StreamBuffer();
  segs.forEach(([s, gap], i) => b.append(B(s), s.length + gap, i));
  return b;
}

test('findFrameBoundary finds request starts, skipping gaps and false starts', () => {
  assert.equal(findHttp1FrameBoundary('request', buf(['xxGET / HTTP/1.1\r\n', 0]), 1), 2);
  assert.equal(findHttp1FrameBoundary('request', buf(['xxGETX /GET a POST /p', 0]), 1), 14);
  assert.equal(findHttp1FrameBoundary('request', buf(['GET /', 0]), 1), -1);
  // a match inside a later captured run, after a gap
  assert.equal(findHttp1FrameBoundary('request', buf(['zz', 5], ['..PUT /x', 0]), 0), 9);
  // a proper prefix at the very end counts; before a gap it does not
  assert.equal(findHttp1FrameBoundary('request', buf(['garbage\r\nGE', 0]), 1), 9);
  assert.equal(findHttp1FrameBoundary('request', buf(['garbage\r\nGE', 3]), 1), -1);
  assert.equal(findHttp1FrameBoundary('request', buf(['garbage GET ', 0]), 1), 8);
  assert.equal(findHttp1FrameBoundary('request', buf(['garbage GET x', 0]), 1), -1);
});

test('findFrameBoundary finds status lines, including a prefix at the very end', () => {
  assert.equal(findHttp1FrameBoundary('response', buf(['junk\r\nHTTP/1.1 200 OK\r\n', 0]), 1), 6);
  assert.equal(findHttp1FrameBoundary('response', buf(['HTTP/1.1 2x0 HTTP/1.0 301 ', 0]), 1), 13);
  assert.equal(findHttp1FrameBoundary('response', buf(['junk HTT', 0]), 1), 5);
  assert.equal(findHttp1FrameBoundary('response', buf(['junk HTT', 1]), 1), -1);
  assert.equal(findHttp1FrameBoundary('response', buf(['junk', 0]), 1), -1);
  assert.equal(findHttp1FrameBoundary('response', buf(['HT', 4], ['TP/1.1 200 ', 0]), 1), -1);
  assert.equal(findHttp1FrameBoundary('response', buf(['HT', 4], ['HTTP/1.1 200 ', 0]), 1), 6);
});
