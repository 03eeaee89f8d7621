/**
 * Fuzzing the DNS parsers (UDP and TCP) through ProtocolSession (house rule 6), with the shared
 * harness. Time budget: a quarter of FUZZ_MS (default 2000 ms), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import { query, response, tcp } from '../../../test/helpers/dns-messages.ts';
import { dnsTcpParser, dnsUdpParser } from './index.ts';

const params = (): fc.Parameters<unknown> => fuzzParams(fuzzPropertyMs(1 / 4, 4, 50));

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.uint8Array({ maxLength: 96 }),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

for (const [label, parser] of [['udp', dnsUdpParser], ['tcp', dnsTcpParser]] as const) {
  test(`fuzz (${label}): random bytes, segments and gaps never throw and stay bounded`, () => {
    fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void playSegments(parser, segs, FUZZ_LIMITS)), params());
  });
}

const labelArb = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
interface Lookup {
  q: Buffer;
  r: Buffer;
  name: string;
  rcode: number;
  answers: number;
}
const lookupArb: fc.Arbitrary<Lookup> = fc
  .record({ id: fc.nat(65535), labels: fc.array(labelArb, { minLength: 1, maxLength: 4 }), qtype: fc.constantFrom(1, 28, 16, 15), rcode: fc.constantFrom(0, 0, 2, 3), answers: fc.nat(5) })
  .map((l) => {
    const n = l.labels.join('.');
    return { q: query(l.id, n, l.qtype), r: response(l.id, n, l.qtype, l.rcode, l.rcode === 0 ? l.answers : 0), name: n, rcode: l.rcode, answers: l.rcode === 0 ? l.answers : 0 };
  });
const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

test('fuzz (tcp): lookups split anywhere give exactly the expected records; mutated ones never throw', () => {
  fc.assert(
    fc.property(fc.uniqueArray(lookupArb, { minLength: 1, maxLength: 4, selector: (l) => l.q.readUInt16BE(0) }), pointsArb, mutationsArb, (ls, points, muts) => {
      const segs: FuzzSegment[] = [];
      for (const l of ls) segs.push(...cutAt('request', tcp(l.q), points), ...cutAt('response', tcp(l.r), points));
      const out = playSegments(dnsTcpParser, segs, {});
      assert.deepEqual(out.map((r) => [r.name, r.answers, r.errorType]), ls.map((l) => [l.name, l.answers, l.rcode === 0 ? undefined : l.rcode === 2 ? 'SERVFAIL' : 'NXDOMAIN']));
      mutate(segs, muts);
      playSegments(dnsTcpParser, segs);
    }),
    params(),
  );
});

test('fuzz (udp): one datagram per segment, with uncaptured tails, gives the expected records', () => {
  fc.assert(
    fc.property(fc.uniqueArray(lookupArb, { minLength: 1, maxLength: 4, selector: (l) => l.q.readUInt16BE(0) }), fc.nat(60), (ls, cap) => {
      const segs: FuzzSegment[] = [];
      for (const l of ls) {
        segs.push({ type: 'request', data: l.q, gap: 0 });
        // the response's capture may stop anywhere after the question: the record still comes
        const keep = Math.min(l.r.length, l.q.length + cap);
        segs.push({ type: 'response', data: l.r.subarray(0, keep), gap: l.r.length - keep });
      }
      const out = playSegments(dnsUdpParser, segs, {});
      assert.deepEqual(out.map((r) => [r.name, r.errorType]), ls.map((l) => [l.name, l.rcode === 0 ? undefined : l.rcode === 2 ? 'SERVFAIL' : 'NXDOMAIN']));
    }),
    params(),
  );
});
