/**
 * Fuzzing the AMQP 0-9-1 parser through ProtocolSession (house rule 6). Time budget: a sixth of
 * FUZZ_MS (default 2000 ms; the messaging protocols share half of it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import { amqpParser } from './index.ts';
import type { AmqpRecord } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 6, 3, 50);
const params = (): fc.Parameters<unknown> => fuzzParams(PER_PROPERTY_MS);
const play = (segs: readonly FuzzSegment[], opts = FUZZ_LIMITS): AmqpRecord[] => playSegments(amqpParser, segs, opts);

const ss = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
function frame(type: number, channel: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(7);
  h[0] = type;
  h.writeUInt16BE(channel, 1);
  h.writeUInt32BE(payload.length, 3);
  return Buffer.concat([h, payload, Buffer.from([0xce])]);
}
const method = (ch: number, cls: number, m: number, args: Buffer): Buffer => {
  const id = Buffer.alloc(4);
  id.writeUInt16BE(cls, 0);
  id.writeUInt16BE(m, 2);
  return frame(1, ch, Buffer.concat([id, args]));
};
function content(ch: number, body: Buffer): Buffer {
  const h = Buffer.alloc(14);
  h.writeUInt16BE(60, 0);
  h.writeBigUInt64BE(BigInt(body.length), 4);
  return Buffer.concat([frame(2, ch, h), body.length > 0 ? frame(3, ch, body) : Buffer.alloc(0)]);
}
const publish = (ch: number, ex: string, rk: string, body: Buffer): Buffer => Buffer.concat([method(ch, 60, 40, Buffer.concat([Buffer.alloc(2), ss(ex), ss(rk), Buffer.from([0])])), content(ch, body)]);

const HDR = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(new Uint8Array(HDR)), fc.constant(new Uint8Array(publish(1, 'e', 'k', Buffer.from('x'))))),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

interface Pub {
  ch: number;
  ex: string;
  rk: string;
  size: number;
}
const pubArb: fc.Arbitrary<Pub> = fc.record({
  ch: fc.integer({ min: 1, max: 3 }),
  ex: fc.constantFrom('', 'events', 'logs'),
  rk: fc.stringMatching(/^[a-z]{1,6}(\.[a-z]{1,3})?$/),
  size: fc.nat(64),
});
const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid publishes on several channels, split anywhere, give one record each', () => {
  fc.assert(
    fc.property(fc.array(pubArb, { minLength: 1, maxLength: 8 }), pointsArb, (pubs, points) => {
      const bytes = Buffer.concat([HDR, ...pubs.map((p) => publish(p.ch, p.ex, p.rk, Buffer.alloc(p.size, 0x61)))]);
      const out = play(cutAt('request', bytes, points), {});
      const dest = (p: Pub) => (p.ex === '' ? p.rk : `${p.ex}:${p.rk}`);
      assert.deepEqual(
        out.map((r) => [r.operation, r.destination, r.bodySize]),
        pubs.map((p) => ['publish', dest(p), p.size]),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(pubArb, { minLength: 1, maxLength: 5 }), mutationsArb, pointsArb, (pubs, muts, points) => {
      const segs = cutAt('request', Buffer.concat([HDR, ...pubs.map((p) => publish(p.ch, p.ex, p.rk, Buffer.alloc(p.size, 0x62)))]), points);
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
