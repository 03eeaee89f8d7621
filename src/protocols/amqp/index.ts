/**
 * AMQP 0-9-1 support (RabbitMQ; category `messaging`, instrumentation `amqp`, `messaging.system`
 * `rabbitmq`): channels, basic.publish with content, publisher confirms, basic.deliver and
 * basic.get processed until ack/nack/reject, queue.declare, exchange.declare.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor } from '../common/descriptor.ts';
import { detectAmqp, findAmqpFrameBoundary } from './detect.ts';
import { newAmqpState, parseAmqpFrame } from './parse.ts';
import type { AmqpState } from './parse.ts';
import { stitchAmqp } from './stitch.ts';
import type { AmqpFrame, AmqpRecord } from './types.ts';

export const amqpParser: ProtocolParser<AmqpFrame, AmqpFrame, AmqpRecord, AmqpState> = Object.freeze({
  newState: newAmqpState,
  findFrameBoundary: findAmqpFrameBoundary,
  parseFrame: parseAmqpFrame,
  stitch: stitchAmqp,
});

/** AMQP 0-9-1 (category `messaging`). */
export const amqp: ProtocolDescriptor<AmqpRecord> = Object.freeze({
  name: 'amqp',
  wire: 'amqp091',
  category: 'messaging',
  detect: detectAmqp,
  createParser: () => amqpParser,
});

export { detectAmqp, findAmqpFrameBoundary, isAmqpMethodFrame, isAmqpProtocolHeader } from './detect.ts';
export { FieldReader, MAX_FRAME, newAmqpState, parseAmqpFrame } from './parse.ts';
export type { AmqpState, ChannelState, Draft } from './parse.ts';
export { amqpDestination, MAX_CHANNELS, MAX_PENDING, stitchAmqp } from './stitch.ts';
export { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, M } from './types.ts';
export type { AmqpFrame, AmqpRecord } from './types.ts';
