/**
 * NATS client protocol support (category `messaging`, instrumentation `nats`): PUB, HPUB,
 * SUB, UNSUB, MSG, HMSG, +OK/-ERR, request–reply through inboxes; PING/PONG ignored.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectNats, findNatsFrameBoundary } from './detect.ts';
import { newNatsState, parseNatsFrame } from './parse.ts';
import type { NatsState } from './parse.ts';
import { stitchNats } from './stitch.ts';
import type { NatsFrame, NatsRecord } from './types.ts';

export const natsParser: ProtocolParser<NatsFrame, NatsFrame, NatsRecord, NatsState> = Object.freeze({
  newState: newNatsState,
  findFrameBoundary: findNatsFrameBoundary,
  parseFrame: parseNatsFrame,
  stitch: stitchNats,
});

/** NATS (category `messaging`). */
export const nats: ProtocolDescriptor<NatsRecord> = Object.freeze({
  name: 'nats',
  wire: 'nats',
  category: 'messaging',
  detect: detectNats,
  createParser: () => natsParser,
});

export { detectNats, findNatsFrameBoundary, isNatsClient, isNatsServer } from './detect.ts';
export { headerTraceparent, MAX_LINE, MAX_PAYLOAD, newNatsState, parseNatsFrame } from './parse.ts';
export type { NatsState } from './parse.ts';
export { INBOX_DESTINATION, natsDestination, stitchNats } from './stitch.ts';
export { NATS_MAX_PROTO } from './types.ts';
export type { NatsFrame, NatsOp, NatsRecord } from './types.ts';
