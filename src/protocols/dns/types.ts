/**
 * DNS messages (RFC 1035 §4; TCP framing RFC 1035 §4.2.2 / RFC 7766) and records.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DnsRecord } from '../common/records.ts';

/** One DNS message: a query or a response. */
export interface DnsFrame extends FrameTiming {
  readonly kind: 'request' | 'response';
  readonly id: number;
  /** QR bit: a response */
  readonly qr: boolean;
  readonly opcode: number;
  /** RCODE (4 bits of the header) */
  readonly rcode: number;
  /** TC bit: the answer did not fit (UDP); the client retries over TCP */
  readonly tc: boolean;
  readonly qdcount: number;
  readonly ancount: number;
  /** first question's name, without the root dot (`example.com`); undefined when not captured */
  readonly name?: string;
  /** first question's type (1 = A, 28 = AAAA) */
  readonly qtype?: number;
  readonly truncated: boolean;
}

export type DnsOperation = DnsRecord;
