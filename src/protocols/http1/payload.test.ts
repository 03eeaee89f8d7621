import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolSession } from '../common/session.ts';
import type { HttpRecord } from '../common/records.ts';
import { http1 } from './index.ts';
import { dechunk } from './payload.ts';

function exchange(capture: number, req: string, resp: string, gapAfterReq = 0): HttpRecord[] {
  const s = new ProtocolSession(http1.createParser(capture > 0 ? ({ http_payload_capture: capture } as never) : undefined));
  const out: HttpRecord[] = [];
  const q = Buffer.from(req, 'latin1');
  out.push(...(s.feed('request', q, q.length + gapAfterReq, 1) as HttpRecord[]));
  const r = Buffer.from(resp, 'latin1');
  out.push(...(s.feed('response', r, r.length, 2) as HttpRecord[]));
  out.push(...(s.close(3) as HttpRecord[]));
  return out;
}

const body = 'x'.repeat(100);
const req = `POST /a HTTP/1.1\r\nHost: h\r\nX-Custom:  v1 \r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const resp = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Request-Id: R1\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';

test('no capture: records carry no payload', () => {
  const [r] = exchange(0, req, resp);
  assert.equal(r.payload, undefined);
});

test('capture: headers (lower-case names, trimmed values) and decoded bodies', () => {
  const [r] = exchange(8192, req, resp);
  const p = r.payload!;
  assert.deepEqual(p.requestHeaders, [['host', 'h'], ['x-custom', 'v1'], ['content-length', '100']]);
  assert.deepEqual(p.responseHeaders, [['transfer-encoding', 'chunked'], ['x-amz-request-id', 'R1']]);
  assert.equal(p.requestBody.toString(), body);
  assert.equal(p.requestBodyComplete, true);
  assert.equal(p.responseBody.toString(), 'abcde');
  assert.equal(p.responseBodyComplete, true);
});

test('the limit cuts the body and marks it incomplete', () => {
  const [r] = exchange(64, req, resp);
  assert.equal(r.payload!.requestBody.length, 64);
  assert.equal(r.payload!.requestBodyComplete, false);
  assert.equal(r.payload!.responseBody.toString(), 'abcde');
});

test('bytes not captured end the body: nothing past them is kept', () => {
  const cut = req.slice(0, req.length - 60);
  const [r] = exchange(8192, cut, resp, 60);
  assert.equal(r.requestBodySize, 100);
  assert.equal(r.payload!.requestBody.toString(), 'x'.repeat(40));
  assert.equal(r.payload!.requestBodyComplete, false);
});

test('dechunk: chunk extensions, a cut inside a chunk, a cut size line, the limit', () => {
  assert.deepEqual(dechunk(Buffer.from('3;x=y\r\nabc\r\n0\r\n\r\n'), 100), { body: Buffer.from('abc'), complete: true });
  assert.deepEqual(dechunk(Buffer.from('5\r\nab'), 100), { body: Buffer.from('ab'), complete: false });
  assert.deepEqual(dechunk(Buffer.from('3\r\nabc\r\n1'), 100), { body: Buffer.from('abc'), complete: false });
  assert.deepEqual(dechunk(Buffer.from('6\r\nabcdef\r\n0\r\n\r\n'), 4), { body: Buffer.from('abcd'), complete: false });
});
