import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamBuffer } from './stream.ts';

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** "abc" + gap 2, "de" (no gap), "f" + gap 3  => wire: a b c _ _ d e f _ _ _ */
function sample(): StreamBuffer {
  const b = new StreamBuffer();
  b.append(B('abc'), 5, 10);
  b.append(B('de'), 2, 20);
  b.append(B('f'), 4, 30);
  return b;
}

test('length, capturedLength, byteAt, isGap, tsAt', () => {
  const b = sample();
  assert.equal(b.length, 11);
  assert.equal(b.capturedLength, 6);
  assert.equal(b.segmentCount, 3);
  const bytes = [...Array(11).keys()].map((i) => b.byteAt(i));
  assert.deepEqual(bytes, [0x61, 0x62, 0x63, -1, -1, 0x64, 0x65, 0x66, -1, -1, -1]);
  assert.deepEqual([...Array(11).keys()].map((i) => b.isGap(i)), [false, false, false, true, true, false, false, false, true, true, true]);
  assert.equal(b.byteAt(-1), -1);
  assert.equal(b.byteAt(11), -1);
  assert.equal(b.isGap(11), false);
  assert.deepEqual([0, 4, 5, 6, 7, 10, 99].map((i) => b.tsAt(i)), [10, 10, 20, 20, 30, 30, 30]);
  assert.equal(new StreamBuffer().tsAt(0), 0);
});

test('capturedRunEnd and gapEnd follow runs across segments', () => {
  const b = sample();
  assert.equal(b.capturedRunEnd(0), 3);
  assert.equal(b.capturedRunEnd(2), 3);
  assert.equal(b.capturedRunEnd(3), 3); // in a gap
  assert.equal(b.capturedRunEnd(5), 8); // "de" then "f": no gap between
  assert.equal(b.gapEnd(3), 5);
  assert.equal(b.gapEnd(0), 0);
  assert.equal(b.gapEnd(9), 11);
  const g = new StreamBuffer();
  g.append(B('a'), 3, 1);
  g.append(B(''), 4, 2); // all-gap segment continues the gap
  g.append(B('b'), 1, 3);
  assert.equal(g.gapEnd(1), 7);
  assert.equal(g.capturedRunEnd(7), 8);
});

test('indexOf searches captured bytes only, across segment boundaries but never across gaps', () => {
  const b = new StreamBuffer();
  b.append(B('xx\r'), 3, 1);
  b.append(B('\nyy\r'), 6, 2); // "\r" then a gap of 2
  b.append(B('\nzz'), 3, 3);
  assert.equal(b.indexOf(B('\r\n')), 2);
  assert.equal(b.indexOf(B('\r\n'), 3), -1); // the second \r is followed by a gap
  assert.equal(b.indexOf(0x0a), 3);
  assert.equal(b.indexOf(0x0a, 4), 9);
  assert.equal(b.indexOf(0x0a, 4, 9), -1);
  assert.equal(b.indexOf(B('zz')), 10);
  assert.equal(b.indexOf(B('zz'), 0, 11), -1); // must end within `to`
  assert.equal(b.indexOf(B('x\r\ny')), 1);
  assert.equal(b.indexOf(B('q')), -1);
});

test('slice: a view inside one segment, a copy across segments, null on gaps', () => {
  const src = B('hello');
  const b = new StreamBuffer();
  b.append(src, 5, 1);
  b.append(B('world'), 8, 2);
  const v = b.slice(1, 4) as Buffer;
  const c = b.slice(3, 7) as Buffer;
  assert.equal(v.toString(), 'ell');
  assert.equal(c.toString(), 'lowo');
  src[1] = 0x45;
  assert.equal(v.toString(), 'Ell'); // zero-copy view
  assert.equal(c.toString(), 'lowo'); // a copy
  assert.equal(b.slice(8, 11), null); // gap
  assert.equal(b.slice(9, 14), null); // out of range
  assert.equal(b.slice(4, 4)?.length, 0);
});

