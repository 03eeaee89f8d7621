/**
 * Fuzzing the Redis parser through ProtocolSession (house rule 6). Time budget: a quarter of
 * FUZZ_MS (default 2000 ms; the four DB protocols share it), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { redisParser, redisQueryText } from './index.ts';
import type { RedisOperation } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const LIMITS: SessionOptions = FUZZ_LIMITS;

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

type Seg = FuzzSegment;

/** feed segments in order, close, check the common invariants (test/helpers/protocol-fuzz.ts) and this protocol's */
function play(segs: readonly Seg[], opts: SessionOptions = LIMITS): RedisOperation[] {
  return playSegments(redisParser, segs, opts, (_s, records) => {
    for (const r of records) {
      redisQueryText(r); // never throws
    }
  });
}

const segArb: fc.Arbitrary<Seg> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.stringMatching(/^[*$+\-:%>~_#,!=(|0-9\r\n a-z]{0,48}$/).map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
  ),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const wordArb = fc.stringMatching(/^[a-z0-9:_]{1,10}$/);

interface Cmd {
  req: string;
  resp: string;
  name: string;
  error?: string;
}

const replyArb: fc.Arbitrary<{ text: string; error?: string }> = fc.oneof(
  fc.constant({ text: '+OK\r\n' }),
  fc.nat(100000).map((n) => ({ text: `:${n}\r\n` })),
  wordArb.map((w) => ({ text: bulk(w) })),
  fc.constant({ text: '$-1\r\n' }),
  fc.constant({ text: '_\r\n' }),
  fc.array(wordArb, { maxLength: 4 }).map((ws) => ({ text: `*${ws.length}\r\n${ws.map(bulk).join('')}` })),
  fc.array(wordArb, { maxLength: 3 }).map((ws) => ({ text: `%${ws.length}\r\n${ws.map((w) => bulk(w) + ':1\r\n').join('')}` })),
  fc.constantFrom('ERR bad thing', 'WRONGTYPE Operation against a key', 'NOSCRIPT No matching script').map((e) => ({ text: `-${e}\r\n`, error: e.split(' ')[0] })),
);

const cmdArb: fc.Arbitrary<Cmd> = fc
  .record({ name: fc.constantFrom('GET', 'SET', 'HSET', 'LPUSH', 'INCR', 'DEL', 'PING', 'EXPIRE'), args: fc.array(wordArb, { maxLength: 4 }), reply: replyArb })
  .map((c) => ({
    req: `*${c.args.length + 1}\r\n${bulk(c.name)}${c.args.map(bulk).join('')}`,
    resp: c.reply.text,
    name: c.name,
    error: c.reply.error,
  }));


const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid commands split anywhere (pipelined or not) give exactly the expected records', () => {
  fc.assert(
    fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 6 }), pointsArb, pointsArb, fc.boolean(), (cmds, qp, rp, pipelined) => {
      const segs: Seg[] = [];
      if (pipelined) segs.push(...cutAt('request', cmds.map((c) => c.req).join(''), qp), ...cutAt('response', cmds.map((c) => c.resp).join(''), rp));
      else for (const c of cmds) segs.push(...cutAt('request', c.req, qp), ...cutAt('response', c.resp, rp));
      const out = play(segs, {});
      assert.deepEqual(
        out.map((r) => [r.operation, r.errorType, r.truncated]),
        cmds.map((c) => [c.name, c.error, false]),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(
      fc.array(cmdArb, { minLength: 1, maxLength: 5 }),
      mutationsArb,
      pointsArb,
      (cmds, muts, points) => {
        const segs: Seg[] = [];
        for (const c of cmds) segs.push(...cutAt('request', c.req, points), ...cutAt('response', c.resp, points));
        mutate(segs, muts);
        play(segs);
      },
    ),
    params(),
  );
});
