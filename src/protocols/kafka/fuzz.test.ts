/**
 * Fuzzing the Kafka parser through ProtocolSession (house rule 6), with the shared harness
 * (test/helpers/protocol-fuzz.ts). Time budget: a quarter of FUZZ_MS (default 2000 ms), split
 * over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import * as F from '../../../test/helpers/kafka-frames.ts';
import type { SessionOptions } from '../common/session.ts';
import { createKafkaParser } from './index.ts';
import type { KafkaRecord } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const params = (): fc.Parameters<unknown> => fuzzParams(PER_PROPERTY_MS);

function play(segs: readonly FuzzSegment[], opts: SessionOptions = FUZZ_LIMITS): KafkaRecord[] {
  return playSegments(createKafkaParser(), segs, opts, (_s, records) => {
    for (const r of records) {
      assert.ok(r.messageCount === undefined || r.messageCount >= 0);
      assert.ok(r.operation === 'publish' || r.operation === 'process');
    }
  });
}

/** a random frame-shaped prefix: a plausible size and a request header, then random bytes */
const headerish = fc.tuple(fc.nat(600), fc.constantFrom(0, 1, 3, 18, 10, 11), fc.nat(20), fc.nat(5), fc.uint8Array({ maxLength: 48 })).map(([size, key, ver, corr, rest]) => {
  const b = Buffer.alloc(12);
  b.writeInt32BE(size, 0);
  b.writeInt16BE(key, 4);
  b.writeInt16BE(ver, 6);
  b.writeInt32BE(corr, 8);
  return new Uint8Array(Buffer.concat([b, Buffer.from(rest)]));
});

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(fc.uint8Array({ maxLength: 64 }), headerish),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

interface Exchange {
  req: Buffer;
  resp: Buffer;
  expect: [string, string | undefined, number];
}

const topicArb = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);
const exchangeArb: fc.Arbitrary<Exchange> = fc
  .record({ produce: fc.boolean(), topic: topicArb, n: fc.integer({ min: 1, max: 4 }), pv: fc.constantFrom(3, 7, 8, 9, 11, 12), fv: fc.constantFrom(4, 7, 11, 12), corr: fc.nat(1000) })
  .map(({ produce, topic, n, pv, fv, corr }) => {
    const batch = F.recordBatch(0, Array.from({ length: n }, (_, i) => ({ value: `m${i}` })));
    if (produce) {
      return {
        req: F.requestFrame(0, pv, corr, 'fz', F.produceRequestBody(pv, -1, [{ name: topic, partitions: [{ index: 0, records: batch }] }])),
        resp: F.responseFrame(0, pv, corr, F.produceResponseBody(pv, [{ name: topic, partitions: [{ index: 0, error: 0, baseOffset: 3 }] }])),
        expect: ['publish', topic, n] as [string, string, number],
      };
    }
    return {
      req: F.requestFrame(1, fv, corr, 'fz', F.fetchRequestBody(fv, [{ name: topic, partitions: [0] }])),
      resp: F.responseFrame(1, fv, corr, F.fetchResponseBody(fv, [{ name: topic, partitions: [{ index: 0, records: batch }] }])),
      expect: ['process', topic, n] as [string, string, number],
    };
  });

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid exchanges split anywhere give exactly the expected records', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 5 }), pointsArb, pointsArb, (xs, qp, rp) => {
      // distinct correlation ids, as a client's are
      xs.forEach((x, i) => {
        x.req.writeInt32BE(i + 1, 8);
        x.resp.writeInt32BE(i + 1, 4);
      });
      const segs: FuzzSegment[] = [];
      for (const x of xs) segs.push(...cutAt('request', x.req, qp), ...cutAt('response', x.resp, rp));
      const out = play(segs, {});
      assert.deepEqual(
        out.map((r) => [r.operation, r.destination, r.messageCount]),
        xs.map((x) => x.expect),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 4 }), mutationsArb, pointsArb, (xs, muts, points) => {
      const segs: FuzzSegment[] = [];
      for (const x of xs) segs.push(...cutAt('request', x.req, points), ...cutAt('response', x.resp, points));
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
