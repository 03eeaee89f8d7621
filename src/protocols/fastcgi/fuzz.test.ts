/**
 * Fuzzing the FastCGI parser through ProtocolSession (house rule 6). Time budget: a quarter of
 * FUZZ_MS (default 2000 ms), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutationsArb, mutate, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { fastcgiParser } from './index.ts';
import type { FcgiExchange } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

function play(segs: readonly FuzzSegment[], opts: SessionOptions = FUZZ_LIMITS): FcgiExchange[] {
  return playSegments(fastcgiParser, segs, opts);
}

/** one record: header, content, padding */
function record(type: number, id: number, content: Buffer, padding = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = type;
  h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  h[6] = padding;
  return Buffer.concat([h, content, Buffer.alloc(padding, 0x5a)]);
}

/** one name-value pair, lengths of 1 byte below 128, else 4 */
function pair(name: string, value: string): Buffer {
  const len = (n: number): Buffer => {
    if (n < 128) return Buffer.from([n]);
    const b = Buffer.alloc(4);
    b.writeUInt32BE((n | 0x80000000) >>> 0);
    return b;
  };
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([len(n.length), len(v.length), n, v]);
}

interface Exchange {
  req: Buffer;
  resp: Buffer;
  expect: [string, string, number, number];
}

const begin = (id: number): Buffer => record(1, id, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]));

const exchangeArb: fc.Arbitrary<Exchange> = fc
  .record({
    id: fc.integer({ min: 1, max: 3 }),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
    path: fc.stringMatching(/^\/[a-z0-9/._-]{0,300}$/),
    filler: fc.array(fc.tuple(fc.stringMatching(/^[A-Z_]{1,20}$/), fc.stringMatching(/^[ -~]{0,200}$/)), { maxLength: 6 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
    body: fc.stringMatching(/^[a-z=&]{0,40}$/),
    status: fc.constantFrom(200, 201, 302, 404, 500),
    out: fc.stringMatching(/^[ -~]{0,100}$/),
    pad: fc.integer({ min: 0, max: 7 }),
    stderr: fc.boolean(),
  })
  .map((x) => {
    // PARAMS content split anywhere across records (a pair may straddle two)
    const content = Buffer.concat([pair('REQUEST_METHOD', x.method), ...x.filler.filter(([n]) => n !== 'REQUEST_METHOD' && n !== 'REQUEST_URI' && n !== 'CONTENT_LENGTH').map(([n, v]) => pair(n, v)), pair('REQUEST_URI', x.path)]);
    const at = [...new Set(x.cuts.map((c) => Math.floor(c * content.length)))].sort((a, b) => a - b);
    const parts: Buffer[] = [];
    let from = 0;
    for (const a of at) {
      if (a > from) parts.push(content.subarray(from, a));
      from = a > from ? a : from;
    }
    parts.push(content.subarray(from));
    const req = Buffer.concat([
      begin(x.id),
      ...parts.filter((p) => p.length > 0).map((p) => record(4, x.id, p, x.pad)),
      record(4, x.id, Buffer.alloc(0)),
      ...(x.body.length > 0 ? [record(5, x.id, Buffer.from(x.body))] : []),
      record(5, x.id, Buffer.alloc(0)),
    ]);
    const head = x.status === 200 ? 'Content-type: text/html\r\n\r\n' : `Status: ${x.status} X\r\nContent-type: text/html\r\n\r\n`;
    const resp = Buffer.concat([
      ...(x.stderr ? [record(7, x.id, Buffer.from('PHP message: oops'))] : []),
      record(6, x.id, Buffer.from(head + x.out), x.pad),
      record(6, x.id, Buffer.alloc(0)),
      record(3, x.id, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])),
    ]);
    return { req, resp, expect: [x.method, x.path, x.status, x.out.length] as [string, string, number, number] };
  });

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  const near = fc.record({ t: fc.nat(12), id: fc.nat(3), c: fc.uint8Array({ maxLength: 40 }), p: fc.nat(8) }).map((x) => new Uint8Array(record(x.t, x.id, Buffer.from(x.c), x.p)));
  const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
    type: fc.constantFrom<MessageType>('request', 'response'),
    data: fc.oneof(fc.uint8Array({ maxLength: 64 }), near),
    gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
  });
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

test('fuzz: valid exchanges (PARAMS split across records, 1- and 4-byte lengths) split anywhere give exactly their records', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 4 }), pointsArb, pointsArb, (xs, qp, rp) => {
      const segs: FuzzSegment[] = [];
      for (const x of xs) segs.push(...cutAt('request', x.req, qp), ...cutAt('response', x.resp, rp));
      const out = play(segs, {});
      assert.deepEqual(
        out.map((r) => [r.method, r.path, r.status, r.responseBodySize]),
        xs.map((x) => x.expect),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 3 }), mutationsArb, pointsArb, (xs, muts, points) => {
      const segs: FuzzSegment[] = [];
      for (const x of xs) segs.push(...cutAt('request', x.req, points), ...cutAt('response', x.resp, points));
      if (segs.length === 0) return;
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
