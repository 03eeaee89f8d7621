// Over 400 lines: one state machine (frames, header blocks, streams, records) whose parts share the per-connection state.
/**
 * The HTTP/2 parser: frames of both directions of one connection into one record per stream.
 *
 * Multiplexed streams do not fit FIFO request/response pairing, so this parser keeps the
 * streams in its per-connection state and completes a record when a stream ends (the response's
 * END_STREAM, or a reset). `parseFrame` consumes one frame (or a piece of a DATA payload) and
 * returns `success` with a marker frame when records are ready; `stitch` hands them over.
 *
 * - Request direction: the client preface (absent on a connection that predates the agent:
 *   both HPACK tables then start unknown), or an HTTP/1.1 `Upgrade: h2c` head (stream 1).
 * - DATA payloads are consumed as they stream by, captured or not: only sizes and gRPC message
 *   prefixes are read, so a body of any size neither waits nor fills the buffer.
 * - Other frames are parsed whole; a HEADERS/CONTINUATION fragment that was not captured (a
 *   gap) costs the direction its HPACK table (it becomes unknown, see hpack.ts), not its framing.
 * - A frame header that cannot be read or breaks the protocol → `invalid` (the session counts it
 *   and resynchronises at the next plausible frame header); the table becomes unknown.
 * - Payloads for the HTTP extractors (GraphQL, GenAI, ...; src/protocols/common/http-extract.ts):
 *   only when created with a capture limit (`http_payload_capture`), a plain (non-gRPC) stream
 *   keeps its regular header fields (not the pseudo-headers) and the first `capture` bytes of
 *   each direction's DATA payloads (padding excluded), up to the first byte not captured; its
 *   HTTP record then carries them as `payload`, as HTTP/1 records do.
 * Bounded: streams per connection capped (oldest dropped, counted), header blocks capped, body
 * bytes kept per connection capped (MAX_KEPT_PER_CONNECTION: past it, bodies are cut).
 */
