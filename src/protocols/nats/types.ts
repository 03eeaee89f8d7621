/**
 * NATS client protocol (https://docs.nats.io/reference/reference-protocols/nats-protocol):
 * text control lines ending in CRLF, payloads sized by the control line.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { MessagingRecord } from '../common/records.ts';

/** NATS protocol version (`proto` in INFO, `protocol` in CONNECT) this parser knows: 0 and 1 */
export const NATS_MAX_PROTO = 1;

export type NatsOp = 'CONNECT' | 'INFO' | 'PUB' | 'HPUB' | 'SUB' | 'UNSUB' | 'MSG' | 'HMSG' | 'OK' | 'ERR' | 'PING' | 'PONG';

/** One control line (and its payload, for PUB/HPUB/MSG/HMSG). */
export interface NatsFrame extends FrameTiming {
  readonly op: NatsOp;
  readonly subject?: string;
  readonly reply?: string;
  readonly sid?: string;
  /** SUB queue group */
  readonly queue?: string;
  /** payload bytes (headers excluded) */
  readonly payloadSize?: number;
  /** header bytes (HPUB/HMSG) */
  readonly headerSize?: number;
  /** `traceparent` from HPUB/HMSG headers */
  readonly traceparent?: string;
  /** -ERR text */
  readonly error?: string;
  /** CONNECT `verbose` */
  readonly verbose?: boolean;
  /** CONNECT `name` */
  readonly name?: string;
}

export type NatsRecord = MessagingRecord & { readonly system: 'nats' };
