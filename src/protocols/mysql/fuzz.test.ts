/**
 * Fuzzing the MySQL parser through ProtocolSession (house rule 6). Time budget: a quarter of
 * FUZZ_MS (default 2000 ms; the four DB protocols share it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { mysqlParser } from './index.ts';
import type { MysqlOperation } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const LIMITS: SessionOptions = FUZZ_LIMITS;

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

type Seg = FuzzSegment;

/** feed segments in order, close, check the common invariants (test/helpers/protocol-fuzz.ts) and this protocol's */
function play(segs: readonly Seg[], opts: SessionOptions = LIMITS): MysqlOperation[] {
  return playSegments(mysqlParser, segs, opts, (s) => {
    assert.ok(s.state.statements.size <= 1024);
  });
}

const le16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const pkt = (seq: number, ...parts: (Buffer | string)[]): Buffer => {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const h = Buffer.alloc(4);
  h.writeUIntLE(body.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, body]);
};
const lstr = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const ok = (seq: number): Buffer => pkt(seq, Buffer.from([0, 1, 0]), le16(2), le16(0));
const eof = (seq: number): Buffer => pkt(seq, Buffer.from([0xfe]), le16(0), le16(2));
const coldef = (seq: number, name: string): Buffer => pkt(seq, lstr('def'), lstr('d'), lstr('t'), lstr('t'), lstr(name), lstr(name), Buffer.from([0x0c]), Buffer.alloc(12));

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  const packet = fc.record({ seq: fc.nat(4), body: fc.uint8Array({ maxLength: 24 }) }).map(({ seq, body }) => new Uint8Array(pkt(seq, Buffer.from(body))));
  const segArb: fc.Arbitrary<Seg> = fc.record({
    type: fc.constantFrom<MessageType>('request', 'response'),
    data: fc.oneof(fc.uint8Array({ maxLength: 64 }), packet),
    gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
  });
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

interface Exchange {
  req: Buffer;
  resp: Buffer;
  expect: [string | undefined, string | undefined][];
}

const tableArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const exchangeArb: fc.Arbitrary<Exchange> = fc.oneof(
  fc.record({ t: tableArb, rows: fc.array(fc.stringMatching(/^[a-z0-9]{0,12}$/), { maxLength: 4 }), deprecate: fc.boolean() }).map(({ t, rows, deprecate }) => {
    let s = 1;
    const resp = [pkt(s++, Buffer.from([1])), coldef(s++, 'c')];
    if (!deprecate) resp.push(eof(s++));
    for (const r of rows) resp.push(pkt(s++, lstr(r)));
    resp.push(deprecate ? pkt(s++, Buffer.from([0xfe, 0, 0]), le16(2), le16(0)) : eof(s++));
    return { req: pkt(0, Buffer.from([3]), `SELECT c FROM ${t}`), resp: Buffer.concat(resp), expect: [['SELECT', undefined]] as [string | undefined, string | undefined][] };
  }),
  tableArb.map((t) => ({ req: pkt(0, Buffer.from([3]), `UPDATE ${t} SET a = 1`), resp: ok(1), expect: [['UPDATE', undefined]] as [string | undefined, string | undefined][] })),
  tableArb.map((t) => ({
    req: pkt(0, Buffer.from([3]), `DELETE FROM ${t}`),
    resp: pkt(1, Buffer.from([0xff]), le16(1146), '#42S02', 'no such table'),
    expect: [['DELETE', '42S02']] as [string | undefined, string | undefined][],
  })),
  fc.constant({ req: pkt(0, Buffer.from([0x0e])), resp: ok(1), expect: [] as [string | undefined, string | undefined][] }),
);


const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid exchanges split anywhere give exactly the expected operations', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 5 }), pointsArb, pointsArb, (xs, qp, rp) => {
      const segs: Seg[] = [];
      for (const x of xs) segs.push(...cutAt('request', x.req, qp), ...cutAt('response', x.resp, rp));
      const out = play(segs, {});
      assert.deepEqual(
        out.map((r) => [r.operation, r.errorType]),
        xs.flatMap((x) => x.expect),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(
      fc.array(exchangeArb, { minLength: 1, maxLength: 4 }),
      mutationsArb,
      pointsArb,
      (xs, muts, points) => {
        const segs: Seg[] = [];
        for (const x of xs) segs.push(...cutAt('request', x.req, points), ...cutAt('response', x.resp, points));
        mutate(segs, muts);
        play(segs);
      },
    ),
    params(),
  );
});
