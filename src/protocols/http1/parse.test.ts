import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamBuffer } from '../common/stream.ts';
import { ProtocolSession } from '../common/session.ts';
import { http1Parser } from './index.ts';
import { MAX_HEADER_BLOCK, MAX_START_LINE, parseHttp1Frame } from './parse.ts';
import { newHttp1State } from './state.ts';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

function bufOf(s: string, gap = 0, opts?: { maxCapturedBytes?: number }): StreamBuffer {
  const b = new StreamBuffer(opts);
  b.append(B(s), s.length + gap, 42);
  return b;
}

test('request frame fields', () => {
  const b = bufOf('POST /p?x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nUser-Agent: ua\r\nContent-Length: 5, 5\r\n\r\nhelloGET');
  const r = parseHttp1Frame('request', b, newHttp1State());
  assert.deepEqual(r, {
    state: 'success',
    frame: {
      kind: 'request', method: 'POST', target: '/p?x', version: '1.0', host: undefined, traceparent: undefined,
      contentType: 'text/plain', userAgent: 'ua', connection: 'keep-alive', bodySize: 5, truncated: false, startNs: 42, endNs: 42,
    },
  });
  assert.equal(b.length, 3); // "GET" left for the next frame
});

test('response frame fields', () => {
  const st = newHttp1State();
  st.methods.push('GET');
  const b = bufOf('HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}');
  assert.deepEqual(parseHttp1Frame('response', b, st), {
    state: 'success',
    frame: { kind: 'response', status: 503, version: '1.1', contentType: 'application/json', connection: 'close', bodySize: 2, truncated: false, startNs: 42, endNs: 42 },
  });
  assert.deepEqual(st.methods, []);
});

test('parse states: needs-more-data consumes nothing; invalid consumes nothing; 1xx ignored; eos after 101', () => {
  const st = newHttp1State();
  const partial = bufOf('GET / HTTP/1.1\r\nHost: a\r\n');
  assert.equal(parseHttp1Frame('request', partial, st).state, 'needs-more-data');
  assert.equal(partial.length, 25);
  for (const g of ['get / HTTP/1.1\r\n', 'GET / HTTP/2.0\r\n', 'GET /\r\n', 'GET / HTTP/1.1 x\r\n', 'GET / HTTP/1.1\r\n: v\r\n\r\n', 'GET / HTTP/1.1\r\nA B: v\r\n\r\n']) {
    const b = bufOf(g);
    assert.equal(parseHttp1Frame('request', b, newHttp1State()).state, 'invalid', JSON.stringify(g));
    assert.equal(b.length, g.length);
  }
  for (const g of ['HTTP/1.1 99 Low\r\n', 'HTTP/1.1 2000 x\r\n', 'HTTP/1.1 200OK\r\n', 'HTTP/1.1 abc\r\n']) {
    assert.equal(parseHttp1Frame('response', bufOf(g), newHttp1State()).state, 'invalid', g);
  }
  const interim = bufOf('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x00');
  assert.equal(parseHttp1Frame('response', interim, st).state, 'ignored');
  assert.equal(parseHttp1Frame('response', interim, st).state, 'success');
  assert.equal(parseHttp1Frame('response', interim, st).state, 'eos');
  assert.equal(parseHttp1Frame('request', bufOf('GET / HTTP/1.1\r\n\r\n'), st).state, 'eos');
});

test('transfer-encoding: a request without final chunked is invalid; a response reads until close', () => {
  assert.equal(parseHttp1Frame('request', bufOf('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'), newHttp1State()).state, 'invalid');
  const b = bufOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\nabcdef');
  const st = newHttp1State();
  assert.equal(parseHttp1Frame('response', b, st).state, 'needs-more-data');
  b.end();
  const r = parseHttp1Frame('response', b, st);
  assert.equal(r.state, 'success');
  assert.equal(r.frame?.bodySize, 6);
});

