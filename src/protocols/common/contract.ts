/**
 * The contract every protocol implements (house rule 5).
 *
 * Bytes arrive per connection and per direction as segments: the captured prefix of
 * one syscall's payload plus the number of bytes that really crossed the socket
 * (`wireLen`), which may be larger than the prefix. Bytes past the prefix are a
 * *gap*: their length is known, their content is not.
 *
 * Parsers are pure: Buffers in, frames and records out; no I/O, no timers, no throws.
 */
import type { StreamBuffer } from './stream.ts';

/** Which side of an exchange a byte stream carries. */
export type MessageType = 'request' | 'response';

/**
 * What a parse step did with the buffer.
 * - `success`: a whole frame was parsed and consumed from the buffer.
 * - `needs-more-data`: nothing was consumed; call again when more bytes arrive.
 * - `invalid`: nothing was consumed; the bytes at the head are not a frame. The
 *   driver resynchronises with `findFrameBoundary` and counts an error.
 * - `ignored`: a well-formed frame that yields nothing was consumed (e.g. an
 *   interim 100 Continue, a keep-alive no-op).
 * - `eos`: the stream can never carry another frame of this protocol (e.g. the
 *   connection switched protocols with 101); the driver stops parsing it.
 */
export type ParseState = 'success' | 'needs-more-data' | 'invalid' | 'ignored' | 'eos';

export interface ParseResult<F> {
  readonly state: ParseState;
  /** set when state is 'success' */
  readonly frame?: F;
  /**
   * With `eos`: the peer speaks a version of the protocol newer (or other) than the parser knows
   * (e.g. `AMQP 1.0`, `MQTT level 6`), as the protocol names it. The parser stops rather than
   * mis-parse; the session counts it (`unsupportedVersions`) and keeps the last one seen.
   * With `ignored`: one message of a version the parser does not know was skipped whole (its
   * length is known, e.g. a Kafka request of a newer API version); counted the same way, the
   * stream goes on.
   */
  readonly unsupportedVersion?: string;
}

/** Common to every parsed frame: when its first and last bytes crossed the socket. */
export interface FrameTiming {
  /** monotonic ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns) of the segment holding the first byte */
  readonly startNs: number;
  /** monotonic ns of the segment holding the last byte */
  readonly endNs: number;
}

export interface StitchResult<R> {
  readonly records: R[];
  /** frames that could not be paired or were malformed */
  readonly errorCount: number;
}

/** How a protocol's bytes become records; detection and naming are its descriptor's (descriptor.ts). */
export interface ProtocolParser<Req extends FrameTiming, Resp extends FrameTiming, Rec, State> {
  /** Per-connection state (prepared statements, pending requests, ...). */
  newState(): State;
  /**
   * Offset >= `from` (relative to the head of the buffer) where a frame of `type` may start,
   * or -1 if none is in the captured bytes. Used to resynchronise after `invalid`.
   * A proper prefix of a frame start at the very end of the buffer (e.g. `GE` when more bytes
   * may still arrive) counts as a place where a frame may start, so that a frame split across
   * segments right after garbage is not lost.
   */
  findFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number;
  /**
   * Try to parse one frame at the head of `buf`; see ParseState for what is consumed.
   * - When `buf.ended` is set (the connection closed), frames delimited by the end of the
   *   stream (e.g. an HTTP response read until close) may complete.
   * - While returning `needs-more-data`, a parser may cache its progress (keyed by
   *   `buf.id` and `buf.position`) and may release captured bytes it will never read again
   *   with `buf.forget()`; neither changes offsets or length.
   */
  parseFrame(type: MessageType, buf: StreamBuffer, state: State): ParseResult<Req | Resp>;
  /**
   * Pair parsed requests with responses, removing what it pairs from both arrays.
   * With `closing` set (connection closed or timed out), unanswered requests are
   * flushed as records where the protocol has a meaning for that (e.g. HTTP status 0).
   * `nowNs` is the monotonic time of the event that triggered this call (the segment just
   * fed, or the close); flushed records use it as their end time.
   */
  stitch(requests: Req[], responses: Resp[], state: State, closing: boolean, nowNs?: number): StitchResult<Rec>;
}

/**
 * Where a stream of a multiplexed protocol (HTTP/2) starts and where its response starts, in the
 * order its parser met them (ingest/correlation.ts decides the stream's span ids there, before
 * its record completes). Pure data: the parser only appends.
 */
export interface StreamEvent {
  readonly kind: 'start' | 'response';
  readonly streamId: number;
  /** monotonic ns of the segment holding the first byte of the stream's header block */
  readonly ns: number;
  /** `traceparent` of the request's headers (start only) */
  readonly traceparent?: string;
}

/** The per-connection state of a multiplexed protocol's parser (HTTP/2). */
export interface MultiplexedState {
  /**
   * Stream events since the caller last emptied the array; undefined (the default) when nobody
   * reads them, and nothing is kept. At most `MAX_STREAM_EVENTS` (oldest dropped).
   */
  streamEvents: StreamEvent[] | undefined;
  /** the stream each record handed out belongs to */
  readonly recordStream: WeakMap<object, number>;
}

/** stream events kept at most between two reads */
export const MAX_STREAM_EVENTS = 512;

export function isMultiplexedState(s: unknown): s is MultiplexedState {
  return typeof s === 'object' && s !== null && 'recordStream' in s && (s as { recordStream: unknown }).recordStream instanceof WeakMap;
}

/** append a stream event when someone reads them (bounded) */
export function pushStreamEvent(s: MultiplexedState, ev: StreamEvent): void {
  const evs = s.streamEvents;
  if (evs === undefined) return;
  if (evs.length >= MAX_STREAM_EVENTS) evs.shift();
  evs.push(ev);
}