test('consume across segments and gaps; clear; position', () => {
  const b = sample();
  b.consume(4);
  assert.equal(b.position, 4);
  assert.equal(b.length, 7);
  assert.equal(b.capturedLength, 3);
  assert.equal(b.byteAt(1), 0x64);
  assert.equal(b.tsAt(0), 10);
  b.consume(2);
  assert.equal(b.byteAt(0), 0x65);
  assert.equal(b.segmentCount, 2);
  b.clear();
  assert.equal(b.length, 0);
  assert.equal(b.capturedLength, 0);
  assert.equal(b.position, 11);
  assert.equal(b.segmentCount, 0);
  assert.equal(b.droppedBytes, 0);
});

test('append ignores empty segments and treats wireLen < data.length as data.length', () => {
  const b = new StreamBuffer();
  b.append(B(''), 0, 1);
  assert.equal(b.segmentCount, 0);
  b.append(B('abc'), 1, 2);
  assert.equal(b.length, 3);
  assert.equal(b.isGap(2), false);
});

test('caps: append drops older segments, compact enforces fully, all counted', () => {
  const b = new StreamBuffer({ maxCapturedBytes: 10, maxSegments: 3, maxWireBytes: 1000 });
  b.append(B('aaaa'), 4, 1);
  b.append(B('bbbb'), 4, 2);
  b.append(B('cccc'), 4, 3); // 12 captured > 10: "aaaa" dropped
  assert.equal(b.droppedBytes, 4);
  assert.equal(b.length, 8);
  assert.equal(b.byteAt(0), 0x62);
  b.append(B('0123456789abcdef'), 16, 4); // older segments dropped; the new one kept whole
  assert.equal(b.droppedBytes, 12);
  assert.equal(b.capturedLength, 16);
  b.compact(); // now the head of the newest segment goes
  assert.equal(b.capturedLength, 10);
  assert.equal(b.droppedBytes, 18);
  assert.equal(b.slice(0, 10)?.toString(), '6789abcdef');
  const w = new StreamBuffer({ maxWireBytes: 100 });
  w.append(B('x'), 80, 1);
  w.append(B('y'), 50, 2);
  assert.equal(w.droppedBytes, 80);
  w.append(B('z'), 200, 3);
  w.compact();
  assert.equal(w.length, 100);
  assert.equal(w.droppedBytes, 80 + 50 + 100);
  const s = new StreamBuffer({ maxSegments: 2 });
  for (let i = 0; i < 5; i++) s.append(B('s'), 1, i);
  assert.equal(s.segmentCount, 2);
  assert.equal(s.droppedBytes, 3);
});

test('compact copies retained bytes so the caller may reuse its Buffer', () => {
  const shared = B('GET /abc');
  const b = new StreamBuffer();
  b.append(shared, 8, 1);
  b.consume(4);
  b.compact();
  shared.fill(0x21);
  assert.equal(b.slice(0, 4)?.toString(), '/abc');
  assert.equal(b.length, 4);
  assert.equal(b.capturedLength, 4);
  assert.equal(b.position, 4);
  b.append(B('!'), 3, 2);
  assert.equal(b.capturedRunEnd(0), 5);
  assert.equal(b.gapEnd(5), 7);
});

test('forget turns captured bytes into gap, splitting and merging segments', () => {
  const b = new StreamBuffer();
  b.append(B('head|body1'), 10, 1);
  b.append(B('body2'), 5, 2);
  b.append(B('body3'), 5, 3);
  b.append(B('tail'), 4, 4);
  b.forget(5, 22); // from "body1" to the middle of "tail"
  assert.equal(b.length, 24);
  assert.equal(b.capturedLength, 5 + 2);
  assert.equal(b.slice(0, 5)?.toString(), 'head|');
  assert.equal(b.isGap(5), true);
  assert.equal(b.isGap(21), true);
  assert.equal(b.slice(22, 24)?.toString(), 'il');
  assert.equal(b.gapEnd(5), 22);
  assert.equal(b.tsAt(0), 1);
  assert.equal(b.tsAt(23), 4);
  // the fully released middle segments (and the released head of "tail") were merged into one
  assert.equal(b.segmentCount, 3);
  b.consume(22);
  assert.equal(b.slice(0, 2)?.toString(), 'il');
  assert.equal(b.capturedLength, 2);
});

