/**
 * Fuzzing the HTTP/2 parser through ProtocolSession (house rule 6). Time budget: half of
 * FUZZ_MS (default 2000 ms), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { HttpRecord, RpcRecord } from '../common/records.ts';
import { MAX_KEPT_PER_CONNECTION, MAX_STREAMS, Http2Parser } from './parse.ts';
import type { Http2Record, Http2State } from './types.ts';
import { encodeFrame } from './build.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 2, 3, 50);
const params = (): fc.Parameters<unknown> => fuzzParams(PER_PROPERTY_MS);
const parser = new Http2Parser();
/** a parser keeping payloads for the HTTP extractors, with a small limit so that it is reached */
const KEEP = 64;
const keeper = new Http2Parser(KEEP);
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function play(segs: readonly FuzzSegment[], opts = FUZZ_LIMITS): Http2Record[] {
  return playSegments(parser as never, segs, opts, (s) => {
    const st = s.state as Http2State;
    assert.ok(st.streams.size <= MAX_STREAMS, 'stream cap');
    assert.equal(st.out.length, 0, 'records left behind');
  }) as unknown as Http2Record[];
}

const frame = encodeFrame;

/** a tiny HPACK encoder with a dynamic table (literal with incremental indexing, then indexed) */
class Encoder {
  private _table: string[] = [];
  block(fields: [string, string][]): Buffer {
    const out: number[] = [];
    for (const [n, v] of fields) {
      const key = `${n}\u0000${v}`;
      const i = this._table.indexOf(key);
      if (i >= 0 && i + 62 < 127) {
        out.push(0x80 | (i + 62));
        continue;
      }
      out.push(0x40, n.length, ...Buffer.from(n, 'latin1'), v.length, ...Buffer.from(v, 'latin1'));
      this._table.unshift(key);
      if (this._table.length > 20) this._table.length = 20; // sizes stay far below 4096
    }
    return Buffer.from(out);
  }
}

interface Call {
  grpc: boolean;
  path: string;
  status: number;
  reqBody: number;
  respMsgs: number;
}

const callArb: fc.Arbitrary<Call> = fc.record({
  grpc: fc.boolean(),
  path: fc.stringMatching(/^\/[a-z]{1,6}\/[A-Za-z]{1,6}$/),
  status: fc.constantFrom(0, 5, 13, 200, 404, 500),
  reqBody: fc.nat(40),
  respMsgs: fc.nat(3),
});

function traffic(calls: Call[]): { req: Buffer; resp: Buffer; expect: unknown[] } {
  const qe = new Encoder();
  const pe = new Encoder();
  const req: Buffer[] = [PREFACE, frame(4, 0, 0, Buffer.alloc(0))];
  const resp: Buffer[] = [frame(4, 0, 0, Buffer.alloc(0))];
  const expect: unknown[] = [];
  calls.forEach((c, k) => {
    const sid = 2 * k + 1;
    const msg = (n: number): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0, n]), Buffer.alloc(n, 0x61)]);
    if (c.grpc) {
      req.push(frame(1, 4, sid, qe.block([[':method', 'POST'], [':scheme', 'http'], [':path', c.path], ['content-type', 'application/grpc'], ['te', 'trailers']])));
      req.push(frame(0, 1, sid, msg(c.reqBody)));
      const code = c.status < 20 ? c.status : 0;
      resp.push(frame(1, 4, sid, pe.block([[':status', '200'], ['content-type', 'application/grpc']])));
      for (let i = 0; i < c.respMsgs; i++) resp.push(frame(0, 0, sid, msg(i + 1)));
      resp.push(frame(1, 5, sid, pe.block([['grpc-status', String(code)]])));
      expect.push(['rpc', c.path, code, 1, c.respMsgs]);
    } else {
      const status = c.status >= 200 ? c.status : 200;
      req.push(frame(1, c.reqBody > 0 ? 4 : 5, sid, qe.block([[':method', c.reqBody > 0 ? 'POST' : 'GET'], [':scheme', 'http'], [':path', c.path]])));
      if (c.reqBody > 0) req.push(frame(0, 1, sid, Buffer.alloc(c.reqBody, 0x62)));
      resp.push(frame(1, 4, sid, pe.block([[':status', String(status)]])));
      resp.push(frame(0, 1, sid, Buffer.alloc(c.respMsgs * 7)));
      expect.push(['http', c.path, status, c.reqBody, c.respMsgs * 7]);
    }
  });
  return { req: Buffer.concat(req), resp: Buffer.concat(resp), expect };
}

