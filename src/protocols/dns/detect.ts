/**
 * Recognising DNS messages: a 12-byte header with one question (QDCOUNT 1, as every resolver
 * sends), opcode QUERY, no answers in a query, then a well-formed first question name and the
 * class IN (or ANY). Over TCP the same after a two-byte length that matches.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { HEADER_LEN, readHeader, readName } from './message.ts';

function looksLikeMessage(b: Buffer, base: number, type: MessageType): boolean {
  if (b.length - base < HEADER_LEN + 5) return false;
  const h = readHeader(b, base);
  if (h.qr !== (type === 'response') || h.opcode !== 0 || h.qdcount !== 1) return false;
  if (type === 'request' && (h.ancount !== 0 || h.nscount !== 0 || h.arcount > 1 || h.rcode !== 0)) return false;
  if ((b.readUInt16BE(base + 2) & 0x0040) !== 0) return false; // Z bit: always 0
  const labels: string[] = [];
  const e = readName(b, base, base + HEADER_LEN, labels);
  if (e < 0) return false;
  if (!labels.every((l) => l.length > 0 && /^[A-Za-z0-9_-]+$/.test(l))) return false;
  if (e + 4 > b.length) return true; // type and class not captured
  const cls = b.readUInt16BE(e + 2);
  return cls === 1 || cls === 255;
}

/** DNS over UDP: `head` is the first datagram of one direction. */
export function detectDnsUdp(head: Buffer, type: MessageType): boolean {
  return looksLikeMessage(head, 0, type);
}

/** DNS over TCP: a two-byte length then a message. */
export function detectDnsTcp(head: Buffer, type: MessageType): boolean {
  if (head.length < 2 + HEADER_LEN + 5) return false;
  const len = head.readUInt16BE(0);
  if (len < HEADER_LEN + 5) return false;
  return looksLikeMessage(head, 2, type);
}

/** ProtocolParser.findFrameBoundary for UDP: datagrams start at segment starts; resynchronise at the next captured run. */
export function findDnsUdpBoundary(_type: MessageType, buf: StreamBuffer, from: number): number {
  const run = buf.capturedRunEnd(0);
  const next = run < buf.length ? buf.gapEnd(run) : -1;
  return next >= from ? next : -1;
}

/** ProtocolParser.findFrameBoundary for TCP: a length prefix that is plausible. */
export function findDnsTcpBoundary(_type: MessageType, buf: StreamBuffer, from: number): number {
  const limit = Math.min(buf.length, from + 4096);
  for (let i = from; i < limit; i++) {
    const hi = buf.byteAt(i);
    if (hi < 0) continue;
    if (i + 1 >= buf.length) return buf.ended ? -1 : i;
    const lo = buf.byteAt(i + 1);
    if (lo >= 0 && ((hi << 8) | lo) >= HEADER_LEN) return i;
  }
  return -1;
}
