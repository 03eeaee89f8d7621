/**
 * Fuzzing the NATS parser through ProtocolSession (house rule 6). Time budget: a sixth of
 * FUZZ_MS (default 2000 ms; the messaging protocols share half of it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import { natsParser } from './index.ts';
import type { NatsRecord } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 6, 3, 50);

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

function play(segs: readonly FuzzSegment[], opts = FUZZ_LIMITS): NatsRecord[] {
  return playSegments(natsParser, segs, opts);
}

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.stringMatching(/^(PUB|HPUB|MSG|HMSG|SUB|\+OK|-ERR|INFO|CONNECT|PING|[ a-z.0-9{}":_\r\n])*$/).map((s) => new Uint8Array(Buffer.from(s.slice(0, 80), 'latin1'))),
  ),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

const subjectArb = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(\.[a-z0-9]{1,4}){0,2}$/);
const payloadArb = fc.stringMatching(/^[a-zA-Z0-9 ]{0,20}$/);

interface Op {
  pub: string;
  msg: string;
  subject: string;
  size: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({ subject: subjectArb, payload: payloadArb, headers: fc.boolean() }).map(({ subject, payload, headers }) => {
  if (!headers) return { subject, size: payload.length, pub: `PUB ${subject} ${payload.length}\r\n${payload}\r\n`, msg: `MSG ${subject} 1 ${payload.length}\r\n${payload}\r\n` };
  const h = 'NATS/1.0\r\nk: v\r\n\r\n';
  const t = h.length + payload.length;
  return { subject, size: payload.length, pub: `HPUB ${subject} ${h.length} ${t}\r\n${h}${payload}\r\n`, msg: `HMSG ${subject} 1 ${h.length} ${t}\r\n${h}${payload}\r\n` };
});

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid publishes and deliveries split anywhere give exactly the expected records', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 6 }), pointsArb, pointsArb, (ops, qp, rp) => {
      const segs: FuzzSegment[] = [
        ...cutAt('request', 'SUB > 1\r\n' + ops.map((o) => o.pub).join('PING\r\n'), qp),
        ...cutAt('response', ops.map((o) => o.msg).join('PONG\r\n'), rp),
      ];
      const out = play(segs, {});
      const pubs = out.filter((r) => r.operation === 'publish');
      const procs = out.filter((r) => r.operation === 'process');
      assert.deepEqual(pubs.map((r) => [r.destination, r.bodySize]), ops.map((o) => [o.subject, o.size]));
      assert.deepEqual(procs.map((r) => [r.destination, r.bodySize]), ops.map((o) => [o.subject, o.size]));
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 5 }), mutationsArb, pointsArb, (ops, muts, points) => {
      const segs: FuzzSegment[] = [];
      for (const o of ops) segs.push(...cutAt('request', o.pub, points), ...cutAt('response', o.msg, points));
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
