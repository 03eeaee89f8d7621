/**
 * Kafka frames and records (client side, as OBI: the traced process is a producer or consumer).
 */
import type { FrameTiming } from '../common/contract.ts';
import type { MessagingRecord } from '../common/records.ts';

/** API keys decoded here (protocol guide, "Api Keys") */
export const API_PRODUCE = 0;
export const API_FETCH = 1;
export const API_METADATA = 3;
export const API_VERSIONS = 18;

/** What the record batches of one partition held (magic 2 batches, or legacy message sets). */
export interface BatchSummary {
  /** records counted (the batch header's count: compressed batches are counted without decompressing) */
  records: number;
  /** offset of the first record (base offset of the first batch) */
  firstOffset?: number;
  /** a record header `traceparent`, the first one found in uncompressed records */
  traceparent?: string;
  /** some batches or records were not captured: the count may be low */
  truncated: boolean;
  /** batches whose records are compressed (their headers were still counted) */
  compressed: number;
}

/** One topic of a Produce request, or of a Fetch response, with its partitions merged. */
export interface TopicSummary {
  /** topic name; undefined when named by id (Produce v13+, Fetch v13+) or not captured */
  name?: string;
  /** topic id (base64url, as Kafka prints it) for versions that name topics by id */
  id?: string;
  /** first partition carrying records (or the first partition at all) */
  partition?: number;
  /** partitions listed */
  partitions: number;
  /** records in all its partitions */
  records: number;
  firstOffset?: number;
  traceparent?: string;
  truncated: boolean;
  /** first non-zero partition error code (responses) */
  errorCode?: number;
}

export interface KafkaRequestFrame extends FrameTiming {
  readonly kind: 'produce' | 'fetch';
  readonly correlationId: number;
  readonly apiVersion: number;
  readonly clientId?: string;
  /** Produce acks = 0: no response will come */
  readonly noResponse: boolean;
  /** Produce: its topics */
  readonly topics: TopicSummary[];
  /** part of the request could not be read (gap) */
  readonly truncated: boolean;
}

export interface KafkaResponseFrame extends FrameTiming {
  /** `orphan`: a response to no request seen on the connection (counted unpaired by stitch) */
  readonly kind: 'produce' | 'fetch' | 'orphan';
  readonly correlationId: number;
  readonly apiVersion: number;
  readonly topics: TopicSummary[];
  /** top-level error code (Fetch v7+) */
  readonly errorCode?: number;
  readonly truncated: boolean;
}

export type KafkaFrame = KafkaRequestFrame | KafkaResponseFrame;

/** A `publish` (Produce) or `process` (Fetch) of one topic. */
export interface KafkaRecord extends MessagingRecord {
  readonly system: 'kafka';
  /** Produce / Fetch version used */
  readonly apiVersion: number;
  /** the topic id when the version names topics by id; `destination` is then its resolved name, or undefined when no Metadata response on the connection (or the shared cache) named it */
  readonly topicId?: string;
  /** part of the exchange was not captured: counts may be low, fields missing */
  readonly truncated: boolean;
}
