/**
 * gRPC over HTTP/2 (gRPC's PROTOCOL-HTTP2 document): length-prefixed messages in DATA frames,
 * status codes and their names, and the RST_STREAM → status mapping clients apply.
 */

/** status code → name (`rpc.response.status_code` values) */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export const GRPC_CANCELLED = 1;
export const GRPC_DEADLINE_EXCEEDED = 4;

/** what a client reports for a stream reset with this HTTP/2 error code (undefined: none) */
export function statusForReset(errorCode: number): number | undefined {
  switch (errorCode) {
    case 0x5: // STREAM_CLOSED
      return undefined;
    case 0x7: // REFUSED_STREAM
      return 14; // UNAVAILABLE
    case 0x8: // CANCEL
      return GRPC_CANCELLED;
    case 0xb: // ENHANCE_YOUR_CALM
      return 8; // RESOURCE_EXHAUSTED
    case 0xc: // INADEQUATE_SECURITY
      return 7; // PERMISSION_DENIED
    default:
      return 13; // INTERNAL
  }
}

/** `grpc-timeout` (e.g. `100m`, `5S`) in ns; undefined when absent or malformed */
export function parseGrpcTimeout(v: string | undefined): number | undefined {
  if (v === undefined || v.length < 2 || v.length > 9) return undefined;
  const n = Number(v.slice(0, -1));
  if (!Number.isInteger(n) || n < 0) return undefined;
  switch (v[v.length - 1]) {
    case 'H':
      return n * 3600e9;
    case 'M':
      return n * 60e9;
    case 'S':
      return n * 1e9;
    case 'm':
      return n * 1e6;
    case 'u':
      return n * 1e3;
    case 'n':
      return n;
    default:
      return undefined;
  }
}

/**
 * Counts length-prefixed messages in one direction of one stream: a 5-byte prefix (compressed
 * flag, 4-byte big-endian length), then the message. Bytes not captured inside a prefix make
 * the count unknown from there on (`lost`); inside a message they are only skipped.
 */
export class MessageCounter {
  count = 0;
  /** sum of message lengths (without prefixes) */
  bytes = 0;
  lost = false;
  /** bytes left in the current message body */
  private _left = 0;
  /** prefix bytes seen of the next message (0..4), and the length gathered so far */
  private _pre = 0;
  private _len = 0;

  data(b: Uint8Array, start: number, end: number): void {
    if (this.lost) return;
    let p = start;
    while (p < end) {
      if (this._left > 0) {
        const k = Math.min(this._left, end - p);
        this._left -= k;
        p += k;
        continue;
      }
      const v = b[p++];
      if (this._pre === 0) {
        if (v > 1) {
          this.lost = true; // not a gRPC message prefix
          return;
        }
        this._pre = 1;
        this._len = 0;
        continue;
      }
      this._len = this._len * 256 + v;
      if (++this._pre === 5) {
        this._pre = 0;
        this.count++;
        this.bytes += this._len;
        this._left = this._len;
      }
    }
  }

  gap(n: number): void {
    if (this.lost) return;
    if (this._left >= n && this._pre === 0) {
      this._left -= n;
      return;
    }
    this.lost = true;
  }

  /** the direction ended: a prefix or body cut short makes the count uncertain */
  end(): void {
    if (this._pre !== 0 || this._left !== 0) this.lost = true;
  }
}
