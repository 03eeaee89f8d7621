/**
 * ProtocolSession: drives one ProtocolParser for one connection.
 *
 * Each direction has a StreamBuffer. `feed()` appends a segment, parses frames until the
 * parser needs more data, resynchronises after `invalid`, then stitches. `close()` marks both
 * streams ended (so frames delimited by close can complete), parses once more and stitches
 * with `closing` set. Parsers are trusted not to throw; if one does, the session counts it in
 * `parserErrors`, drops that direction's buffered bytes and carries on.
 *
 * Ownership: `data` passed to `feed()` is not referenced after `feed()` returns (leftover
 * bytes are copied), so a caller may reuse its Buffer.
 */
import type { FrameTiming, MessageType, ProtocolParser } from './contract.ts';
import { StreamBuffer } from './stream.ts';
import type { StreamBufferOptions } from './stream.ts';

/** default cap on frames waiting to be stitched, per direction */
export const DEFAULT_MAX_PENDING_FRAMES = 1024;

export interface SessionOptions extends StreamBufferOptions {
  /** cap on parsed frames waiting to be stitched, per direction (default 1024); overflow drops the oldest */
  readonly maxPendingFrames?: number;
}

export interface SessionCounters {
  /** `invalid` parse results (each followed by a resynchronisation) */
  readonly invalidFrames: number;
  /** wire bytes discarded: buffer caps, resynchronisation skips, partial frames at close */
  readonly droppedBytes: number;
  /** frames stitch could not pair (sum of its errorCount) */
  readonly unpairedFrames: number;
  /** frames dropped because a pending-frame queue was full */
  readonly droppedFrames: number;
  /** directions holding an incomplete frame when the connection closed */
  readonly partialFrames: number;
  /** exceptions thrown by the parser (a parser bug; should stay 0) */
  readonly parserErrors: number;
  /** directions the parser stopped, or messages it skipped, because the peer speaks a protocol version it does not know */
  readonly unsupportedVersions: number;
}

type MutableCounters = { -readonly [K in keyof SessionCounters]: number };

/** Add `k` to the totals of `key` in `into` (a copy of `k` when `key` has none yet). */
export function addSessionCounters(into: Map<string, SessionCounters>, key: string, k: SessionCounters): void {
  const t = into.get(key) as MutableCounters | undefined;
  if (t === undefined) {
    into.set(key, { ...k });
    return;
  }
  t.invalidFrames += k.invalidFrames;
  t.droppedBytes += k.droppedBytes;
  t.unpairedFrames += k.unpairedFrames;
  t.droppedFrames += k.droppedFrames;
  t.partialFrames += k.partialFrames;
  t.parserErrors += k.parserErrors;
  t.unsupportedVersions += k.unsupportedVersions;
}

const NO_RECORDS: readonly never[] = Object.freeze([]);

export class ProtocolSession<Req extends FrameTiming, Resp extends FrameTiming, Rec, State> {
  readonly parser: ProtocolParser<Req, Resp, Rec, State>;
  readonly state: State;
  readonly requestBuffer: StreamBuffer;
  readonly responseBuffer: StreamBuffer;
  readonly maxPendingFrames: number;

  private _requests: Req[] = [];
  private _responses: Resp[] = [];
  private _reqEos = false;
  private _respEos = false;
  private _closed = false;
  private _invalid = 0;
  private _dropped = 0;
  private _unpaired = 0;
  private _droppedFrames = 0;
  private _partial = 0;
  private _parserErrors = 0;
  private _unsupported = 0;
  private _unsupportedVersion: string | undefined;

  constructor(parser: ProtocolParser<Req, Resp, Rec, State>, options?: SessionOptions) {
    this.parser = parser;
    this.state = parser.newState();
    this.requestBuffer = new StreamBuffer(options);
    this.responseBuffer = new StreamBuffer(options);
    const m = options?.maxPendingFrames;
    this.maxPendingFrames = m !== undefined && m > 0 ? m : DEFAULT_MAX_PENDING_FRAMES;
  }

  get invalidFrames(): number {
    return this._invalid;
  }
  get droppedBytes(): number {
    return this._dropped + this.requestBuffer.droppedBytes + this.responseBuffer.droppedBytes;
  }
  get unpairedFrames(): number {
    return this._unpaired;
  }
  get droppedFrames(): number {
    return this._droppedFrames;
  }
  get partialFrames(): number {
    return this._partial;
  }
  get parserErrors(): number {
    return this._parserErrors;
  }
  get unsupportedVersions(): number {
    return this._unsupported;
  }
  /** the last unsupported protocol version a parser reported on this connection, as the protocol names it */
  get unsupportedVersion(): string | undefined {
    return this._unsupportedVersion;
  }
  get closed(): boolean {
    return this._closed;
  }
  /** has this direction reached `eos` (e.g. after a protocol switch)? */
  isEos(type: MessageType): boolean {
    return type === 'request' ? this._reqEos : this._respEos;
  }
  /** frames parsed but not yet stitched */
  get pendingRequests(): number {
    return this._requests.length;
  }
  get pendingResponses(): number {
    return this._responses.length;
  }