import type { MessageType, ParseResult, StitchResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import type { HttpRecord, RpcRecord } from '../common/records.ts';
import {
  CONTINUATION,
  DATA,
  DEFAULT_MAX_FRAME,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_HEADER,
  GOAWAY,
  HEADERS,
  MAX_MAX_FRAME,
  PREFACE,
  PRIORITY,
  PUSH_PROMISE,
  RST_STREAM,
  SETTINGS,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_MAX_FRAME_SIZE,
  WINDOW_UPDATE,
  bufferChainAt,
  plausibleHeader,
} from './frame.ts';
import { GRPC_DEADLINE_EXCEEDED, MessageCounter, parseGrpcTimeout, statusForReset } from './grpc.ts';
import { HpackDecoder, type HeaderField } from './hpack.ts';
import { MAX_PAYLOAD_HEADERS, MAX_PAYLOAD_HEADER_VALUE } from '../common/http-extract.ts';
import { decodedPayload } from '../common/content-coding.ts';
import type { Direction, Http2Counters, Http2Output, Http2Record, Http2State, KeptBody, Stream } from './types.ts';

/** concurrent streams tracked per connection */
export const MAX_STREAMS = 256;
/** largest header block (all its fragments) decoded */
export const MAX_HEADER_BLOCK = 64 * 1024;
/** largest non-DATA frame waited for whole (the stream buffer holds 64 KiB of captured bytes) */
const MAX_WHOLE_FRAME = 60 * 1024;
/** body bytes kept per connection for the extractors, all open streams together */
export const MAX_KEPT_PER_CONNECTION = 1024 * 1024;

const NEEDS_MORE: ParseResult<never> = { state: 'needs-more-data' };
const IGNORED: ParseResult<never> = { state: 'ignored' };
const INVALID: ParseResult<never> = { state: 'invalid' };
const EMPTY: readonly never[] = [];
const H1_END = Buffer.from('\r\n\r\n', 'latin1');
const SWITCHING = Buffer.from('HTTP/1.1 101', 'latin1');

export function newCounters(): Http2Counters {
  return { partialStreams: 0, unreportedStreams: 0, headerBlocksLost: 0, desyncs: 0, streamsDropped: 0 };
}

function newDirection(): Direction {
  return { hpack: new HpackDecoder(), maxFrame: DEFAULT_MAX_FRAME, started: false, h1: 'none', dataLeft: 0, dataPad: 0, dataEnd: false, resync: false };
}

export function newState(): Http2State {
  return { request: newDirection(), response: newDirection(), streams: new Map(), lastStreamId: 0, out: [], midStream: false, grpcSeen: false, keptBytes: 0 };
}

const EMPTY_BODY = Buffer.alloc(0);

export class Http2Parser {
  readonly counters: Http2Counters = newCounters();
  /** body bytes kept per stream direction for the HTTP extractors; 0: no payload kept */
  readonly capture: number;

  constructor(capture = 0) {
    this.capture = capture > 0 ? Math.floor(capture) : 0;
  }

  newState(): Http2State {
    return newState();
  }

  findFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
    const d = type === 'request' ? 'request' : 'response';
    void d;
    for (let off = from; off < buf.length; ) {
      if (buf.isGap(off)) {
        off = buf.gapEnd(off);
        continue;
      }
      const end = buf.capturedRunEnd(off);
      for (; off < end; off++) {
        if (end - off < FRAME_HEADER) {
          // too short to check here: a frame may start in what has not arrived yet
          if (end === buf.length) return off;
          break;
        }
        if (bufferChainAt(buf, off, MAX_MAX_FRAME)) return off;
      }
      off = end;
    }
    return -1;
  }

  parseFrame(type: MessageType, buf: StreamBuffer, state: Http2State): ParseResult<Http2Output> {
    const d = type === 'request' ? state.request : state.response;
    if (d.dataLeft > 0) return this._data(type, d, buf, state);
    if (!d.started) {
      const r = this._start(type, d, buf, state);
      if (r !== undefined) return r;
    }
    if (d.h1 === 'head') return this._h1Head(type, d, buf, state);
    if (buf.length < FRAME_HEADER) {
      for (let i = 0; i < buf.length; i++) if (buf.isGap(i)) return this._desync(d, state);
      return NEEDS_MORE;
    }
    const h = buf.slice(0, FRAME_HEADER);
    if (h === null) return this._desync(d, state);
    const length = (h[0] << 16) | (h[1] << 8) | h[2];
    const ftype = h[3];
    const flags = h[4];
    const sid = h.readUInt32BE(5) & 0x7fffffff;
    const reserved = (h[5] & 0x80) !== 0;
    const known = ftype <= CONTINUATION;
    if (known ? !plausibleHeader(length, ftype, sid, reserved, d.maxFrame) : length > d.maxFrame) return this._desync(d, state);
    if (d.resync) {
      if (!known || !this._fits(type, state, ftype, sid)) return this._desync(d, state);
      d.resync = false;
    }
    // a header block in progress admits only its CONTINUATION frames (RFC 9113 §6.10)
    if (d.block !== undefined && (ftype !== CONTINUATION || sid !== d.block.streamId)) {
      d.block = undefined;
      this.counters.headerBlocksLost++;
      return this._desync(d, state);
    }
    if (ftype === DATA) {
      let padLen = 0;
      let head = FRAME_HEADER;
      if ((flags & FLAG_PADDED) !== 0) {
        if (length < 1) return this._desync(d, state);
        if (buf.length < FRAME_HEADER + 1) return NEEDS_MORE;
        const p = buf.byteAt(FRAME_HEADER);
        if (p < 0) return this._desync(d, state);
        if (p >= length) return this._desync(d, state);
        padLen = p;
        head++;
      }
      buf.consume(head);
      const s = state.streams.get(sid);
      d.dataStream = s;
      d.dataLeft = length - (head - FRAME_HEADER);
      d.dataPad = padLen;
      d.dataEnd = (flags & FLAG_END_STREAM) !== 0;
      if (d.dataLeft === 0) return this._dataDone(type, d, buf, state);
      return this._data(type, d, buf, state);
    }
    const total = FRAME_HEADER + length;
    if (buf.length < total) {
      if (total > MAX_WHOLE_FRAME) {
        // too large to wait for whole: skip it as it streams by (a header fragment is lost)
        return this._skipLarge(type, d, buf, state, ftype, sid, flags, total);
      }
      return NEEDS_MORE;
    }
    const ts = buf.tsAt(0);
    const endTs = buf.tsAt(total - 1);
    const payload = buf.slice(FRAME_HEADER, total);
    buf.consume(total);
    if (!known) return this._flush(state, ts, endTs);
    return this._frame(type, d, state, ftype, flags, sid, payload, ts, endTs);
  }

  stitch(requests: Http2Output[], responses: Http2Output[], state: Http2State, closing: boolean): StitchResult<Http2Record> {
    requests.length = 0;
    responses.length = 0;
    if (closing && state.streams.size > 0) {
      this.counters.streamsDropped += state.streams.size;
      state.streams.clear();
      state.keptBytes = 0;
    }
    if (state.out.length === 0) return { records: EMPTY as unknown as Http2Record[], errorCount: 0 };
    const records = state.out.splice(0);
    return { records, errorCount: 0 };
  }

  // ---------------------------------------------------------------- start of a direction

  private _start(type: MessageType, d: Direction, buf: StreamBuffer, state: Http2State): ParseResult<Http2Output> | undefined {
    if (type === 'request') {
      const n = Math.min(buf.length, PREFACE.length);
      let match = 0;
      while (match < n && buf.byteAt(match) === PREFACE[match]) match++;
      if (match === PREFACE.length) {
        d.started = true;
        buf.consume(PREFACE.length);
        return IGNORED;
      }
      if (match === n && !buf.ended && n > 0 && !buf.isGap(n - 1)) return NEEDS_MORE;
      if (isUpgradeHead(buf)) {
        d.started = true;
        d.h1 = 'head';
        return undefined;
      }
      // an HTTP/1.1 request line starts with a letter, a frame header never does (its length would exceed the maximum)
      const c0 = buf.byteAt(0);
      if (c0 >= 0x41 && c0 <= 0x5a && !buf.ended && buf.length < 4096 && buf.capturedRunEnd(0) === buf.length && buf.indexOf(H1_END) < 0) return NEEDS_MORE;
    } else if (buf.byteAt(0) === 0x48 /* H */) {
      const n = Math.min(buf.length, SWITCHING.length);
      let match = 0;
      while (match < n && buf.byteAt(match) === SWITCHING[match]) match++;
      if (match === SWITCHING.length) {
        d.started = true;
        d.h1 = 'head';
        return undefined;
      }
      if (match === n && !buf.ended && !buf.isGap(n - 1)) return NEEDS_MORE;
    }
    d.started = true;
    if (type === 'request') {
      // frames without the client's preface: the connection was open before the agent, and
      // neither side's HPACK table is known (entries inserted from now on are)
      state.midStream = true;
      state.request.hpack.markUnknown();
      state.response.hpack.markUnknown();
    }
    return undefined;
  }

  /** an HTTP/1.1 head before the frames (`Upgrade: h2c` request, `101` response) */
  private _h1Head(type: MessageType, d: Direction, buf: StreamBuffer, state: Http2State): ParseResult<Http2Output> {
    const end = buf.indexOf(H1_END, 0, Math.min(buf.length, 16 * 1024));
    if (end < 0) {
      if (buf.length >= 16 * 1024 || buf.isGap(buf.length - 1)) return this._desync(d, state);
      return NEEDS_MORE;
    }
    const head = buf.slice(0, end);
    const ts = buf.tsAt(0);
    buf.consume(end + 4);
    d.h1 = 'none';
    if (head === null) return this._desync(d, state);
    const text = head.toString('latin1');
    if (type === 'request') {
      // the upgrade request is stream 1 (RFC 9113 §3.2 of RFC 7540): its response comes in frames
      const sp1 = text.indexOf(' ');
      const sp2 = text.indexOf(' ', sp1 + 1);
      if (sp1 <= 0 || sp2 <= sp1) return this._desync(d, state);
      const s = this._newStream(state, 1, ts);
      if (s === undefined) return IGNORED;
      s.method = text.slice(0, sp1);
      s.path = text.slice(sp1 + 1, sp2);
      const host = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(text);
      if (host) s.authority = host[1].trim();
      const ua = /\r\nuser-agent:[ \t]*([^\r\n]*)/i.exec(text);
      if (ua) s.userAgent = ua[1].trim();
      const tp = /\r\ntraceparent:[ \t]*([^\r\n]*)/i.exec(text);
      if (tp) s.traceparent = tp[1].trim();
      const ct = /\r\ncontent-type:[ \t]*([^\r\n]*)/i.exec(text);
      if (ct) s.contentType = ct[1].trim().toLowerCase();
      s.reqEnded = true;
      // the client's preface follows the server's 101
      d.started = false;
      return IGNORED;
    }
    if (!text.startsWith('HTTP/1.1 101')) {
      // the server declined the upgrade: this connection stays HTTP/1.1, not ours to decode
      state.streams.clear();
      return this._desync(d, state);
    }
    return IGNORED;
  }

  // ---------------------------------------------------------------- DATA

  private _data(type: MessageType, d: Direction, buf: StreamBuffer, state: Http2State): ParseResult<Http2Output> {
    const s = d.dataStream;
    while (d.dataLeft > 0 && buf.length > 0) {
      const bodyLeft = d.dataLeft - d.dataPad; // payload bytes before the padding
      let n: number;
      if (buf.isGap(0)) {
        n = Math.min(d.dataLeft, buf.gapEnd(0));
        if (s !== undefined && bodyLeft > 0) {
          this._body(type, s, undefined, 0, Math.min(n, bodyLeft));
          if (s.kept !== undefined) (type === 'request' ? s.kept.request : s.kept.response).cut = true;
        }
      } else {
        n = Math.min(d.dataLeft, buf.capturedRunEnd(0));
        if (s !== undefined && bodyLeft > 0) {
          const k = Math.min(n, bodyLeft);
          const b = buf.slice(0, k);
          this._body(type, s, b ?? undefined, 0, k);
          if (s.kept !== undefined) this._keep(state, type === 'request' ? s.kept.request : s.kept.response, b, k);
        }
      }
      if (s !== undefined) s.endNs = Math.max(s.endNs, buf.tsAt(n - 1));
      buf.consume(n);
      d.dataLeft -= n;
      if (d.dataLeft < d.dataPad) d.dataPad = d.dataLeft;
    }
    if (d.dataLeft > 0) return IGNORED;
    return this._dataDone(type, d, buf, state);
  }

  private _body(type: MessageType, s: Stream, b: Buffer | undefined, start: number, len: number): void {
    const counter = type === 'request' ? (s.reqMsgs ??= new MessageCounter()) : (s.respMsgs ??= new MessageCounter());
    if (type === 'request') s.requestBytes += len;
    else s.responseBytes += len;
    if (b === undefined) counter.gap(len);
    else counter.data(b, start, start + len);
  }

  /** keep the first bytes of a body for the extractors, within the stream's and the connection's bounds */
  private _keep(state: Http2State, k: KeptBody, b: Buffer | null, n: number): void {
    if (k.cut) return;
    if (b === null) {
      k.cut = true;
      return;
    }
    const room = Math.min(this.capture - k.len, MAX_KEPT_PER_CONNECTION - state.keptBytes);
    const take = n < room ? n : room > 0 ? room : 0;
    if (take > 0) {
      k.chunks.push(Buffer.from(b.subarray(0, take))); // a copy: the view dies with the segment
      k.len += take;
      state.keptBytes += take;
    }
    if (take < n) k.cut = true;
  }

  private _dataDone(type: MessageType, d: Direction, buf: StreamBuffer, state: Http2State): ParseResult<Http2Output> {
    const s = d.dataStream;
    d.dataStream = undefined;
    d.dataPad = 0;
    if (s === undefined || !d.dataEnd) return IGNORED;
    const ts = buf.length > 0 ? buf.tsAt(0) : s.endNs;
    return this._endOf(type, s, state, s.endNs > 0 ? s.endNs : ts);
  }

  private _skipLarge(type: MessageType, d: Direction, buf: StreamBuffer, state: Http2State, ftype: number, sid: number, flags: number, total: number): ParseResult<Http2Output> {
    // reuse the DATA machinery to let the payload stream by
    if (ftype === HEADERS || ftype === CONTINUATION || ftype === PUSH_PROMISE) {
      this.counters.headerBlocksLost++;
      d.hpack.markUnknown();
      const s = state.streams.get(sid);
      if (s !== undefined) s.partial = true;
      d.block = ftype !== CONTINUATION && (flags & FLAG_END_HEADERS) === 0 ? { streamId: sid, push: ftype === PUSH_PROMISE, endStream: false, ts: buf.tsAt(0), chunks: [], len: 0, lost: true } : undefined;
    }
    buf.consume(FRAME_HEADER);
    d.dataStream = undefined;
    d.dataLeft = total - FRAME_HEADER;
    d.dataPad = d.dataLeft; // none of it is body
    d.dataEnd = false;
    void type;
    return IGNORED;
  }

  // ---------------------------------------------------------------- other frames

  private _frame(
    type: MessageType,
    d: Direction,
    state: Http2State,
    ftype: number,
    flags: number,
    sid: number,
    payload: Buffer | null,
    ts: number,
    endTs: number,
  ): ParseResult<Http2Output> {
    const other = type === 'request' ? state.response : state.request;
    switch (ftype) {
      case HEADERS:
      case PUSH_PROMISE: {
        if (ftype === PUSH_PROMISE && type === 'request') return this._desync(d, state);
        let frag: Buffer | undefined;
        if (payload !== null) {
          let start = 0;
          let end = payload.length;
          if ((flags & FLAG_PADDED) !== 0) {
            const pad = payload[0];
            start = 1;
            end -= pad;
          }
          if (ftype === HEADERS && (flags & FLAG_PRIORITY) !== 0) start += 5;
          if (ftype === PUSH_PROMISE) start += 4;
          if (start > end) return this._desync(d, state);
          frag = payload.subarray(start, end);
        }
        const block = {
          streamId: sid,
          push: ftype === PUSH_PROMISE,
          endStream: ftype === HEADERS && (flags & FLAG_END_STREAM) !== 0,
          ts,
          chunks: frag === undefined ? [] : [Buffer.from(frag)],
          len: frag === undefined ? 0 : frag.length,
          lost: frag === undefined,
        };
        if ((flags & FLAG_END_HEADERS) === 0) {
          d.block = block;
          return IGNORED;
        }
        return this._headerBlock(type, d, state, block, endTs);
      }
      case CONTINUATION: {
        const block = d.block;
        if (block === undefined) return this._desync(d, state);
        if (payload === null) block.lost = true;
        else if (!block.lost) {
          if (block.len + payload.length > MAX_HEADER_BLOCK) block.lost = true;
          else {
            block.chunks.push(Buffer.from(payload));
            block.len += payload.length;
          }
        }
        if ((flags & FLAG_END_HEADERS) === 0) return IGNORED;
        d.block = undefined;
        return this._headerBlock(type, d, state, block, endTs);
      }
      case RST_STREAM: {
        const s = state.streams.get(sid);
        if (s === undefined) return IGNORED;
        const code = payload === null ? -1 : payload.readUInt32BE(0);
        return this._reset(s, state, code, endTs);
      }
      case SETTINGS: {
        if ((flags & FLAG_ACK) !== 0 || payload === null) return IGNORED;
        for (let p = 0; p + 6 <= payload.length; p += 6) {
          const id = payload.readUInt16BE(p);
          const v = payload.readUInt32BE(p + 2);
          // settings bound what the peer sends: frames and header blocks of the other direction
          if (id === SETTINGS_HEADER_TABLE_SIZE) other.hpack.setLimit(v);
          else if (id === SETTINGS_MAX_FRAME_SIZE && v >= DEFAULT_MAX_FRAME && v <= MAX_MAX_FRAME) other.maxFrame = v;
        }
        return IGNORED;
      }
      case GOAWAY:
      default:
        return IGNORED; // PRIORITY, PING, WINDOW_UPDATE, GOAWAY: nothing to report
    }
  }

  private _headerBlock(
    type: MessageType,
    d: Direction,
    state: Http2State,
    block: { streamId: number; push: boolean; endStream: boolean; ts: number; chunks: Buffer[]; len: number; lost: boolean },
    endTs: number,
  ): ParseResult<Http2Output> {
    let fields: HeaderField[] = [];
    let partial = false;
    if (block.lost) {
      this.counters.headerBlocksLost++;
      d.hpack.markUnknown();
      partial = true;
    } else {
      const r = d.hpack.decode(block.chunks.length === 1 ? block.chunks[0] : Buffer.concat(block.chunks));
      fields = r.fields;
      if (r.status === 'error') {
        this.counters.headerBlocksLost++;
        this.counters.desyncs++;
      }
      partial = r.status !== 'ok';
    }
    if (block.push) return IGNORED; // pushed responses are not reported; the block kept the table in step
    const sid = block.streamId;
    let s = state.streams.get(sid);
    if (type === 'request') {
      if (s === undefined) {
        if ((sid & 1) === 0 || sid <= state.lastStreamId) {
          // a client stream id must be odd and increase (RFC 9113 §5.1.1)
          this.counters.desyncs++;
          return IGNORED;
        }
        s = this._newStream(state, sid, block.ts);
        if (s === undefined) return IGNORED;
        if (partial) s.partial = true;
        for (const [n, v] of fields) requestField(s, n, v);
        if (s.kept !== undefined) {
          // gRPC calls are RPC records, which no extractor reads: keep nothing for them
          if (s.contentType?.startsWith('application/grpc') === true) s.kept = undefined;
          else keepFields(s.kept.request, fields);
        }
      } else if (s.kept !== undefined) keepFields(s.kept.request, fields); // trailers
      if (block.endStream) {
        s.reqEnded = true;
        s.reqMsgs?.end();
      }
      return IGNORED;
    }
    if (s === undefined) return IGNORED; // a stream that started before the agent, or whose request was lost
    if (partial) s.partial = true;
    s.endNs = Math.max(s.endNs, endTs);
    const first = !s.responseHeaders;
    let informational = false;
    for (const [n, v] of fields) {
      if (n === ':status' && first) {
        const st = Number(v);
        if (Number.isInteger(st)) {
          if (st >= 100 && st < 200) informational = true;
          else s.status = st;
        }
      } else if (n === 'grpc-status') {
        const st = Number(v);
        if (Number.isInteger(st) && st >= 0) s.grpcStatus = st;
      } else if (n === 'grpc-message') s.grpcMessage = v;
      else if (n === 'content-type' && first && s.contentType === undefined) s.contentType = v.toLowerCase();
    }
    if (!informational) {
      s.responseHeaders = true;
      if (s.kept !== undefined) keepFields(s.kept.response, fields);
    }
    if (block.endStream) return this._endOf(type, s, state, endTs);
    return IGNORED;
  }

  private _newStream(state: Http2State, sid: number, ts: number): Stream | undefined {
    state.lastStreamId = sid;
    if (state.streams.size >= MAX_STREAMS) {
      const oldest = state.streams.keys().next().value as number;
      release(state, state.streams.get(oldest));
      state.streams.delete(oldest);
      this.counters.streamsDropped++;
    }
    const s: Stream = { id: sid, startNs: ts, endNs: ts, responseHeaders: false, requestBytes: 0, responseBytes: 0, reqEnded: false, partial: false };
    if (this.capture > 0) s.kept = { request: newKept(), response: newKept() };
    state.streams.set(sid, s);
    return s;
  }

  /** END_STREAM in `type`'s direction */
  private _endOf(type: MessageType, s: Stream, state: Http2State, ts: number): ParseResult<Http2Output> {
    if (type === 'request') {
      s.reqEnded = true;
      s.reqMsgs?.end();
      return IGNORED;
    }
    s.respMsgs?.end();
    s.endNs = Math.max(s.endNs, ts);
    return this._complete(s, state, undefined);
  }

  private _reset(s: Stream, state: Http2State, code: number, ts: number): ParseResult<Http2Output> {
    s.endNs = Math.max(s.endNs, ts);
    return this._complete(s, state, code);
  }

  private _complete(s: Stream, state: Http2State, resetCode: number | undefined): ParseResult<Http2Output> {
    state.streams.delete(s.id);
    release(state, s);
    if (s.partial) this.counters.partialStreams++;
    const rec = toRecord(s, resetCode, state);
    if (rec === undefined) {
      if (s.partial) this.counters.unreportedStreams++;
      else this.counters.streamsDropped++;
      return IGNORED;
    }
    state.out.push(rec);
    return this._flush(state, s.startNs, s.endNs);
  }

  private _flush(state: Http2State, startNs: number, endNs: number): ParseResult<Http2Output> {
    if (state.out.length === 0) return IGNORED;
    return { state: 'success', frame: { startNs, endNs, ready: state.out.length } };
  }

  /** after a loss of sync: would a frame of this type on this stream make sense here? (random bytes rarely do) */
  private _fits(type: MessageType, state: Http2State, ftype: number, sid: number): boolean {
    switch (ftype) {
      case HEADERS:
        return state.streams.has(sid) || (type === 'request' && (sid & 1) === 1 && sid > state.lastStreamId && sid <= state.lastStreamId + 2 * MAX_STREAMS);
      case DATA:
      case RST_STREAM:
      case CONTINUATION:
        return state.streams.has(sid);
      case PUSH_PROMISE:
        return type === 'response' && state.streams.has(sid);
      case WINDOW_UPDATE:
        return sid === 0 || state.streams.has(sid);
      default:
        return sid === 0 || ftype === PRIORITY; // SETTINGS, PING, GOAWAY; PRIORITY may name any stream
    }
  }

  private _desync(d: Direction, state: Http2State): ParseResult<Http2Output> {
    this.counters.desyncs++;
    d.resync = true;
    d.hpack.markUnknown();
    d.block = undefined;
    d.dataLeft = 0;
    d.dataPad = 0;
    d.dataStream = undefined;
    d.h1 = 'none';
    void state;
    return INVALID;
  }
}

