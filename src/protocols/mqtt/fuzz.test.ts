/**
 * Fuzzing the MQTT parser through ProtocolSession (house rule 6). Time budget: a sixth of
 * FUZZ_MS (default 2000 ms; the messaging protocols share half of it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import { mqttParser } from './index.ts';
import type { MqttRecord } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 6, 3, 50);
const params = (): fc.Parameters<unknown> => fuzzParams(PER_PROPERTY_MS);
const play = (segs: readonly FuzzSegment[], opts = FUZZ_LIMITS): MqttRecord[] => playSegments(mqttParser, segs, opts);

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return Buffer.from(out);
}
const str = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s) >> 8, Buffer.byteLength(s) & 0xff]), Buffer.from(s)]);
const pkt = (type: number, flags: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([(type << 4) | flags]), varint(body.length), body]);
const id = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

function connect(level: number): Buffer {
  return pkt(1, 0, Buffer.concat([str('MQTT'), Buffer.from([level, 2, 0, 60]), level >= 5 ? Buffer.from([0]) : Buffer.alloc(0), str('fuzz')]));
}

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(connect(4), connect(5)).map((b) => new Uint8Array(b))),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

interface Pub {
  topic: string;
  qos: 0 | 1 | 2;
  size: number;
}

const pubArb: fc.Arbitrary<Pub> = fc.record({
  topic: fc.stringMatching(/^[a-z]{1,6}(\/[a-z0-9]{1,4}){0,2}$/),
  qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  size: fc.nat(40),
});

/** the client publishes every message; the server acks them in reverse order */
function traffic(pubs: readonly Pub[], level: number): { req: Buffer; resp: Buffer; req2: Buffer; resp2: Buffer } {
  const v5 = level >= 5;
  const reqs: Buffer[] = [connect(level)];
  const resp: Buffer[] = [pkt(2, 0, Buffer.from(v5 ? [0, 0, 0] : [0, 0]))];
  const rel: Buffer[] = [];
  const comp: Buffer[] = [];
  pubs.forEach((p, i) => {
    const pid = i + 1;
    reqs.push(pkt(3, p.qos << 1, Buffer.concat([str(p.topic), p.qos > 0 ? id(pid) : Buffer.alloc(0), v5 ? Buffer.from([0]) : Buffer.alloc(0), Buffer.alloc(p.size, 0x61)])));
  });
  [...pubs].reverse().forEach((p, k) => {
    const pid = pubs.length - k;
    if (p.qos === 1) resp.push(pkt(4, 0, id(pid)));
    if (p.qos === 2) {
      resp.push(pkt(5, 0, id(pid)));
      rel.push(pkt(6, 2, id(pid)));
      comp.push(pkt(7, 0, id(pid)));
    }
  });
  return { req: Buffer.concat(reqs), resp: Buffer.concat(resp), req2: Buffer.concat(rel), resp2: Buffer.concat(comp) };
}

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid QoS 0/1/2 publishes split anywhere give one record each, paired by id', () => {
  fc.assert(
    fc.property(fc.array(pubArb, { minLength: 1, maxLength: 8 }), fc.constantFrom(4, 5), pointsArb, pointsArb, (pubs, level, qp, rp) => {
      const t = traffic(pubs, level);
      const segs = [...cutAt('request', t.req, qp), ...cutAt('response', t.resp, rp), ...cutAt('request', t.req2, qp), ...cutAt('response', t.resp2, rp)];
      const out = play(segs, {});
      const key = (r: { destination?: string; bodySize?: number }) => `${r.destination}/${r.bodySize}`;
      assert.deepEqual(out.map(key).sort(), pubs.map((p) => `${p.topic}/${p.size}`).sort());
      assert.ok(out.every((r) => r.operation === 'publish' && r.errorType === undefined));
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(pubArb, { minLength: 1, maxLength: 5 }), fc.constantFrom(3, 4, 5), mutationsArb, pointsArb, (pubs, level, muts, points) => {
      const t = traffic(pubs, level);
      const segs = [...cutAt('request', t.req, points), ...cutAt('response', t.resp, points), ...cutAt('request', t.req2, points), ...cutAt('response', t.resp2, points)];
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
