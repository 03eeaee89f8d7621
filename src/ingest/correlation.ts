/**
 * The ingest side of correlation (docs/devdocs/correlation.md): tells the correlator where each
 * request and response of a connection starts, keeps the span context decided at a request's
 * start until its record completes, and hands it out with that record (matched by the request's
 * start timestamp, which is the timestamp of the segment holding its first byte).
 */
import type { CorrelatedConn, RequestCorrelator, SpanCtx, WireCtx } from '../common/trace.ts';
import { ObiCtxFlags } from '../abi/events.ts';
import { isMultiplexedState } from '../protocols/common/contract.ts';
import type { ProtocolDescriptor } from '../protocols/common/descriptor.ts';
import type { ProtocolRecord } from '../protocols/common/records.ts';

/** span contexts of requests started and not yet completed, kept per connection at most */
const MAX_STARTS = 16;
/** multiplexed connections: span contexts of streams started and not yet completed, at most (the HTTP/2 parser's stream cap) */
const MAX_STREAMS = 256;

export interface CorrelationState {
  readonly conn: CorrelatedConn;
  /** the last segment fed was of the request direction */
  inRequest: boolean;
  /** span contexts decided at request starts, by the start's timestamp, until their record completes */
  starts: { ns: number; ctx: SpanCtx }[];
  /** multiplexed connections (HTTP/2): span contexts decided at stream starts, by stream id, until their record completes */
  streams: Map<number, SpanCtx> | undefined;
  /** `headers`: ids the kernel gave client streams (OBI_EV_STREAM), by stream id, until the stream starts */
  wireStreams: Map<number, WireCtx> | undefined;
}

/** what of an ingest connection correlation reads */
export interface CorrelatableConn {
  readonly pid: number;
  role: 'server' | 'client' | 'unknown';
  tid: number;
  readonly tuple: { localAddr: Uint8Array; remoteAddr: Uint8Array; localPort: number; remotePort: number };
  bound?: { readonly descriptor: ProtocolDescriptor };
  corr?: CorrelationState;
}

export function correlationState(c: CorrelatableConn): CorrelationState {
  if (c.corr !== undefined) return c.corr;
  const t = c.tuple;
  c.corr = {
    conn: {
      pid: c.pid,
      role: c.role === 'client' ? 'client' : 'server',
      localKey: `${Buffer.from(t.localAddr).toString('hex')}:${t.localPort}`,
      remoteKey: `${Buffer.from(t.remoteAddr).toString('hex')}:${t.remotePort}`,
      wire: c.bound?.descriptor.wire,
    },
    inRequest: false,
    starts: [],
    streams: undefined,
    wireStreams: undefined,
  };
  return c.corr;
}

/** the kernel's ids carried by a data record (`ctx_flags`, `trace_id`, ...: bpf/abi/events.h) */
export interface RecordIds {
  readonly ctxFlags: number;
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly parentId: Uint8Array;
}

/** a Buffer over the memory of the last ids converted (a drain's batch): one per batch, not one per record */
let hexMem: ArrayBufferLike | undefined;
let hexBuf: Buffer = Buffer.alloc(0);

function hex(b: Uint8Array, len = b.byteLength): string {
  if (b.buffer !== hexMem) {
    hexMem = b.buffer;
    hexBuf = Buffer.from(b.buffer);
  }
  return hexBuf.toString('hex', b.byteOffset, b.byteOffset + len);
}

/** the three ids in hex, trace (32 digits), span (16), parent (16): one conversion when they lie as in the record */
function idsHex(r: RecordIds): string {
  // each field read once: a record's arrays are views made when read
  const t = r.traceId;
  const s = r.spanId;
  const p = r.parentId;
  if (s.buffer === t.buffer && p.buffer === t.buffer && s.byteOffset === t.byteOffset + 16 && p.byteOffset === t.byteOffset + 24) return hex(t, 32);
  return hex(t) + hex(s) + hex(p);
}

/** the wire context of a record, when the kernel decided one */
export function wireOf(r: RecordIds | undefined): WireCtx | undefined {
  if (r === undefined || (r.ctxFlags & ObiCtxFlags.OBI_CTX_SET) === 0) return undefined;
  const remote = (r.ctxFlags & ObiCtxFlags.OBI_CTX_REMOTE) !== 0;
  const inherited = (r.ctxFlags & ObiCtxFlags.OBI_CTX_INHERITED) !== 0;
  const header = (r.ctxFlags & ObiCtxFlags.OBI_CTX_HEADER) !== 0; // the same traceparent user space reads (peekTraceparent)
  const h = idsHex(r);
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48), parentId: remote || inherited || header ? h.slice(48, 64) : undefined, remote, inherited };
}