function newKept(): KeptBody {
  return { headers: [], chunks: [], len: 0, cut: false };
}

/** the stream's kept bytes no longer count against the connection's bound */
function release(state: Http2State, s: Stream | undefined): void {
  const k = s?.kept;
  if (k === undefined) return;
  state.keptBytes -= k.request.len + k.response.len;
  if (state.keptBytes < 0) state.keptBytes = 0;
}

/** keep a header block's regular fields (names are lower case on HTTP/2), within the bounds */
function keepFields(k: KeptBody, fields: readonly HeaderField[]): void {
  for (const [n, v] of fields) {
    if (k.headers.length >= MAX_PAYLOAD_HEADERS) return;
    if (n.length === 0 || n.charCodeAt(0) === 0x3a /* : */) continue;
    k.headers.push([n, v.length > MAX_PAYLOAD_HEADER_VALUE ? v.slice(0, MAX_PAYLOAD_HEADER_VALUE) : v]);
  }
}

function keptBody(k: KeptBody): Buffer {
  return k.chunks.length === 0 ? EMPTY_BODY : k.chunks.length === 1 ? k.chunks[0] : Buffer.concat(k.chunks, k.len);
}

function isUpgradeHead(buf: StreamBuffer): boolean {
  const end = Math.min(buf.capturedRunEnd(0), 4096);
  if (end < 16) return false;
  const head = buf.slice(0, end);
  if (head === null) return false;
  const text = head.toString('latin1');
  if (!/^[A-Z]{3,10} \S+ HTTP\/1\.1\r\n/.test(text)) return false;
  const stop = text.indexOf('\r\n\r\n');
  const hdrs = stop < 0 ? text : text.slice(0, stop);
  return /\r\nupgrade:[ \t]*h2c[ \t]*(\r\n|$)/i.test(hdrs);
}

