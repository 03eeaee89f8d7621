/**
 * DNS framing. Over UDP a segment is one datagram: the message ends where its last resource
 * record does, or (its bytes not all captured) where the datagram's uncaptured tail does. Over
 * TCP each message is preceded by its length in two bytes (RFC 1035 §4.2.2).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { HEADER_LEN, parseMessage } from './message.ts';
import type { DnsFrame } from './types.ts';

/** bytes of one message decoded at most (a UDP answer is at most 4096 bytes with EDNS) */
export const MAX_KEEP = 4096;

export interface DnsState {
  /** queries waiting for their response, by id (insertion order = age) */
  readonly pending: Map<number, DnsFrame>;
  readonly maxPending: number;
}

export function newDnsState(maxPending = 256): DnsState {
  return { pending: new Map(), maxPending };
}

function frame(type: MessageType, buf: StreamBuffer, b: Buffer, base: number, end: number, wireEnd: number): DnsFrame | undefined {
  const m = parseMessage(b, base);
  if (m === undefined) return undefined;
  const h = m.header;
  if (h.qr !== (type === 'response')) return undefined;
  return {
    kind: type,
    id: h.id,
    qr: h.qr,
    opcode: h.opcode,
    rcode: h.rcode,
    tc: h.tc,
    qdcount: h.qdcount,
    ancount: h.ancount,
    name: m.name,
    qtype: m.qtype,
    truncated: end < 0,
    startNs: buf.tsAt(0),
    endNs: buf.tsAt(wireEnd - 1),
  };
}

/** ProtocolParser.parseFrame for DNS over UDP (one datagram per segment). */
export function parseDnsUdpFrame(type: MessageType, buf: StreamBuffer, _state: DnsState): ParseResult<DnsFrame> {
  const run = buf.capturedRunEnd(0);
  if (run < HEADER_LEN) {
    if (run === 0 && buf.length > 0) {
      buf.consume(buf.gapEnd(0) || buf.length);
      return { state: 'ignored' };
    }
    return run >= buf.length && !buf.ended ? { state: 'needs-more-data' } : { state: 'invalid' };
  }
  const b = buf.slice(0, Math.min(run, MAX_KEEP));
  if (b === null) return { state: 'invalid' };
  const m = parseMessage(b, 0);
  // the datagram ends with its last record, or with the uncaptured tail that follows the capture;
  // a message cut short with no gap after it is still arriving (a datagram split by a replay)
  if ((m === undefined || m.end < 0) && run >= buf.length && !buf.ended && run < MAX_KEEP) return { state: 'needs-more-data' };
  const end = m !== undefined && m.end > 0 ? m.end : run < buf.length ? buf.gapEnd(run) : run;
  const f = frame(type, buf, b, 0, m?.end ?? -1, end);
  if (f === undefined) return { state: 'invalid' };
  buf.consume(end);
  return { state: 'success', frame: f };
}

/** ProtocolParser.parseFrame for DNS over TCP (two-byte length prefix). */
export function parseDnsTcpFrame(type: MessageType, buf: StreamBuffer, _state: DnsState): ParseResult<DnsFrame> {
  if (buf.length < 2) return { state: 'needs-more-data' };
  const hi = buf.byteAt(0);
  const lo = buf.byteAt(1);
  if (hi < 0 || lo < 0) return { state: 'invalid' };
  const len = (hi << 8) | lo;
  if (len < HEADER_LEN) return { state: 'invalid' };
  if (buf.length < 2 + len) {
    if (len > MAX_KEEP && buf.length > 2 + MAX_KEEP) buf.forget(2 + MAX_KEEP, buf.length);
    return { state: 'needs-more-data' };
  }
  const n = Math.min(buf.capturedRunEnd(0), 2 + len, 2 + MAX_KEEP);
  if (n < 2 + HEADER_LEN) return { state: 'invalid' };
  const b = buf.slice(2, n);
  if (b === null) return { state: 'invalid' };
  const m = parseMessage(b, 0);
  const f = frame(type, buf, b, 0, m !== undefined && m.end === len ? len : -1, 2 + len);
  if (f === undefined) return { state: 'invalid' };
  buf.consume(2 + len);
  return { state: 'success', frame: f };
}
