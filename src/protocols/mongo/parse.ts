/**
 * MongoDB framing: every message starts with its length, so a frame is complete when that many
 * wire bytes (captured or gap) have arrived; its first `MAX_KEEP` captured bytes are decoded
 * (wire.ts). While a long message arrives, captured bytes past `MAX_KEEP` are released so that
 * it never fills the stream buffer.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import type { MongoFrame, MongoRequestFrame, MongoResponseFrame } from './types.ts';
import { decodeRequest, decodeResponse, HEADER_LEN, MAX_MESSAGE, readHeader, REQUEST_OPCODES, RESPONSE_OPCODES } from './wire.ts';

/** captured bytes of one message decoded at most */
export const MAX_KEEP = 16 * 1024;

/** remembered cursors (id -> collection) per connection, for getMore without its collection */
export const MAX_CURSORS = 256;

export interface Pending {
  readonly req: MongoRequestFrame;
  /** start of the operation: the request's, or the previous reply's end for exhaust replies */
  readonly startNs: number;
}

export interface MongoState {
  /** requests waiting for their reply, by requestID (insertion order = age) */
  readonly pending: Map<number, Pending>;
  readonly maxPending: number;
  /** cursor id -> collection, from find / aggregate replies */
  readonly cursors: Map<string, string>;
}

export function newMongoState(maxPending = 1024): MongoState {
  return { pending: new Map(), maxPending, cursors: new Map() };
}

/** ProtocolParser.parseFrame for MongoDB. */
export function parseMongoFrame(type: MessageType, buf: StreamBuffer, _state: MongoState): ParseResult<MongoFrame> {
  if (buf.length < HEADER_LEN) return { state: 'needs-more-data' };
  const hb = buf.slice(0, HEADER_LEN);
  if (hb === null) return { state: 'invalid' };
  const h = readHeader(hb);
  if (h.length < HEADER_LEN + 4 || h.length > MAX_MESSAGE) return { state: 'invalid' };
  const isReq = type === 'request';
  if (!(isReq ? REQUEST_OPCODES : RESPONSE_OPCODES).has(h.opCode)) return { state: 'invalid' };
  if (buf.length < h.length) {
    if (h.length > MAX_KEEP && buf.length > MAX_KEEP) buf.forget(MAX_KEEP, buf.length);
    return { state: 'needs-more-data' };
  }
  const n = Math.min(buf.capturedRunEnd(0), h.length, MAX_KEEP);
  const b = buf.slice(0, n) ?? hb;
  const startNs = buf.tsAt(0);
  const endNs = buf.tsAt(h.length - 1);
  let frame: MongoFrame;
  if (isReq) {
    const i = decodeRequest(h, b);
    const f: MongoRequestFrame = {
      kind: 'request',
      opCode: i.opCode,
      requestId: h.requestId,
      noReply: i.noReply,
      exhaust: i.exhaust,
      command: i.command,
      collection: i.collection,
      database: i.database,
      cursorId: i.cursorId,
      statement: i.statement,
      compressor: i.compressor,
      truncated: i.truncated,
      startNs,
      endNs,
    };
    frame = f;
  } else {
    const i = decodeResponse(h, b);
    const f: MongoResponseFrame = {
      kind: 'response',
      opCode: i.opCode,
      requestId: h.requestId,
      responseTo: h.responseTo,
      moreToCome: i.moreToCome,
      failed: i.failed,
      code: i.code,
      codeName: i.codeName,
      errmsg: i.errmsg,
      cursorId: i.cursorId,
      cursorNs: i.cursorNs,
      truncated: i.truncated,
      startNs,
      endNs,
    };
    frame = f;
  }
  buf.consume(h.length);
  return { state: 'success', frame };
}
