import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameTiming, MessageType, ParseResult, ProtocolParser } from './contract.ts';
import type { StreamBuffer } from './stream.ts';
import { ProtocolSession } from './session.ts';

/**
 * Toy line protocol: requests `Q<text>\n`, responses `A<text>\n`; `NOOP\n` is ignored,
 * `BYE\n` ends the direction. Anything else at a line start is invalid.
 */
interface Line extends FrameTiming {
  readonly text: string;
}
interface Pair {
  readonly q: string;
  readonly a: string | null;
  readonly startNs: number;
  readonly endNs: number;
}
interface ToyState {
  closes: number;
  lastNow: number | undefined;
}

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

const toy: ProtocolParser<Line, Line, Pair, ToyState> = {
  newState: () => ({ closes: 0, lastNow: undefined }),
  findFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
    const lead = type === 'request' ? 0x51 : 0x41;
    for (let i = from; i < buf.length; i++) if (buf.byteAt(i) === lead) return i;
    return -1;
  },
  parseFrame(type: MessageType, buf: StreamBuffer): ParseResult<Line> {
    const nl = buf.indexOf(0x0a);
    const b0 = buf.byteAt(0);
    const lead = type === 'request' ? 0x51 : 0x41;
    if (b0 !== lead && b0 !== 0x4e && b0 !== 0x42) return { state: 'invalid' };
    if (nl < 0) return { state: 'needs-more-data' };
    const text = (buf.slice(0, nl) as Buffer).toString('latin1');
    const frame = { text: text.slice(1), startNs: buf.tsAt(0), endNs: buf.tsAt(nl) };
    if (text === 'NOOP') {
      buf.consume(nl + 1);
      return { state: 'ignored' };
    }
    if (text === 'BYE') return { state: 'eos' };
    if (b0 !== lead) return { state: 'invalid' };
    buf.consume(nl + 1);
    return { state: 'success', frame };
  },
  stitch(requests, responses, state, closing, nowNs) {
    const records: Pair[] = [];
    let errorCount = 0;
    state.lastNow = nowNs;
    while (requests.length > 0 && responses.length > 0) {
      const q = requests.shift() as Line;
      const a = responses.shift() as Line;
      records.push({ q: q.text, a: a.text, startNs: q.startNs, endNs: a.endNs });
    }
    if (closing) {
      state.closes++;
      for (const q of requests.splice(0)) records.push({ q: q.text, a: null, startNs: q.startNs, endNs: nowNs ?? -1 });
      errorCount += responses.splice(0).length;
    }
    return { records, errorCount };
  },
};

test('feed parses, stitches and returns records; timing comes from segment timestamps', () => {
  const s = new ProtocolSession(toy);
  assert.deepEqual(s.feed('request', B('Qa\nQ'), 4, 10), []);
  assert.deepEqual(s.feed('request', B('b\n'), 2, 20), []);
  assert.equal(s.pendingRequests, 2);
  assert.deepEqual(s.feed('response', B('A1\nA2\n'), 6, 30), [
    { q: 'a', a: '1', startNs: 10, endNs: 30 },
    { q: 'b', a: '2', startNs: 10, endNs: 30 },
  ]);
  assert.equal(s.state.lastNow, 30);
  assert.deepEqual(s.counters(), { invalidFrames: 0, droppedBytes: 0, unpairedFrames: 0, droppedFrames: 0, partialFrames: 0, parserErrors: 0, unsupportedVersions: 0 });
});

test('invalid input resynchronises at the boundary the parser finds', () => {
  const s = new ProtocolSession(toy);
  s.feed('request', B('xyzQok\n'), 7, 1);
  assert.equal(s.invalidFrames, 1);
  assert.equal(s.droppedBytes, 3);
  assert.equal(s.pendingRequests, 1);
});

