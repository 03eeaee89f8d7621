/**
 * Kafka protocol support (client side, as OBI): producers' Produce requests become `publish`
 * records, consumers' Fetch responses `process` records (category `messaging`, instrumentation
 * `kafka`). See parse.ts for the versions decoded.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { detectKafka, findKafkaFrameBoundary } from './detect.ts';
import { newKafkaState, parseKafkaFrame, TopicIdCache, type KafkaState, type KafkaStats } from './parse.ts';
import { stitchKafka } from './stitch.ts';
import type { KafkaRecord, KafkaRequestFrame, KafkaResponseFrame } from './types.ts';

/** OBI's default for `ebpf.kafka_topic_uuid_cache_size` */
export const DEFAULT_TOPIC_ID_CACHE_SIZE = 1024;

export interface KafkaParserOptions {
  /** topic id -> name mappings shared by the parser's connections (`ebpf.kafka_topic_uuid_cache_size`); default 1024 */
  readonly topicIdCacheSize?: number;
}

export interface KafkaParser extends ProtocolParser<KafkaRequestFrame, KafkaResponseFrame, KafkaRecord, KafkaState> {
  /** counters over every connection of this parser */
  readonly stats: Readonly<KafkaStats>;
}

/** A Kafka parser; its connections share one topic id cache and one set of counters. */
export function createKafkaParser(opts: KafkaParserOptions = {}): KafkaParser {
  const size = opts.topicIdCacheSize ?? DEFAULT_TOPIC_ID_CACHE_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`topicIdCacheSize must be a positive integer, got ${size}`);
  const cache = new TopicIdCache(size);
  const stats: KafkaStats = { unresolvedTopicIds: 0 };
  return Object.freeze({
    stats,
    newState: () => newKafkaState(stats, cache),
    findFrameBoundary: findKafkaFrameBoundary,
    parseFrame: parseKafkaFrame as KafkaParser['parseFrame'],
    stitch: stitchKafka,
  });
}

/** Kafka wire protocol, client side (category `messaging`, instrumentation `kafka`). */
export const kafka: ProtocolDescriptor<KafkaRecord> = Object.freeze({
  name: 'kafka',
  wire: 'kafka',
  category: 'messaging',
  detect: detectKafka,
  createParser: (s?: ProtocolSettings) => createKafkaParser({ topicIdCacheSize: s?.kafka_topic_uuid_cache_size }),
});

export { detectKafka, findKafkaFrameBoundary, isKafkaRequest } from './detect.ts';
export { MAX_VERSION, isFlexible, newKafkaState, parseKafkaFrame, resolveTopicId, TopicIdCache } from './parse.ts';
export type { KafkaState, KafkaStats } from './parse.ts';
export { kafkaErrorName, stitchKafka } from './stitch.ts';
export type { BatchSummary, KafkaFrame, KafkaRecord, KafkaRequestFrame, KafkaResponseFrame, TopicSummary } from './types.ts';
