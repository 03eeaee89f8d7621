/**
 * AMQP detection: a client's protocol header (`AMQP` and four version bytes: `0 0 9 1` for
 * 0-9-1; any other version is claimed too, so that the parser reports it), or, on a connection
 * already open when capture started, a method frame of a known class and method whose
 * frame-end octet (0xCE) is where its size says.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { FRAME_END, FRAME_METHOD, M } from './types.ts';

const KNOWN_METHODS: ReadonlySet<number> = new Set<number>([
  ...Object.values(M),
  (10 << 16) | 11, (10 << 16) | 30, (10 << 16) | 31, (10 << 16) | 40, (10 << 16) | 41, (10 << 16) | 51,
  (20 << 16) | 10, (20 << 16) | 11, (20 << 16) | 41,
  (40 << 16) | 11, (50 << 16) | 20, (50 << 16) | 21,
  (60 << 16) | 10, (60 << 16) | 11, (60 << 16) | 30, (60 << 16) | 31, (85 << 16) | 11,
]);

export function isAmqpProtocolHeader(b: Buffer): boolean {
  return b.length >= 8 && b[0] === 0x41 && b[1] === 0x4d && b[2] === 0x51 && b[3] === 0x50 && b[4] <= 3 && b[5] <= 1 && b[6] <= 10 && b[7] <= 10;
}

export function isAmqpMethodFrame(b: Buffer): boolean {
  if (b.length < 12 || b[0] !== FRAME_METHOD) return false;
  const size = b.readUInt32BE(3);
  if (size < 4 || size > 1 << 20 || 7 + size >= b.length) return false;
  if (b[7 + size] !== FRAME_END) return false;
  return KNOWN_METHODS.has(b.readUInt32BE(7));
}

export function detectAmqp(head: Buffer, type: MessageType): boolean {
  return type === 'request' ? isAmqpProtocolHeader(head) || isAmqpMethodFrame(head) : isAmqpMethodFrame(head);
}

/** next offset >= from, right after a frame-end octet, where a frame type byte follows */
export function findAmqpFrameBoundary(_type: MessageType, buf: StreamBuffer, from: number): number {
  let i = from < 1 ? 1 : from;
  const len = buf.length;
  while (i <= len) {
    const e = buf.indexOf(FRAME_END, i - 1, len);
    if (e < 0) return -1;
    const at = e + 1;
    if (at >= len) return at > from ? at : -1;
    const t = buf.byteAt(at);
    if (at >= from && (t === 1 || t === 2 || t === 3 || t === 8)) return at;
    i = at + 1;
  }
  return -1;
}