test('without a boundary, the captured run and the gap after it are dropped', () => {
  const s = new ProtocolSession(toy);
  s.feed('request', B('xyz'), 10, 1); // 3 captured + 7 gap
  assert.equal(s.requestBuffer.length, 0);
  assert.equal(s.droppedBytes, 10);
  s.feed('request', B('Qz\n'), 3, 2);
  assert.equal(s.pendingRequests, 1);
  // a head inside a gap: only the gap is dropped
  const g = new ProtocolSession(toy);
  g.feed('request', B(''), 5, 1);
  assert.equal(g.droppedBytes, 5);
  assert.equal(g.invalidFrames, 1);
});

test('ignored frames are consumed without records; eos stops a direction', () => {
  const s = new ProtocolSession(toy);
  s.feed('request', B('NOOP\nQa\nBYE\nQb\n'), 15, 1);
  assert.equal(s.pendingRequests, 1);
  assert.equal(s.isEos('request'), true);
  assert.equal(s.requestBuffer.length, 0);
  s.feed('request', B('Qc\n'), 3, 2);
  assert.equal(s.pendingRequests, 1);
  assert.equal(s.isEos('response'), false);
});

test('close flushes with closing=true and the close time, counts partial frames once', () => {
  const s = new ProtocolSession(toy);
  s.feed('request', B('Qa\nQpart'), 8, 5);
  s.feed('response', B('A'), 1, 6);
  const out = s.close(99);
  assert.deepEqual(out, [{ q: 'a', a: null, startNs: 5, endNs: 99 }]);
  assert.equal(s.state.closes, 1);
  assert.equal(s.partialFrames, 2);
  assert.equal(s.droppedBytes, 6);
  assert.equal(s.closed, true);
  assert.deepEqual(s.close(100), []);
  assert.deepEqual(s.feed('request', B('Qx\n'), 3, 101), []);
  assert.equal(s.state.closes, 1);
});

test('unpaired frames are the sum of stitch error counts', () => {
  const s = new ProtocolSession(toy);
  s.feed('response', B('A1\nA2\n'), 6, 1);
  s.close(2);
  assert.equal(s.unpairedFrames, 2);
});

test('pending queues are bounded: overflow drops the oldest and counts', () => {
  const s = new ProtocolSession(toy, { maxPendingFrames: 2 });
  s.feed('request', B('Q1\nQ2\nQ3\nQ4\n'), 12, 1);
  assert.equal(s.pendingRequests, 2);
  assert.equal(s.droppedFrames, 2);
  assert.deepEqual(
    s.feed('response', B('Aa\n'), 3, 2).map((r) => r.q),
    ['3'],
  );
});

test('buffer caps apply per direction and are counted in droppedBytes', () => {
  const s = new ProtocolSession(toy, { maxCapturedBytes: 8 });
  s.feed('request', B('Q0123456789'), 11, 1); // no newline yet: 11 captured > 8
  assert.equal(s.requestBuffer.capturedLength, 8);
  assert.equal(s.droppedBytes, 3);
});

test('fed Buffers are not referenced after feed returns', () => {
  const s = new ProtocolSession(toy);
  const shared = B('Qhel');
  s.feed('request', shared, 4, 1);
  shared.fill(0);
  s.feed('request', B('lo\n'), 3, 2);
  assert.deepEqual(s.feed('response', B('Ax\n'), 3, 3), [{ q: 'hello', a: 'x', startNs: 1, endNs: 3 }]);
});

test('a parser that throws or makes no progress cannot wedge the session', () => {
  const throwing: ProtocolParser<Line, Line, Pair, ToyState> = {
    ...toy,
    parseFrame() {
      throw new Error('bug');
    },
  };
  const s = new ProtocolSession(throwing);
  assert.deepEqual(s.feed('request', B('Qa\n'), 3, 1), []);
  assert.equal(s.parserErrors, 1);
  assert.equal(s.requestBuffer.length, 0);
  assert.equal(s.droppedBytes, 3);

  const stuck: ProtocolParser<Line, Line, Pair, ToyState> = {
    ...toy,
    parseFrame: () => ({ state: 'ignored' }),
    findFrameBoundary: () => -1,
  };
  const t = new ProtocolSession(stuck);
  t.feed('request', B('abc'), 3, 1);
  assert.equal(t.requestBuffer.length, 0);
  assert.equal(t.invalidFrames, 1);
});
