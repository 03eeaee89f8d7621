import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STREAM_EVENTS, isMultiplexedState } from '../common/contract.ts';
import { ProtocolSession } from '../common/session.ts';
import { Http2Parser } from './parse.ts';
import type { Http2Record, Http2State } from './types.ts';
import { encodeFrame, literalBlock } from './build.ts';

const frame = encodeFrame;
const block = literalBlock;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const req = (sid: number, extra: [string, string][] = []): Buffer => frame(1, 5, sid, block([[':method', 'GET'], [':scheme', 'http'], [':path', `/s${sid}`], ...extra]));
const resp = (sid: number, flags: number): Buffer => frame(1, flags, sid, block([[':status', '200']]));

function session(): ProtocolSession<never, never, Http2Record, Http2State> {
  return new ProtocolSession(new Http2Parser() as never) as unknown as ProtocolSession<never, never, Http2Record, Http2State>;
}

function feed(s: ProtocolSession<never, never, Http2Record, Http2State>, type: 'request' | 'response', b: Buffer, ts: number): Http2Record[] {
  return [...s.feed(type, b, b.length, ts)];
}

test('stream events: nothing is kept unless asked', () => {
  const s = session();
  assert.ok(isMultiplexedState(s.state));
  feed(s, 'request', Buffer.concat([PREFACE, req(1)]), 1);
  assert.equal(s.state.streamEvents, undefined);
});

test('stream events: starts (with traceparent) and first response headers in order; each record names its stream', () => {
  const s = session();
  s.state.streamEvents = [];
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  feed(s, 'request', Buffer.concat([PREFACE, req(1), req(3, [['traceparent', tp]])]), 10);
  // stream 3: headers, then trailers (END_STREAM); stream 1: one block with END_STREAM
  const recs = [...feed(s, 'response', resp(3, 4), 11), ...feed(s, 'response', frame(1, 5, 3, block([['grpc-status', '0']])), 12), ...feed(s, 'response', resp(1, 5), 13)];
  assert.deepEqual(s.state.streamEvents, [
    { kind: 'start', streamId: 1, ns: 10, traceparent: undefined },
    { kind: 'start', streamId: 3, ns: 10, traceparent: tp },
    { kind: 'response', streamId: 3, ns: 11 },
    { kind: 'response', streamId: 1, ns: 13 },
  ]);
  assert.deepEqual(recs.map((r) => [(r as { path: string }).path, s.state.recordStream.get(r)]), [['/s3', 3], ['/s1', 1]]);
});

test('stream events are bounded when nobody reads them', () => {
  const s = session();
  s.state.streamEvents = [];
  feed(s, 'request', PREFACE, 1);
  for (let i = 0; i < MAX_STREAM_EVENTS + 100; i++) feed(s, 'request', req(2 * i + 1), 2 + i);
  assert.equal(s.state.streamEvents.length, MAX_STREAM_EVENTS);
  assert.equal(s.state.streamEvents.at(-1)!.streamId, 2 * (MAX_STREAM_EVENTS + 99) + 1);
});
