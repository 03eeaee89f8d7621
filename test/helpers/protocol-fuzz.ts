/**
 * Shared fuzzing support for protocol parsers (house rule 6): the time budget
 * from FUZZ_MS, fast-check parameters, and a player that feeds segments through
 * a ProtocolSession and checks the invariants every parser must keep (never
 * throws, buffers and queues stay bounded, records are well ordered in time).
 * Test support: imported by `fuzz.test.ts` files only.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FrameTiming, MessageType, ProtocolParser } from '../../src/protocols/common/contract.ts';
import { ProtocolSession, type SessionOptions } from '../../src/protocols/common/session.ts';

export interface FuzzSegment {
  type: MessageType;
  data: Uint8Array;
  /** bytes on the wire after `data` that were not captured */
  gap: number;
}

/** small caps, so that random input reaches the bounds quickly */
export const FUZZ_LIMITS: SessionOptions = { maxCapturedBytes: 512, maxSegments: 16, maxWireBytes: 1 << 20, maxPendingFrames: 8 };

/**
 * A property's time is never below this: on a loaded machine a budget of a few tens of ms can run
 * out before fast-check finishes its first case, and an interrupted property with no case fails.
 */
const MIN_PROPERTY_MS = 250;

/** ms per property: `share` of FUZZ_MS (default 2000) split over `properties`, at least `minMs` (and MIN_PROPERTY_MS) */
export function fuzzPropertyMs(share: number, properties: number, minMs = 50): number {
  return Math.max(minMs, MIN_PROPERTY_MS, Math.floor((Number(process.env.FUZZ_MS ?? 2000) * share) / properties));
}

/** run until the time limit rather than a fixed number of cases */
export function fuzzParams(ms: number): fc.Parameters<unknown> {
  return { numRuns: 1_000_000, plugins: [fc.interruptAfterTimeLimit(ms)] } as fc.Parameters<unknown>;
}

/**
 * Feed `segs` in order (ts = index + 1), close, check the common invariants, then
 * `extra(session, records)` for protocol-specific ones; returns the records.
 */
export function playSegments<Req extends FrameTiming, Resp extends FrameTiming, Rec extends FrameTiming, State>(
  parser: ProtocolParser<Req, Resp, Rec, State>,
  segs: readonly FuzzSegment[],
  opts: SessionOptions = FUZZ_LIMITS,
  extra?: (s: ProtocolSession<Req, Resp, Rec, State>, records: Rec[]) => void,
): Rec[] {
  const s = new ProtocolSession(parser, opts);
  const out: Rec[] = [];
  const maxCap = opts.maxCapturedBytes ?? 64 * 1024;
  const maxSeg = opts.maxSegments ?? 4096;
  segs.forEach((g, i) => {
    const data = Buffer.from(g.data);
    out.push(...s.feed(g.type, data, data.length + g.gap, i + 1));
    for (const b of [s.requestBuffer, s.responseBuffer]) {
      assert.ok(b.capturedLength <= maxCap, `captured ${b.capturedLength} > ${maxCap}`);
      assert.ok(b.segmentCount <= maxSeg, `segments ${b.segmentCount} > ${maxSeg}`);
      assert.ok(b.length <= (opts.maxWireBytes ?? Infinity), 'wire cap');
    }
    assert.ok(s.pendingRequests <= (opts.maxPendingFrames ?? 1024), 'pending requests');
  });
  out.push(...s.close(segs.length + 1));
  assert.equal(s.parserErrors, 0);
  for (const r of out) assert.ok(r.startNs <= r.endNs, 'start after end');
  extra?.(s, out);
  return out;
}

/** split `bytes` (a latin1 string or Buffer) at the fractions `points` (0..1) into segments of `type` */
export function cutAt(type: MessageType, bytes: Buffer | string, points: readonly number[]): FuzzSegment[] {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  if (b.length === 0) return [];
  const at = [...new Set(points.map((p) => Math.floor(p * b.length)))].filter((x) => x > 0 && x < b.length).sort((x, y) => x - y);
  const out: FuzzSegment[] = [];
  let prev = 0;
  for (const x of [...at, b.length]) {
    out.push({ type, data: b.subarray(prev, x), gap: 0 });
    prev = x;
  }
  return out;
}

export interface Mutation {
  at: number;
  byte: number;
  gap: number;
  op: 'flip' | 'gap' | 'delete';
}

/** up to five mutations: flip a byte, delete a byte, or turn a segment's tail into a gap */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.nat(255), gap: fc.nat(3000), op: fc.constantFrom('flip' as const, 'gap' as const, 'delete' as const) }),
  { maxLength: 5 },
);

/** apply `muts` to `segs` in place */
export function mutate(segs: FuzzSegment[], muts: readonly Mutation[]): void {
  if (segs.length === 0) return;
  for (const m of muts) {
    const g = segs[Math.floor(m.at * segs.length) % segs.length];
    const d = Array.from(g.data);
    const i = Math.floor(m.at * d.length);
    if (m.op === 'flip' && d.length > 0) d[Math.min(i, d.length - 1)] = m.byte;
    else if (m.op === 'delete') d.splice(i, 1);
    else {
      g.gap += d.length - i + m.gap;
      d.length = i;
    }
    g.data = Uint8Array.from(d);
  }
}
