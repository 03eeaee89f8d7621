/**
 * Fuzzing the MongoDB parser through ProtocolSession (house rule 6), with the shared harness.
 * Time budget: a quarter of FUZZ_MS (default 2000 ms), split over the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { mongoParser, mongoQueryText } from './index.ts';
import type { MongoOperation } from './types.ts';
import { compressed, opMsg } from '../../../test/helpers/mongo-messages.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 4, 3, 50);
const params = (): fc.Parameters<unknown> => fuzzParams(PER_PROPERTY_MS);

function play(segs: readonly FuzzSegment[], opts: SessionOptions = FUZZ_LIMITS): MongoOperation[] {
  return playSegments(mongoParser, segs, opts, (_s, records) => {
    for (const r of records) mongoQueryText(r);
  });
}

const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 96 }),
    // a plausible header followed by random bytes
    fc.tuple(fc.integer({ min: 16, max: 400 }), fc.constantFrom(1, 2004, 2012, 2013), fc.uint8Array({ maxLength: 80 })).map(([len, op, rest]) => {
      const h = Buffer.alloc(16);
      h.writeInt32LE(len, 0);
      h.writeInt32LE(op, 12);
      return new Uint8Array(Buffer.concat([h, Buffer.from(rest)]));
    }),
  ),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
});

test('fuzz: random bytes, segments and gaps never throw and stay bounded', () => {
  fc.assert(fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => void play(segs)), params());
});

const wordArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/);
interface Cmd {
  req: Buffer;
  resp: Buffer;
  command: string;
  coll: string;
  error?: string;
}
const cmdArb: fc.Arbitrary<Cmd> = fc
  .record({
    id: fc.integer({ min: 1, max: 1 << 30 }),
    command: fc.constantFrom('find', 'insert', 'update', 'delete', 'aggregate', 'count'),
    coll: wordArb,
    db: wordArb,
    filter: fc.dictionary(wordArb, fc.oneof(fc.integer(), wordArb), { maxKeys: 4 }),
    code: fc.option(fc.integer({ min: 1, max: 20000 })),
    comp: fc.constantFrom(-1, -1, 0, 1, 2, 3),
  })
  .map((c) => {
    let req = opMsg(c.id, 0, { [c.command]: c.coll, filter: c.filter, $db: c.db });
    let resp = opMsg(c.id + 1, c.id, c.code === null ? { n: 1, ok: 1 } : { ok: 0, code: c.code, errmsg: 'e' });
    if (c.comp >= 0) {
      req = compressed(req, c.comp);
      resp = compressed(resp, c.comp);
    }
    return { req, resp, command: c.command, coll: c.coll, error: c.code === null ? undefined : String(c.code) };
  });
const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid commands split anywhere give exactly the expected records', () => {
  fc.assert(
    fc.property(fc.uniqueArray(cmdArb, { minLength: 1, maxLength: 5, selector: (c) => c.req.readInt32LE(4) }), pointsArb, pointsArb, (cmds, qp, rp) => {
      const segs: FuzzSegment[] = [];
      for (const c of cmds) segs.push(...cutAt('request', c.req, qp), ...cutAt('response', c.resp, rp));
      const out = play(segs, {});
      assert.deepEqual(
        out.map((r) => [r.operation, r.collection, r.errorType, r.truncated]),
        cmds.map((c) => [c.command, c.coll, c.error, false]),
      );
    }),
    params(),
  );
});

test('fuzz: mutated valid traffic with gaps never throws', () => {
  fc.assert(
    fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 5 }), mutationsArb, pointsArb, (cmds, muts, points) => {
      const segs: FuzzSegment[] = [];
      for (const c of cmds) segs.push(...cutAt('request', c.req, points), ...cutAt('response', c.resp, points));
      mutate(segs, muts);
      play(segs);
    }),
    params(),
  );
});
