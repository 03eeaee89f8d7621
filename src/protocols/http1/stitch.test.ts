import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stitchHttp1, toExchange } from './stitch.ts';
import { newHttp1State, PH_BODY_LEN } from './state.ts';
import type { HttpRequestFrame, HttpResponseFrame } from './types.ts';

function req(target: string, startNs: number, endNs = startNs, extra: Partial<HttpRequestFrame> = {}): HttpRequestFrame {
  return { kind: 'request', method: 'GET', target, version: '1.1', bodySize: 0, truncated: false, startNs, endNs, ...extra };
}
function resp(status: number, startNs: number, endNs = startNs, extra: Partial<HttpResponseFrame> = {}): HttpResponseFrame {
  return { kind: 'response', status, version: '1.1', bodySize: 0, truncated: false, startNs, endNs, ...extra };
}

test('FIFO pairing removes what it pairs from both arrays', () => {
  const rq = [req('/1', 1), req('/2', 2), req('/3', 3)];
  const rs = [resp(200, 10, 11), resp(404, 12, 13)];
  const r = stitchHttp1(rq, rs, newHttp1State(), false, 14);
  assert.deepEqual(
    r.records.map((e) => [e.path, e.status, e.startNs, e.endNs]),
    [
      ['/1', 200, 1, 11],
      ['/2', 404, 2, 13],
    ],
  );
  assert.equal(r.errorCount, 0);
  assert.deepEqual(rq.map((q) => q.target), ['/3']);
  assert.equal(rs.length, 0);
});

test('a response with no request waiting is an error, unless a request body is still arriving', () => {
  const st = newHttp1State();
  const rs = [resp(200, 1)];
  assert.equal(stitchHttp1([], rs, st, false).errorCount, 1);
  assert.equal(rs.length, 0);
  st.request.bufId = 7;
  st.request.phase = PH_BODY_LEN;
  const early = [resp(413, 1)];
  const r = stitchHttp1([], early, st, false);
  assert.equal(r.errorCount, 0);
  assert.equal(early.length, 1);
  // when closing it is dropped and counted
  assert.equal(stitchHttp1([], early, st, true).errorCount, 1);
});

test('closing flushes waiting requests as status 0 ending at the close time', () => {
  const rq = [req('/a', 5, 6, { host: 'h', bodySize: 3 })];
  const r = stitchHttp1(rq, [], newHttp1State(), true, 50);
  assert.deepEqual(r.records, [
    {
      category: 'http', method: 'GET', target: '/a', path: '/a', query: undefined, host: 'h', traceparent: undefined,
      userAgent: undefined, status: 0, requestBodySize: 3, responseBodySize: 0, startNs: 5, endNs: 50, truncated: false,
    },
  ]);
  assert.equal(rq.length, 0);
  // without a close time (or an earlier one) the request's own end is used
  assert.equal(stitchHttp1([req('/b', 5, 6)], [], newHttp1State(), true).records[0].endNs, 6);
  assert.equal(stitchHttp1([req('/b', 5, 6)], [], newHttp1State(), true, 1).records[0].endNs, 6);
});

test('nothing to do returns no records and no errors', () => {
  const r = stitchHttp1([req('/x', 1)], [], newHttp1State(), false, 2);
  assert.deepEqual([r.records.length, r.errorCount], [0, 0]);
});

test('targets split into path and query', () => {
  const cases: [string, string, string | undefined][] = [
    ['/', '/', undefined],
    ['/a/b?c=d&e', '/a/b', 'c=d&e'],
    ['/a?', '/a', ''],
    ['/a#frag', '/a', undefined],
    ['/a?q#frag', '/a', 'q'],
    ['http://h:1/p?q', '/p', 'q'],
    ['https://h', '/', undefined],
    ['http://h?x=1', '/', 'x=1'],
    ['*', '*', undefined],
    ['example.com:443', 'example.com:443', undefined],
  ];
  for (const [t, path, query] of cases) {
    const e = toExchange(req(t, 1), resp(200, 2), 0);
    assert.deepEqual([e.path, e.query], [path, query], t);
  }
});

test('an exchange is truncated when either side is', () => {
  assert.equal(toExchange(req('/', 1, 1, { truncated: true }), resp(200, 2), 0).truncated, true);
  assert.equal(toExchange(req('/', 1), resp(200, 2, 2, { truncated: true }), 0).truncated, true);
  assert.equal(toExchange(req('/', 1), resp(200, 2), 0).truncated, false);
});

test('a response that started before the waiting request is dropped as an error', () => {
  const rq = [req('/late', 10, 11)];
  const rs = [resp(200, 5, 6), resp(201, 12, 13)];
  const r = stitchHttp1(rq, rs, newHttp1State(), false);
  assert.deepEqual(r.records.map((e) => [e.path, e.status, e.startNs, e.endNs]), [['/late', 201, 10, 13]]);
  assert.equal(r.errorCount, 1);
  assert.equal(rs.length, 0);
});
