/** HTTP/2 parser state: per connection, per direction, per stream. */
import type { FrameTiming } from '../common/contract.ts';
import type { HttpHeader, HttpRecord, RpcRecord } from '../common/records.ts';
import type { MessageCounter } from './grpc.ts';
import type { HpackDecoder } from './hpack.ts';

export type Http2Record = HttpRecord | RpcRecord;

/** What parseFrame hands the session: a marker that records are ready in the state (see stitch). */
export interface Http2Output extends FrameTiming {
  readonly ready: number;
}

export interface HeaderBlock {
  readonly streamId: number;
  readonly push: boolean;
  readonly endStream: boolean;
  readonly ts: number;
  readonly chunks: Buffer[];
  len: number;
  /** a fragment was not captured: the block cannot be decoded */
  lost: boolean;
}

export interface Direction {
  readonly hpack: HpackDecoder;
  /** frames in this direction may not exceed this (the receiver's SETTINGS_MAX_FRAME_SIZE) */
  maxFrame: number;
  /** the first bytes have been looked at (preface or mid-connection) */
  started: boolean;
  /** an HTTP/1.1 head precedes the frames (`Upgrade: h2c`): bytes left to skip, -1 while looking for its end */
  h1: 'none' | 'head';
  /** DATA frame in progress: payload bytes left (padding included), padding bytes at its end */
  dataLeft: number;
  dataPad: number;
  dataStream?: Stream;
  dataEnd: boolean;
  /** after a loss of frame sync: frames are accepted only where they make sense for this connection */
  resync: boolean;
  /** HEADERS/PUSH_PROMISE waiting for CONTINUATION */
  block?: HeaderBlock;
}

export interface Stream {
  readonly id: number;
  readonly startNs: number;
  endNs: number;
  method?: string;
  path?: string;
  authority?: string;
  contentType?: string;
  traceparent?: string;
  userAgent?: string;
  grpcTimeoutNs?: number;
  status?: number;
  grpcStatus?: number;
  grpcMessage?: string;
  responseHeaders: boolean;
  requestBytes: number;
  responseBytes: number;
  reqEnded: boolean;
  partial: boolean;
  reqMsgs?: MessageCounter;
  respMsgs?: MessageCounter;
  /** payload kept for the HTTP extractors (only when the parser keeps payloads) */
  kept?: StreamPayload;
}

/** One direction's headers and body prefix kept for the HTTP payload extractors. */
export interface KeptBody {
  readonly headers: HttpHeader[];
  readonly chunks: Buffer[];
  len: number;
  /** a byte of the body was not kept (not captured, over the limit): the prefix ends at `len` */
  cut: boolean;
}

export interface StreamPayload {
  readonly request: KeptBody;
  readonly response: KeptBody;
}

/** Per-parser totals (all connections), read by the agent's self-metrics. */
export interface Http2Counters {
  /** streams whose headers were only partly decoded (unknown HPACK table) */
  partialStreams: number;
  /** of those, streams not reported because the method/path could not be decoded */
  unreportedStreams: number;
  /** header blocks that could not be decoded (lost to a gap, malformed, over the cap) */
  headerBlocksLost: number;
  /** protocol violations and losses of frame sync */
  desyncs: number;
  /** streams dropped: concurrent-stream cap, reset, or still open when the connection ended */
  streamsDropped: number;
}

export interface Http2State {
  readonly request: Direction;
  readonly response: Direction;
  readonly streams: Map<number, Stream>;
  /** highest client stream id seen */
  lastStreamId: number;
  /** completed records waiting for stitch */
  readonly out: Http2Record[];
  /** this connection started mid-stream (opened before the agent) */
  midStream: boolean;
  /** a stream of this connection was decoded as gRPC (content-type): its partly decoded streams are too */
  grpcSeen: boolean;
  /** body bytes kept for the extractors by this connection's open streams (bounded: MAX_KEPT_PER_CONNECTION) */
  keptBytes: number;
}