function requestField(s: Stream, n: string, v: string): void {
  switch (n) {
    case ':method':
      s.method = v;
      break;
    case ':path':
      s.path = v;
      break;
    case ':authority':
      s.authority = v;
      break;
    case 'host':
      if (s.authority === undefined) s.authority = v;
      break;
    case 'content-type':
      s.contentType = v.toLowerCase();
      break;
    case 'traceparent':
      s.traceparent = v;
      break;
    case 'user-agent':
      s.userAgent = v;
      break;
    case 'grpc-timeout':
      s.grpcTimeoutNs = parseGrpcTimeout(v);
      break;
  }
}

const GRPC_PATH = /^\/[^/]+\/[^/]+$/;

function isGrpc(s: Stream, state: Http2State): boolean {
  const ct = s.contentType;
  if (ct !== undefined) {
    const grpc = ct === 'application/grpc' || ct.startsWith('application/grpc+') || ct.startsWith('application/grpc;');
    if (grpc) state.grpcSeen = true;
    return grpc;
  }
  if (!s.partial) return false;
  // content-type not decoded (unknown table): a grpc-status, gRPC seen on this connection, or a
  // POST to /service/method whose request body is length-prefixed messages says gRPC
  if (s.grpcStatus !== undefined || state.grpcSeen) return true;
  const m = s.reqMsgs;
  return (s.method === 'POST' || s.method === undefined) && s.path !== undefined && GRPC_PATH.test(s.path) && m !== undefined && !m.lost && m.count >= 1;
}

