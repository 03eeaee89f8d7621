/**
 * Shared fuzzing of the HTTP payload extractors (src/protocols/common/http-extract.ts), on the
 * shared protocol fuzz harness (test/helpers/protocol-fuzz.ts): the HTTP/1 parser with a payload
 * capture, its records run through the extractor (test/helpers/http-extract-fixtures.ts).
 * Properties: random bytes, segments and gaps never throw and stay bounded (the kept bodies
 * within the capture limit too); valid exchanges split anywhere give exactly their
 * enrichments; mutated valid exchanges never throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../../src/protocols/common/contract.ts';
import type { HttpEnrichment, HttpExtractor } from '../../src/protocols/common/http-extract.ts';
import { cutAt, fuzzParams, fuzzPropertyMs, mutate, mutationsArb, playSegments, type FuzzSegment } from './protocol-fuzz.ts';
import { extractorParser, type ExtractedRecord } from './http-extract-fixtures.ts';

/** one generated exchange: the request and response bytes and the enrichment they must give */
export interface GeneratedExchange {
  readonly req: string;
  readonly resp: string;
  readonly expect: HttpEnrichment | null;
}

const SMALL_CAPTURE = 256;

/** every enrichment value is a scalar and no longer than the capture allows */
function checkRecord(r: ExtractedRecord, capture: number): void {
  const e = r.enrichment;
  if (e === null) return;
  for (const v of Object.values(e.attributes ?? {})) {
    assert.ok(['string', 'number', 'boolean'].includes(typeof v), 'attribute type');
    if (typeof v === 'string') assert.ok(Buffer.byteLength(v) <= capture + 64 || v === '', `attribute longer than the capture: ${v.length}`);
  }
}

export function fuzzExtractor(extractor: HttpExtractor, role: 'client' | 'server', exchangeArb: fc.Arbitrary<GeneratedExchange>, httpish: readonly string[]): void {
  const ms = fuzzPropertyMs(1 / 8, 3, 50);
  const small = extractorParser(extractor, role, SMALL_CAPTURE);
  const big = extractorParser(extractor, role, 8192);

  const segArb: fc.Arbitrary<FuzzSegment> = fc.record({
    type: fc.constantFrom<MessageType>('request', 'response'),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(...httpish).map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
      fc.stringMatching(/^[{}[\]":,a-z0-9 \r\n/_?=&<>]{0,48}$/).map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
    ),
    gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(2048)),
  });

  test(`fuzz ${extractor.name}: random bytes, segments and gaps never throw and stay bounded`, () => {
    fc.assert(
      fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => {
        for (const r of playSegments(small, segs)) checkRecord(r, SMALL_CAPTURE);
      }),
      fuzzParams(ms),
    );
  });

  const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

  test(`fuzz ${extractor.name}: valid exchanges split anywhere give exactly their enrichments`, () => {
    fc.assert(
      fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 4 }), pointsArb, pointsArb, (xs, qp, rp) => {
        const segs: FuzzSegment[] = [];
        for (const x of xs) segs.push(...cutAt('request', Buffer.from(x.req), qp), ...cutAt('response', Buffer.from(x.resp), rp));
        const recs = playSegments(big, segs, { maxCapturedBytes: 1 << 20 });
        assert.equal(recs.length, xs.length);
        recs.forEach((r, i) => assert.deepEqual(r.enrichment, xs[i].expect));
      }),
      fuzzParams(ms),
    );
  });

  test(`fuzz ${extractor.name}: mutated valid exchanges never throw`, () => {
    fc.assert(
      fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 3 }), pointsArb, mutationsArb, (xs, pts, muts) => {
        const segs: FuzzSegment[] = [];
        for (const x of xs) segs.push(...cutAt('request', Buffer.from(x.req), pts), ...cutAt('response', Buffer.from(x.resp), pts));
        mutate(segs, muts);
        for (const r of playSegments(small, segs)) checkRecord(r, SMALL_CAPTURE);
      }),
      fuzzParams(ms),
    );
  });
}

/** an HTTP/1.1 message with a Content-Length body */
export function message(startLine: string, headers: readonly (readonly [string, string])[], body = ''): string {
  let s = `${startLine}\r\n`;
  for (const [k, v] of headers) s += `${k}: ${v}\r\n`;
  return `${s}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
