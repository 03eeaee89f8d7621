/**
 * MQTT 3.1 / 3.1.1 / 5.0 control packets (OASIS MQTT Version 3.1.1 and 5.0 specifications).
 */
import type { FrameTiming } from '../common/contract.ts';
import type { MessagingRecord } from '../common/records.ts';

/** protocol levels this parser knows: 3 (MQTT 3.1, `MQIsdp`), 4 (3.1.1), 5 (5.0) */
export const MQTT_MAX_LEVEL = 5;

/** control packet types (fixed header, high nibble) */
export const MqttType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;
export type MqttType = (typeof MqttType)[keyof typeof MqttType];

/** One control packet. */
export interface MqttFrame extends FrameTiming {
  readonly type: MqttType;
  /** PUBLISH QoS (0..2) */
  readonly qos?: number;
  /** PUBLISH topic, after topic-alias resolution; undefined when not captured */
  readonly topic?: string;
  /** packet identifier (PUBLISH QoS > 0, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBSCRIBE/SUBACK) */
  readonly packetId?: number;
  /** reason code (MQTT 5 acks, CONNACK return code); 0 = success */
  readonly reason?: number;
  /** PUBLISH payload bytes */
  readonly payloadSize?: number;
  /** `traceparent` user property (MQTT 5) */
  readonly traceparent?: string;
  /** CONNECT client identifier */
  readonly clientId?: string;
  /** PUBLISH DUP flag */
  readonly dup?: boolean;
}

export type MqttRecord = MessagingRecord & { readonly system: 'mqtt' };
