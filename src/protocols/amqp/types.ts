/**
 * AMQP 0-9-1 (the RabbitMQ protocol): frames, the methods used, and records.
 * Reference: the AMQP 0-9-1 specification (amqp0-9-1.pdf / amqp0-9-1.xml) and RabbitMQ's
 * errata for field-table types.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { MessagingRecord } from '../common/records.ts';

/** frame types */
export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;

/** class and method ids, as `class << 16 | method` */
export const M = {
  CONNECTION_START: (10 << 16) | 10,
  CONNECTION_CLOSE: (10 << 16) | 50,
  CHANNEL_CLOSE: (20 << 16) | 40,
  EXCHANGE_DECLARE: (40 << 16) | 10,
  QUEUE_DECLARE: (50 << 16) | 10,
  QUEUE_DECLARE_OK: (50 << 16) | 11,
  BASIC_CONSUME: (60 << 16) | 20,
  BASIC_CONSUME_OK: (60 << 16) | 21,
  BASIC_PUBLISH: (60 << 16) | 40,
  BASIC_RETURN: (60 << 16) | 50,
  BASIC_DELIVER: (60 << 16) | 60,
  BASIC_GET: (60 << 16) | 70,
  BASIC_GET_OK: (60 << 16) | 71,
  BASIC_GET_EMPTY: (60 << 16) | 72,
  BASIC_ACK: (60 << 16) | 80,
  BASIC_REJECT: (60 << 16) | 90,
  BASIC_NACK: (60 << 16) | 120,
  CONFIRM_SELECT: (85 << 16) | 10,
} as const;

/** One frame (or the protocol header), with the fields of the methods used. */
export interface AmqpFrame extends FrameTiming {
  /** 0: protocol header; else the frame type */
  readonly type: number;
  readonly channel: number;
  /** method frames: class << 16 | method */
  readonly method?: number;
  /** exchange (publish, deliver, get-ok, return, exchange.declare) */
  readonly exchange?: string;
  readonly routingKey?: string;
  /** queue (queue.declare, queue.declare-ok, basic.consume, basic.get) */
  readonly queue?: string;
  readonly consumerTag?: string;
  readonly deliveryTag?: number;
  /** ack/nack `multiple` */
  readonly multiple?: boolean;
  /** consume / get `no-ack` */
  readonly noAck?: boolean;
  /** channel.close / connection.close reply code and text */
  readonly replyCode?: number;
  readonly replyText?: string;
  /** content header: body size, `message-id`, `traceparent` from the headers table */
  readonly bodySize?: number;
  readonly messageId?: string;
  readonly traceparent?: string;
  /** body frames: payload size */
  readonly size?: number;
}

export type AmqpRecord = MessagingRecord & { readonly system: 'rabbitmq' };