test('limits: start line and header block', () => {
  const longLine = `GET /${'a'.repeat(MAX_START_LINE)}`;
  assert.equal(parseHttp1Frame('request', bufOf(longLine, 0, { maxCapturedBytes: 1 << 20 }), newHttp1State()).state, 'invalid');
  const justFits = `GET /${'a'.repeat(MAX_START_LINE - 20)} HTTP/1.1\r\n\r\n`;
  assert.equal(parseHttp1Frame('request', bufOf(justFits, 0, { maxCapturedBytes: 1 << 20 }), newHttp1State()).state, 'success');
  const many = `GET / HTTP/1.1\r\n${'X-Filler: 0123456789012345678901234567890123456789\r\n'.repeat(MAX_HEADER_BLOCK / 50)}\r\n`;
  assert.equal(parseHttp1Frame('request', bufOf(many, 0, { maxCapturedBytes: 1 << 20 }), newHttp1State()).state, 'invalid');
  const fewer = `GET / HTTP/1.1\r\n${'X-Filler: 0123456789012345678901234567890123456789\r\n'.repeat(MAX_HEADER_BLOCK / 52 - 2)}\r\n`;
  assert.equal(parseHttp1Frame('request', bufOf(fewer, 0, { maxCapturedBytes: 1 << 20 }), newHttp1State()).state, 'success');
});

test('a long Content-Length body in many captured segments stays under the captured cap', () => {
  const s = new ProtocolSession(http1Parser, { maxCapturedBytes: 8 * 1024 });
  const chunk = Buffer.alloc(1000, 0x61);
  const n = 2000; // 2 MB body, every byte captured
  s.feed('request', B(`POST /big HTTP/1.1\r\nContent-Length: ${n * 1000}\r\n\r\n`), 0, 1);
  let maxCaptured = 0;
  for (let i = 0; i < n; i++) {
    s.feed('request', chunk, 1000, 2 + i);
    maxCaptured = Math.max(maxCaptured, s.requestBuffer.capturedLength);
  }
  assert.ok(maxCaptured <= 1100, `captured grew to ${maxCaptured}`);
  assert.ok(s.requestBuffer.segmentCount <= 3);
  const out = s.feed('response', B('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 0, 5000);
  assert.deepEqual(out.map((e) => [e.requestBodySize, e.startNs, e.endNs]), [[n * 1000, 1, 5000]]);
  assert.equal(s.droppedBytes, 0);
});

test('a message waiting for its body keeps none of its head: the headers live on in the cursor, not in the buffer', () => {
  // nginx: the headers in one write, the file in a sendfile the capture sees as a length only
  const s = new ProtocolSession(http1Parser);
  s.feed('request', B('GET /f HTTP/1.1\r\nHost: h\r\n\r\n'), 0, 1);
  const head = B('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 612\r\n\r\n');
  assert.deepEqual(s.feed('response', head, 0, 2), []);
  assert.equal(s.responseBuffer.capturedLength, 0);
  assert.equal(s.responseBuffer.length, head.length);
  const out = s.feed('response', Buffer.alloc(0), 612, 3);
  assert.deepEqual(out.map((e) => [e.status, e.responseBodySize, e.startNs, e.endNs]), [[200, 612, 1, 3]]);
  assert.equal(s.responseBuffer.length, 0);
  assert.equal(s.droppedBytes, 0);
});

test('a long chunked stream in many segments stays bounded and sums the chunks', () => {
  const s = new ProtocolSession(http1Parser, { maxCapturedBytes: 4 * 1024, maxSegments: 64 });
  s.feed('request', B('GET /sse HTTP/1.1\r\n\r\n'), 0, 1);
  s.feed('response', B('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), 0, 2);
  const ev = B(`${(100).toString(16)}\r\n${'d'.repeat(100)}\r\n`);
  for (let i = 0; i < 5000; i++) {
    assert.deepEqual(s.feed('response', ev, ev.length, 3 + i), []);
  }
  assert.ok(s.responseBuffer.capturedLength < 200, `captured ${s.responseBuffer.capturedLength}`);
  assert.ok(s.responseBuffer.segmentCount <= 4, `segments ${s.responseBuffer.segmentCount}`);
  const out = s.feed('response', B('0\r\n\r\n'), 5, 9999);
  assert.deepEqual(out.map((e) => [e.status, e.responseBodySize, e.startNs, e.endNs]), [[200, 500000, 1, 9999]]);
  assert.equal(s.droppedBytes, 0);
});

test('byte-by-byte headers are parsed once (cursor progress is kept between calls)', () => {
  const s = new ProtocolSession(http1Parser, { maxSegments: 1 << 16 });
  const msg = B(`GET / HTTP/1.1\r\n${'X-H: v\r\n'.repeat(2000)}\r\n`);
  const t0 = performance.now();
  for (let i = 0; i < msg.length; i++) s.feed('request', msg.subarray(i, i + 1), 1, i);
  const ms = performance.now() - t0;
  assert.equal(s.pendingRequests, 1);
  // 16 KB one byte at a time; quadratic rescanning would take seconds
  assert.ok(ms < 1500, `took ${ms} ms`);
});
