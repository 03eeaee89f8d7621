/**
 * Fuzzing the PostgreSQL parser through ProtocolSession (house rule 6). Time budget: a quarter of
 * FUZZ_MS (default 2000 ms; the four DB protocols share it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { pgParser } from './index.ts';
import type { PgOperation } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const LIMITS: SessionOptions = FUZZ_LIMITS;

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

type Seg = FuzzSegment;

/** feed segments in order, close, check the common invariants (test/helpers/protocol-fuzz.ts) and this protocol's */
function play(segs: readonly Seg[], opts: SessionOptions = LIMITS): PgOperation[] {
  return playSegments(pgParser, segs, opts, (s) => {
    assert.ok(s.state.statements.size <= 1024);
  });
}

const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const cstr = (s: string): Buffer => Buffer.from(s + '\0');
const msg = (t: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(t), be32(4 + body.length), body]);
};

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  const typed = fc
    .record({ t: fc.constantFrom(...'QPBDESHCFXdcfpRZTIN12Kn'.split('')), body: fc.uint8Array({ maxLength: 24 }) })
    .map(({ t, body }) => new Uint8Array(msg(t, Buffer.from(body))));
  const segArb: fc.Arbitrary<Seg> = fc.record({
    type: fc.constantFrom<MessageType>('request', 'response'),
    data: fc.oneof(fc.uint8Array({ maxLength: 64 }), typed, fc.constant(new Uint8Array([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])), fc.constant(new Uint8Array([0x4e]))),
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
const stmtArb = fc.oneof(
  tableArb.map((t) => ({ sql: `SELECT * FROM ${t} WHERE id = 1`, op: 'SELECT', tag: 'SELECT 1' })),
  tableArb.map((t) => ({ sql: `INSERT INTO ${t} VALUES ('x', 2)`, op: 'INSERT', tag: 'INSERT 0 1' })),
  tableArb.map((t) => ({ sql: `UPDATE ${t} SET a = 3`, op: 'UPDATE', tag: 'UPDATE 2' })),
  fc.constant({ sql: 'BEGIN', op: 'BEGIN', tag: 'BEGIN' }),
);

const exchangeArb: fc.Arbitrary<Exchange> = fc.oneof(
  fc.record({ s: stmtArb, fail: fc.boolean() }).map(({ s, fail }) => ({
    req: msg('Q', cstr(s.sql)),
    resp: Buffer.concat([fail ? msg('E', Buffer.from('SERROR\0C42P01\0Mnope\0\0')) : msg('C', cstr(s.tag)), msg('Z', Buffer.from('I'))]),
    expect: [[s.op, fail ? '42P01' : undefined]] as [string | undefined, string | undefined][],
  })),
  fc.array(stmtArb, { minLength: 1, maxLength: 3 }).map((ss) => ({
    req: Buffer.concat([
      ...ss.flatMap((s) => [msg('P', cstr(''), cstr(s.sql), Buffer.alloc(2)), msg('B', cstr(''), cstr(''), Buffer.alloc(6)), msg('E', cstr(''), be32(0))]),
      msg('S'),
    ]),
    resp: Buffer.concat([...ss.flatMap((s) => [msg('1'), msg('2'), msg('C', cstr(s.tag))]), msg('Z', Buffer.from('I'))]),
    expect: ss.map((s) => [s.op, undefined] as [string | undefined, string | undefined]),
  })),
);


const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid exchanges split anywhere (pipelined or not) give exactly the expected operations', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 5 }), pointsArb, pointsArb, fc.boolean(), (xs, qp, rp, pipelined) => {
      const segs: Seg[] = [];
      if (pipelined) segs.push(...cutAt('request', Buffer.concat(xs.map((x) => x.req)), qp), ...cutAt('response', Buffer.concat(xs.map((x) => x.resp)), rp));
      else for (const x of xs) segs.push(...cutAt('request', x.req, qp), ...cutAt('response', x.resp, rp));
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