const summary = (r: Http2Record): unknown[] =>
  r.category === 'rpc' ? ['rpc', (r as RpcRecord).method, (r as RpcRecord).statusCode, (r as RpcRecord).requestMessages, (r as RpcRecord).responseMessages] : ['http', (r as HttpRecord).path, (r as HttpRecord).status, (r as HttpRecord).requestBodySize, (r as HttpRecord).responseBodySize];

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // frame-shaped bytes: small lengths, known types
    fc.tuple(fc.nat(40), fc.nat(10), fc.nat(255), fc.nat(7), fc.uint8Array({ maxLength: 40 })).map(([len, type, flags, sid, p]) => new Uint8Array(Buffer.concat([Buffer.from([0, 0, len, type, flags, 0, 0, 0, sid]), p]))),
  ),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.boolean(), fc.array(segArb, { maxLength: 40 }), (preface, segs) => void play(preface ? [{ type: 'request', data: PREFACE, gap: 0 }, ...segs] : segs)), params());
});

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid traffic split anywhere gives exactly the expected records', () => {
  fc.assert(
    fc.property(fc.array(callArb, { minLength: 1, maxLength: 6 }), pointsArb, pointsArb, (calls, qp, rp) => {
      const t = traffic(calls);
      const segs = [...cutAt('request', t.req, qp), ...cutAt('response', t.resp, rp)];
      assert.deepEqual(play(segs, {}).map(summary), t.expect);
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(callArb, { minLength: 1, maxLength: 5 }), mutationsArb, pointsArb, (calls, muts, points) => {
      const t = traffic(calls);
      const segs = [...cutAt('request', t.req, points), ...cutAt('response', t.resp, points)];
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});

test('fuzz: payload keeping (capture 64): never throws, kept bytes within the stream and connection bounds', () => {
  const check = (segs: readonly FuzzSegment[]): void => {
    const recs = playSegments(keeper as never, segs, FUZZ_LIMITS, (s) => {
      const st = s.state as Http2State;
      assert.ok(st.keptBytes >= 0 && st.keptBytes <= MAX_KEPT_PER_CONNECTION, `kept ${st.keptBytes}`);
      let sum = 0;
      for (const x of st.streams.values()) if (x.kept !== undefined) sum += x.kept.request.len + x.kept.response.len;
      assert.equal(st.keptBytes, sum, 'kept bytes accounted');
    }) as unknown as Http2Record[];
    for (const r of recs) {
      if (r.category !== 'http' || r.payload === undefined) continue;
      assert.ok(r.payload.requestBody.length <= KEEP && r.payload.responseBody.length <= KEEP);
      assert.ok(r.payload.requestHeaders.length <= 64 && r.payload.responseHeaders.length <= 64);
      if (r.payload.responseBodyComplete) assert.equal(r.payload.responseBody.length, r.responseBodySize);
    }
  };
  fc.assert(fc.property(fc.boolean(), fc.array(segArb, { maxLength: 40 }), (preface, segs) => void check(preface ? [{ type: 'request', data: PREFACE, gap: 0 }, ...segs] : segs)), params());
  fc.assert(
    fc.property(fc.array(callArb, { minLength: 1, maxLength: 5 }), mutationsArb, pointsArb, (calls, muts, points) => {
      const t = traffic(calls);
      const segs = [...cutAt('request', t.req, points), ...cutAt('response', t.resp, points)];
      mutate(segs, muts);
      check(segs);
    }),
    params(),
  );
});