  counters(): SessionCounters {
    return {
      invalidFrames: this._invalid,
      droppedBytes: this.droppedBytes,
      unpairedFrames: this._unpaired,
      droppedFrames: this._droppedFrames,
      partialFrames: this._partial,
      parserErrors: this._parserErrors,
      unsupportedVersions: this._unsupported,
    };
  }

  /**
   * One segment of `type` traffic: `data` is the captured prefix, `wireLen` the bytes on the
   * wire, `tsNs` the monotonic timestamp. Returns the records stitched as a result (a shared
   * empty array when none).
   */
  feed(type: MessageType, data: Buffer, wireLen: number, tsNs: number): readonly Rec[] {
    if (this._closed) return NO_RECORDS;
    const isReq = type === 'request';
    if (isReq ? this._reqEos : this._respEos) return NO_RECORDS;
    const buf = isReq ? this.requestBuffer : this.responseBuffer;
    buf.append(data, wireLen, tsNs);
    this._drain(type, buf);
    buf.compact();
    if (this._requests.length === 0 && this._responses.length === 0) return NO_RECORDS;
    return this._stitch(false, tsNs);
  }

  /** The connection closed (or timed out) at `tsNs`: flush what can be flushed. */
  close(tsNs: number): readonly Rec[] {
    if (this._closed) return NO_RECORDS;
    this._closed = true;
    this._finish('request', this.requestBuffer);
    this._finish('response', this.responseBuffer);
    const records = this._stitch(true, tsNs);
    // a stitcher should have emptied both queues when closing; count what it left
    const left = this._requests.length + this._responses.length;
    if (left > 0) {
      this._unpaired += left;
      this._requests.length = 0;
      this._responses.length = 0;
    }
    return records;
  }

  private _finish(type: MessageType, buf: StreamBuffer): void {
    buf.end();
    if (!this.isEos(type)) this._drain(type, buf);
    if (buf.length > 0) {
      if (!this.isEos(type)) {
        this._partial++;
        this._dropped += buf.length;
      }
      buf.clear();
    }
  }

  private _stitch(closing: boolean, nowNs: number): readonly Rec[] {
    let r;
    try {
      r = this.parser.stitch(this._requests, this._responses, this.state, closing, nowNs);
    } catch {
      this._parserErrors++;
      this._unpaired += this._requests.length + this._responses.length;
      this._requests.length = 0;
      this._responses.length = 0;
      return NO_RECORDS;
    }
    this._unpaired += r.errorCount;
    return r.records.length === 0 ? NO_RECORDS : r.records;
  }

  private _drain(type: MessageType, buf: StreamBuffer): void {
    const parser = this.parser;
    const state = this.state;
    const isReq = type === 'request';
    while (buf.length > 0) {
      const pos = buf.position;
      let r;
      try {
        r = parser.parseFrame(type, buf, state);
      } catch {
        this._parserErrors++;
        this._dropped += buf.length;
        buf.clear();
        return;
      }
      switch (r.state) {
        case 'success': {
          const frame = r.frame;
          if (frame !== undefined) {
            if (isReq) this._push(this._requests, frame as Req);
            else this._push(this._responses, frame as Resp);
          }
          if (buf.position === pos) this._resync(type, buf); // no progress: never loop forever
          break;
        }
        case 'ignored':
          if (r.unsupportedVersion !== undefined) {
            this._unsupported++;
            this._unsupportedVersion = r.unsupportedVersion;
          }
          if (buf.position === pos) this._resync(type, buf);
          break;
        case 'invalid':
          this._resync(type, buf);
          break;
        case 'eos':
          if (r.unsupportedVersion !== undefined) {
            this._unsupported++;
            this._unsupportedVersion = r.unsupportedVersion;
          }
          if (isReq) this._reqEos = true;
          else this._respEos = true;
          buf.clear();
          return;
        default:
          return; // needs-more-data
      }
    }
  }

  /** after `invalid`: skip to the next possible frame start, or past the captured run and its gap */
  private _resync(type: MessageType, buf: StreamBuffer): void {
    this._invalid++;
    let skip = -1;
    try {
      skip = this.parser.findFrameBoundary(type, buf, 1);
    } catch {
      this._parserErrors++;
    }
    if (!(skip >= 1 && skip <= buf.length)) {
      skip = buf.gapEnd(buf.capturedRunEnd(0));
      if (skip < 1) skip = buf.length;
    }
    buf.consume(skip);
    this._dropped += skip;
  }

  private _push<F>(q: F[], frame: F): void {
    if (q.length >= this.maxPendingFrames) {
      q.shift();
      this._droppedFrames++;
    }
    q.push(frame);
  }
}
