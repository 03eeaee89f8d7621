/**
 * Fuzzing the Memcached parser through ProtocolSession (house rule 6). Time budget: a quarter of
 * FUZZ_MS (default 2000 ms; the four DB protocols share it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { memcachedParser, memcachedQueryText } from './index.ts';
import type { McOperation } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const LIMITS: SessionOptions = FUZZ_LIMITS;

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

type Seg = FuzzSegment;

/** feed segments in order, close, check the common invariants (test/helpers/protocol-fuzz.ts) and this protocol's */
function play(segs: readonly Seg[], opts: SessionOptions = LIMITS): McOperation[] {
  return playSegments(memcachedParser, segs, opts, (_s, records) => {
    for (const r of records) {
      memcachedQueryText(r);
    }
  });
}

const bin = (magic: number, opcode: number, key: string, value: string, status: number, opaque: number): Buffer => {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const h = Buffer.alloc(24);
  h[0] = magic;
  h[1] = opcode;
  h.writeUInt16BE(k.length, 2);
  h.writeUInt16BE(status, 6);
  h.writeUInt32BE(k.length + v.length, 8);
  h.writeUInt32BE(opaque, 12);
  return Buffer.concat([h, k, v]);
};

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  const text = fc.stringMatching(/^(get|set|VALUE|END|STORED|STAT|delete|incr|gat|[a-z0-9 :]){0,6}( noreply)?(\r\n)?[a-z0-9]{0,4}(\r\n)?$/).map((s) => new Uint8Array(Buffer.from(s)));
  const binary = fc.record({ m: fc.constantFrom(0x80, 0x81), op: fc.nat(0x22), k: fc.stringMatching(/^[a-z]{0,4}$/), v: fc.stringMatching(/^[a-z]{0,8}$/), st: fc.nat(0x86), o: fc.nat(5) }).map((x) => new Uint8Array(bin(x.m, x.op, x.k, x.v, x.st, x.o)));
  const segArb: fc.Arbitrary<Seg> = fc.record({
    type: fc.constantFrom<MessageType>('request', 'response'),
    data: fc.oneof(fc.uint8Array({ maxLength: 64 }), text, binary),
    gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
  });
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

interface Exchange {
  req: Buffer;
  resp: Buffer;
  expect: [string, string | undefined][];
}

const keyArb = fc.stringMatching(/^[a-z0-9:]{1,12}$/);
const valArb = fc.stringMatching(/^[a-z0-9 ]{0,20}$/);
const exchangeArb: fc.Arbitrary<Exchange> = fc.oneof(
  fc.record({ k: keyArb, v: valArb }).map(({ k, v }) => ({ req: Buffer.from(`set ${k} 0 0 ${v.length}\r\n${v}\r\n`), resp: Buffer.from('STORED\r\n'), expect: [['SET', undefined]] as [string, string | undefined][] })),
  fc.record({ ks: fc.array(keyArb, { minLength: 1, maxLength: 3 }), vs: fc.array(valArb, { maxLength: 3 }) }).map(({ ks, vs }) => ({
    req: Buffer.from(`get ${ks.join(' ')}\r\n`),
    resp: Buffer.from(vs.map((v, i) => `VALUE k${i} 0 ${v.length}\r\n${v}\r\n`).join('') + 'END\r\n'),
    expect: [['GET', undefined]] as [string, string | undefined][],
  })),
  keyArb.map((k) => ({ req: Buffer.from(`incr ${k} 1\r\n`), resp: Buffer.from('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'), expect: [['INCR', 'CLIENT_ERROR']] as [string, string | undefined][] })),
  keyArb.map((k) => ({ req: Buffer.from(`delete ${k} noreply\r\n`), resp: Buffer.alloc(0), expect: [['DELETE', undefined]] as [string, string | undefined][] })),
  fc.record({ k: keyArb, v: valArb, o: fc.nat(1000) }).map(({ k, v, o }) => ({ req: bin(0x80, 0x00, k, '', 0, o), resp: bin(0x81, 0x00, '', v, 0, o), expect: [['GET', undefined]] as [string, string | undefined][] })),
  fc.record({ k: keyArb, o: fc.nat(1000) }).map(({ k, o }) => ({ req: bin(0x80, 0x05, k, '', 0, o), resp: bin(0x81, 0x05, '', 'Non-numeric', 6, o), expect: [['INCR', 'CLIENT_ERROR']] as [string, string | undefined][] })),
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
        if (segs.length === 0) return;
        mutate(segs, muts);
        play(segs);
      },
    ),
    params(),
  );
});
