/**
 * Kafka detection from the first bytes a client sends, and resynchronisation.
 *
 * A request starts `size (int32) | api_key (int16) | api_version (int16) | correlation_id
 * (int32) | client_id (int16 length, then bytes)`. Detection asks for a plausible size (10
 * bytes to 100 MiB), a known API key (0-92, Kafka 4.x), a version of at most 20, a
 * non-negative correlation id, and a client id that is null or printable ASCII fitting in the
 * frame. Responses (a size and a correlation id) say too little to detect a connection by.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { MAX_FRAME } from './parse.ts';

/** highest API key listed by the protocol guide as of Kafka 4.x */
const MAX_KNOWN_API_KEY = 92;
const MAX_DETECT_VERSION = 20;

/** Is `h` (at least the first 14 bytes) the start of a Kafka request? */
export function isKafkaRequest(h: Buffer): boolean {
  if (h.length < 14) return false;
  const size = h.readInt32BE(0);
  if (size < 10 || size > MAX_FRAME) return false;
  const apiKey = h.readInt16BE(4);
  const version = h.readInt16BE(6);
  if (apiKey < 0 || apiKey > MAX_KNOWN_API_KEY || version < 0 || version > MAX_DETECT_VERSION) return false;
  if (h.readInt32BE(8) < 0) return false;
  const idLen = h.readInt16BE(12);
  if (idLen === -1) return true;
  if (idLen < 0 || idLen > size - 10 || idLen > 1024) return false;
  const avail = Math.min(h.length, 14 + idLen);
  for (let i = 14; i < avail; i++) if (h[i] < 0x20 || h[i] > 0x7e) return false;
  return true;
}

export function detectKafka(head: Buffer, type: MessageType): boolean {
  return type === 'request' && isKafkaRequest(head);
}

/**
 * Next offset >= from where a request may start (a captured, plausible request header), or -1.
 * Responses carry no marker to resynchronise on: -1 (the session skips the captured run).
 */
export function findKafkaFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  if (type !== 'request') return -1;
  const len = buf.length;
  for (let i = from < 1 ? 1 : from; i + 14 <= len; i++) {
    if (buf.byteAt(i) !== 0) continue; // sizes above 16 MiB are rare: a cheap first filter
    const h = buf.slice(i, Math.min(len, i + 64, buf.capturedRunEnd(i)));
    if (h !== null && h.length >= 14 && isKafkaRequest(h)) return i;
  }
  return -1;
}
