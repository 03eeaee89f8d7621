/**
 * MQTT 3.1, 3.1.1 and 5.0 support (category `messaging`, instrumentation `mqtt`): CONNECT,
 * PUBLISH at QoS 0/1/2 with PUBACK/PUBREC/PUBREL/PUBCOMP paired by packet id, SUBSCRIBE;
 * MQTT 5 properties skipped (topic aliases and a `traceparent` user property read).
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectMqtt, findMqttFrameBoundary } from './detect.ts';
import { newMqttState, parseMqttFrame } from './parse.ts';
import type { MqttState } from './parse.ts';
import { stitchMqtt } from './stitch.ts';
import type { MqttFrame, MqttRecord } from './types.ts';

export const mqttParser: ProtocolParser<MqttFrame, MqttFrame, MqttRecord, MqttState> = Object.freeze({
  newState: newMqttState,
  findFrameBoundary: findMqttFrameBoundary,
  parseFrame: parseMqttFrame,
  stitch: stitchMqtt,
});

/** MQTT (category `messaging`). */
export const mqtt: ProtocolDescriptor<MqttRecord> = Object.freeze({
  name: 'mqtt',
  wire: 'mqtt',
  category: 'messaging',
  detect: detectMqtt,
  createParser: () => mqttParser,
});

export { detectMqtt, findMqttFrameBoundary, isMqttConnect, readVarint } from './detect.ts';
export { MAX_ALIASES, MAX_PENDING, MAX_REMAINING, newMqttState, parseMqttFrame, scanProperties } from './parse.ts';
export type { MqttState } from './parse.ts';
export { reasonType, stitchMqtt } from './stitch.ts';
export { MQTT_MAX_LEVEL, MqttType } from './types.ts';
export type { MqttFrame, MqttRecord } from './types.ts';