test('end marks the stream ended and later appends are ignored', () => {
  const b = new StreamBuffer();
  b.append(B('a'), 1, 1);
  b.end();
  b.append(B('b'), 1, 2);
  assert.equal(b.ended, true);
  assert.equal(b.length, 1);
});

/** reference model: one entry per wire byte, -1 for gap, plus ts */
interface Model {
  bytes: number[];
  ts: number[];
}

type Op =
  | { op: 'append'; data: number[]; gap: number }
  | { op: 'consume'; n: number }
  | { op: 'forget'; a: number; b: number }
  | { op: 'compact' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('append' as const), data: fc.array(fc.integer({ min: 0, max: 3 }).map((x) => 0x61 + x), { maxLength: 8 }), gap: fc.nat(5) }),
  fc.record({ op: fc.constant('consume' as const), n: fc.nat(12) }),
  fc.record({ op: fc.constant('forget' as const), a: fc.nat(20), b: fc.nat(20) }),
  fc.record({ op: fc.constant('compact' as const) }),
);

test('property: StreamBuffer agrees with a byte-array model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 30 }), fc.array(fc.integer({ min: 0x61, max: 0x64 }), { minLength: 1, maxLength: 3 }), (ops, needle) => {
      const b = new StreamBuffer();
      const m: Model = { bytes: [], ts: [] };
      let ts = 0;
      for (const o of ops) {
        if (o.op === 'append') {
          ts++;
          b.append(Buffer.from(o.data), o.data.length + o.gap, ts);
          for (const x of o.data) {
            m.bytes.push(x);
            m.ts.push(ts);
          }
          for (let i = 0; i < o.gap; i++) {
            m.bytes.push(-1);
            m.ts.push(ts);
          }
        } else if (o.op === 'consume') {
          b.consume(o.n);
          m.bytes.splice(0, o.n);
          m.ts.splice(0, o.n);
        } else if (o.op === 'forget') {
          b.forget(o.a, o.b);
          for (let i = o.a; i < o.b && i < m.bytes.length; i++) m.bytes[i] = -1;
        } else {
          b.compact();
        }
        const n = m.bytes.length;
        assert.equal(b.length, n);
        assert.equal(b.capturedLength, m.bytes.filter((x) => x >= 0).length);
        for (let i = 0; i < n; i++) {
          assert.equal(b.byteAt(i), m.bytes[i]);
          assert.equal(b.isGap(i), m.bytes[i] < 0);
          // timestamps are exact outside released ranges
          if (m.bytes[i] >= 0) assert.equal(b.tsAt(i), m.ts[i]);
          let re = i;
          if (m.bytes[i] >= 0) while (re < n && m.bytes[re] >= 0) re++;
          assert.equal(b.capturedRunEnd(i), re);
          let ge = i;
          if (m.bytes[i] < 0) while (ge < n && m.bytes[ge] < 0) ge++;
          assert.equal(b.gapEnd(i), ge);
        }
        for (let from = 0; from <= n; from += 3) {
          let want = -1;
          for (let i = from; i + needle.length <= n && want < 0; i++) {
            if (needle.every((x, j) => m.bytes[i + j] === x)) want = i;
          }
          assert.equal(b.indexOf(Buffer.from(needle), from), want);
          assert.equal(b.indexOf(needle[0], from), m.bytes.indexOf(needle[0], from));
        }
        const s0 = Math.min(2, n);
        const s1 = Math.min(7, n);
        const sl = b.slice(s0, s1);
        const want = m.bytes.slice(s0, s1);
        if (want.includes(-1)) assert.equal(sl, null);
        else assert.deepEqual([...(sl as Buffer)], want);
      }
    }),
    { numRuns: 300 },
  );
});
