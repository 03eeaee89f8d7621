/**
 * Shared fuzzing support for protocol parsers (house rule 6): the time budget
 * from FUZZ_MS, fast-check parameters, and a player that feeds segments through
 * a ProtocolSession and checks the invariants every parser must keep (never
 * throws, buffers and queues stay bounded, records are well ordered in time).
 * Test support: imported by `fuzz.test.ts` files only.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FrameTiming, MessageType, ProtocolParser } from './contract.ts';
import { ProtocolSession, type SessionOptions } from './session.ts';

export interface FuzzSegment {
  type: MessageType;
  data: Uint8Array;
  /** bytes on the wire after `data` that were not captured */
  gap: number;
}

/** small caps, so that random input reaches the bounds quickly */
export const FUZZ_LIMITS: SessionOptions = { maxCapturedBytes: 512, maxSegments: 16, maxWireBytes: 1 << 20, maxPendingFrames: 8 };

/** ms per property: `share` of FUZZ_MS (default 2000) split over `properties`, at least `minMs` */
export function fuzzPropertyMs(share: number, properties: number, minMs = 50): number {
  return Math.max(minMs, Math.floor((Number(process.env.FUZZ_MS ?? 2000) * share) / properties));
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
