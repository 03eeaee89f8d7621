/**
 * HTTP/2 framing (RFC 9113 §4, §6): frame types, flags, the connection preface, and a check of
 * whether bytes look like a run of frame headers (detection, resynchronisation).
 */
import type { StreamBuffer } from '../common/stream.ts';

export const FRAME_HEADER = 9;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0;
export const HEADERS = 1;
export const PRIORITY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PUSH_PROMISE = 5;
export const PING = 6;
export const GOAWAY = 7;
export const WINDOW_UPDATE = 8;
export const CONTINUATION = 9;

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

/** SETTINGS_MAX_FRAME_SIZE default and ceiling (RFC 9113 §6.5.2) */
export const DEFAULT_MAX_FRAME = 16384;
export const MAX_MAX_FRAME = 16777215;

export const SETTINGS_HEADER_TABLE_SIZE = 1;
export const SETTINGS_MAX_FRAME_SIZE = 5;

export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** Is this a frame header RFC 9113 allows (type-specific stream and length rules), given a frame size limit? */
export function plausibleHeader(length: number, type: number, streamId: number, reserved: boolean, maxFrame: number): boolean {
  if (reserved || length > maxFrame) return false;
  switch (type) {
    case DATA:
    case HEADERS:
    case CONTINUATION:
      return streamId !== 0;
    case PRIORITY:
      return streamId !== 0 && length === 5;
    case RST_STREAM:
      return streamId !== 0 && length === 4;
    case SETTINGS:
      return streamId === 0 && length % 6 === 0;
    case PUSH_PROMISE:
      return streamId !== 0 && length >= 4;
    case PING:
      return streamId === 0 && length === 8;
    case GOAWAY:
      return streamId === 0 && length >= 8;
    case WINDOW_UPDATE:
      return length === 4;
    default:
      return false; // extension frames exist, but accepting them here would weaken detection
  }
}

function headerAt(get: (i: number) => number, off: number): { length: number; type: number; flags: number; streamId: number; reserved: boolean } | undefined {
  const b = new Array<number>(9);
  for (let i = 0; i < 9; i++) {
    const v = get(off + i);
    if (v < 0) return undefined;
    b[i] = v;
  }
  return {
    length: (b[0] << 16) | (b[1] << 8) | b[2],
    type: b[3],
    flags: b[4],
    streamId: ((b[5] & 0x7f) << 24) | (b[6] << 16) | (b[7] << 8) | b[8],
    reserved: (b[5] & 0x80) !== 0,
  };
}

/**
 * Do the bytes from `off` hold a run of plausible frame headers, each followed by the next,
 * up to `end` (the end of what is known)? At least `minFrames` whole headers must be checked;
 * the last frame may run past `end`.
 */
export function frameChainAt(get: (i: number) => number, off: number, end: number, maxFrame: number, minFrames: number): boolean {
  let n = 0;
  let p = off;
  while (p + FRAME_HEADER <= end) {
    const h = headerAt(get, p);
    if (h === undefined || !plausibleHeader(h.length, h.type, h.streamId, h.reserved, maxFrame)) return false;
    n++;
    p += FRAME_HEADER + h.length;
    if (n >= 16) return true;
  }
  return n >= minFrames && (p >= end || end - p < FRAME_HEADER);
}

/** frameChainAt over a StreamBuffer's captured bytes from `off` to the end of its captured run */
export function bufferChainAt(buf: StreamBuffer, off: number, maxFrame: number): boolean {
  const end = buf.capturedRunEnd(off);
  if (end - off < FRAME_HEADER) return false;
  return frameChainAt((i) => buf.byteAt(i), off, end, maxFrame, 1);
}