/** one segment of a connection whose protocol is known, before it is fed to its session */
export function correlateSegment(corr: RequestCorrelator, c: CorrelatableConn, isReq: boolean, payload: Buffer, tsNs: number, ids?: RecordIds): void {
  const st = correlationState(c);
  const cc = st.conn;
  if (cc.wire === undefined) cc.wire = c.bound?.descriptor.wire;
  if (st.streams !== undefined || isReq === st.inRequest) {
    // multiplexed: requests and responses of many streams interleave; their starts come from the parser (correlateStreams)
    corr.segment(cc, c.tid);
    return;
  }
  st.inRequest = isReq;
  if (!isReq) {
    corr.responseStart(cc, c.tid, tsNs);
    return;
  }
  const ctx = corr.requestStart(cc, c.tid, tsNs, payload, wireOf(ids));
  if (ctx === undefined) return;
  const starts = st.starts;
  if (starts.length >= MAX_STARTS) starts.shift();
  starts.push({ ns: tsNs, ctx });
}

/** the context decided at the start of the request of `rec`, taken once */
export function startOf(st: CorrelationState | undefined, rec: ProtocolRecord): SpanCtx | undefined {
  const starts = st?.starts;
  if (starts === undefined || starts.length === 0) return undefined;
  for (let i = 0; i < starts.length; i++) {
    if (starts[i].ns === rec.startNs) {
      const ctx = starts[i].ctx;
      starts.splice(0, i + 1); // older starts will have no record (their requests never completed)
      return ctx;
    }
  }
  return undefined;
}

/**
 * A session was just bound to `c`: when its parser's state is multiplexed (HTTP/2), ask it for its
 * stream events; the connection's ids are then decided per stream (`correlateStreams`).
 */
export function enableStreams(c: CorrelatableConn, state: unknown): void {
  if (!isMultiplexedState(state)) {
    if (c.corr !== undefined) c.corr.streams = undefined; // bound anew (TLS plaintext after ciphertext) to a protocol that is not
    return;
  }
  state.streamEvents = [];
  correlationState(c).streams = new Map();
}

/** after a segment was fed: the stream starts and response starts the parser met in it, in order */
export function correlateStreams(corr: RequestCorrelator, c: CorrelatableConn, state: unknown): void {
  const st = c.corr;
  if (st?.streams === undefined || !isMultiplexedState(state)) return;
  const evs = state.streamEvents;
  if (evs === undefined || evs.length === 0) return;
  const cc = st.conn;
  if (cc.wire === undefined) cc.wire = c.bound?.descriptor.wire;
  for (let i = 0; i < evs.length; i++) {
    const ev = evs[i];
    if (ev.kind === 'response') {
      corr.streamResponse?.(cc, ev.streamId, c.tid, ev.ns);
      continue;
    }
    const wire = st.wireStreams?.get(ev.streamId);
    if (wire !== undefined) st.wireStreams!.delete(ev.streamId);
    const ctx = corr.streamStart?.(cc, ev.streamId, c.tid, ev.ns, ev.traceparent, wire);
    if (ctx === undefined) continue;
    const streams = st.streams;
    if (streams.size >= MAX_STREAMS) {
      const oldest = streams.keys().next().value;
      if (oldest !== undefined) streams.delete(oldest);
    }
    streams.set(ev.streamId, ctx);
  }
  evs.length = 0;
}

/** `headers`: the kernel gave client stream `streamId` of `c` these ids and sent them in its HEADERS */
export function correlateWireStream(c: CorrelatableConn, streamId: number, ids: RecordIds): void {
  const wire = wireOf(ids);
  if (wire === undefined) return;
  const st = correlationState(c);
  const m = (st.wireStreams ??= new Map());
  if (m.size >= MAX_STREAMS) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) m.delete(oldest);
  }
  m.set(streamId, wire);
}

/** the context decided at the start of the request (or stream) of `rec`, taken once */
export function contextOf(corr: RequestCorrelator | undefined, c: CorrelatableConn, rec: ProtocolRecord, state: unknown, tsNs: number): SpanCtx | undefined {
  const st = c.corr;
  if (st?.streams === undefined) return startOf(st, rec);
  const sid = isMultiplexedState(state) ? state.recordStream.get(rec) : undefined;
  if (sid === undefined) return undefined;
  const ctx = st.streams.get(sid);
  st.streams.delete(sid);
  corr?.streamEnd?.(st.conn, sid, tsNs);
  return ctx;
}