function toRecord(s: Stream, resetCode: number | undefined, state: Http2State): Http2Record | undefined {
  if (s.path === undefined) return undefined; // nothing to name it by: never guess
  if (isGrpc(s, state)) {
    let code = s.grpcStatus;
    if (code === undefined && resetCode !== undefined && resetCode >= 0) {
      code = statusForReset(resetCode);
      // a client cancels a call whose deadline passed: that is how it ends for both sides. The
      // timeout was computed before the HEADERS were written, the reset is timed by the client's
      // clock: allow the difference (5% and 5 ms)
      if (s.grpcTimeoutNs !== undefined && s.endNs - s.startNs >= s.grpcTimeoutNs * 0.95 - 5e6) code = GRPC_DEADLINE_EXCEEDED;
    }
    const rec: RpcRecord = {
      category: 'rpc',
      system: 'grpc',
      method: s.path,
      statusCode: code,
      statusMessage: code !== undefined && code !== 0 && s.grpcMessage !== undefined && s.grpcMessage.length > 0 ? decodeGrpcMessage(s.grpcMessage) : undefined,
      authority: s.authority,
      traceparent: s.traceparent,
      requestMessages: s.reqMsgs === undefined ? 0 : s.reqMsgs.lost ? undefined : s.reqMsgs.count,
      responseMessages: s.respMsgs === undefined ? 0 : s.respMsgs.lost ? undefined : s.respMsgs.count,
      requestBodySize: s.requestBytes,
      responseBodySize: s.responseBytes,
      startNs: s.startNs,
      endNs: s.endNs,
      ...(s.partial ? { partial: true } : {}),
    };
    return rec;
  }
  const target = s.path;
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  const pathEnd = q >= 0 ? q : h >= 0 ? h : target.length;
  const rec: HttpRecord = {
    category: 'http',
    method: s.method ?? '_OTHER',
    target,
    path: target.slice(0, pathEnd),
    query: q >= 0 ? target.slice(q + 1, h > q ? h : target.length) : undefined,
    host: s.authority,
    traceparent: s.traceparent,
    userAgent: s.userAgent,
    status: s.status ?? 0,
    requestBodySize: s.requestBytes,
    responseBodySize: s.responseBytes,
    startNs: s.startNs,
    endNs: s.endNs,
    protocolVersion: '2',
    ...(s.partial ? { truncated: true } : {}),
  };
  const k = s.kept;
  if (k === undefined) return rec;
  // a body is whole when its direction ended (END_STREAM) and every byte of it was kept
  return {
    ...rec,
    payload: decodedPayload({
      requestHeaders: k.request.headers,
      responseHeaders: k.response.headers,
      requestBody: keptBody(k.request),
      requestBodyComplete: s.reqEnded && !k.request.cut && k.request.len === s.requestBytes,
      responseBody: keptBody(k.response),
      responseBodyComplete: resetCode === undefined && !k.response.cut && k.response.len === s.responseBytes,
    }),
  };
}

/** grpc-message is percent-encoded (gRPC PROTOCOL-HTTP2) */
function decodeGrpcMessage(v: string): string {
  if (v.indexOf('%') < 0) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
