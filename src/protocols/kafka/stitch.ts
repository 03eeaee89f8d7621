/**
 * Pairing Kafka requests with responses by correlation id (brokers answer the requests of a
 * connection in order), and turning them into records:
 * - Produce: one `publish` record per topic of the request: `messaging.batch.message_count` is
 *   the records of its batches (all partitions), the partition is the first one written, the
 *   offset the base offset the broker assigned to it; a partition error gives `error.type`.
 *   With acks = 0 no response comes: the record ends with the request.
 * - Fetch: one `process` record per topic of the response that returned records (empty long
 *   polls give none): its count, first partition with records and that partition's first
 *   offset, and the first `traceparent` record header found.
 * Topics named by id (v13+) are named from the Metadata responses seen (parse.ts); an id no
 * response named leaves the destination unset (`<op> *`), keeps the id, and is counted.
 * A response whose request was never queued, and requests passed over by a later response,
 * are counted as unpaired; requests still waiting when the connection closes too.
 */
import type { StitchResult } from '../common/contract.ts';
import { resolveTopicId, type KafkaState } from './parse.ts';
import type { KafkaRecord, KafkaRequestFrame, KafkaResponseFrame, TopicSummary } from './types.ts';

/** names of the error codes a producer or consumer commonly meets (protocol guide, "Error Codes") */
const ERROR_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'UNKNOWN_SERVER_ERROR',
  1: 'OFFSET_OUT_OF_RANGE',
  2: 'CORRUPT_MESSAGE',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  10: 'MESSAGE_TOO_LARGE',
  19: 'NOT_ENOUGH_REPLICAS',
  20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  47: 'INVALID_PRODUCER_EPOCH',
  87: 'INVALID_RECORD',
  100: 'UNKNOWN_TOPIC_ID',
});

export function kafkaErrorName(code: number): string {
  return ERROR_NAMES[code] ?? String(code);
}

function destination(st: KafkaState, t: TopicSummary | undefined): string | undefined {
  if (t === undefined) return undefined;
  if (t.name !== undefined) return t.name;
  if (t.id === undefined) return undefined;
  const name = resolveTopicId(st, t.id);
  if (name === undefined) st.stats.unresolvedTopicIds++;
  return name;
}

function same(a: TopicSummary, b: TopicSummary): boolean {
  return (a.name !== undefined && a.name === b.name) || (a.id !== undefined && a.id === b.id);
}

function publish(st: KafkaState, q: KafkaRequestFrame, r: KafkaResponseFrame | undefined, endNs: number): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  const topics = q.topics.length > 0 ? q.topics : [undefined];
  topics.forEach((t, i) => {
    const a = t === undefined || r === undefined ? undefined : (r.topics.find((x) => same(x, t)) ?? r.topics[i]);
    const err = a?.errorCode;
    out.push({
      category: 'messaging',
      system: 'kafka',
      operation: 'publish',
      destination: destination(st, t),
      topicId: t?.id,
      clientId: q.clientId,
      partition: t?.partition === undefined ? (a?.partition === undefined ? undefined : String(a.partition)) : String(t.partition),
      offset: a?.firstOffset,
      messageCount: t === undefined || (t.truncated && t.records === 0) ? undefined : t.records,
      errorType: err === undefined ? undefined : kafkaErrorName(err),
      apiVersion: q.apiVersion,
      truncated: q.truncated || (r?.truncated ?? false) || (t?.truncated ?? true),
      startNs: q.startNs,
      endNs: endNs > q.startNs ? endNs : q.startNs,
    });
  });
  return out;
}

function processed(st: KafkaState, q: KafkaRequestFrame, r: KafkaResponseFrame): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  for (const t of r.topics) {
    if (t.records <= 0) continue;
    out.push({
      category: 'messaging',
      system: 'kafka',
      operation: 'process',
      destination: destination(st, t),
      topicId: t.id,
      clientId: q.clientId,
      partition: t.partition === undefined ? undefined : String(t.partition),
      offset: t.firstOffset,
      messageCount: t.records,
      traceparent: t.traceparent,
      apiVersion: r.apiVersion,
      truncated: r.truncated || t.truncated,
      startNs: q.startNs,
      endNs: r.endNs > q.startNs ? r.endNs : q.startNs,
    });
  }
  return out;
}

/** ProtocolParser.stitch for Kafka. */
export function stitchKafka(requests: KafkaRequestFrame[], responses: KafkaResponseFrame[], st: KafkaState, closing: boolean): StitchResult<KafkaRecord> {
  const records: KafkaRecord[] = [];
  let errorCount = 0;
  // acks = 0: no response will come
  if (requests.some((q) => q.noResponse)) {
    let k = 0;
    for (const q of requests) {
      if (q.noResponse) records.push(...publish(st, q, undefined, q.endNs));
      else requests[k++] = q;
    }
    requests.length = k;
  }
  for (const r of responses) {
    const i = requests.findIndex((q) => q.correlationId === r.correlationId);
    if (i < 0 || requests[i].kind !== r.kind) {
      errorCount++;
      continue;
    }
    const q = requests[i];
    errorCount += i; // passed over: their responses were not seen
    requests.splice(0, i + 1);
    records.push(...(q.kind === 'produce' ? publish(st, q, r, r.endNs) : processed(st, q, r)));
  }
  responses.length = 0;
  if (closing && requests.length > 0) {
    errorCount += requests.length;
    requests.length = 0;
  }
  return { records, errorCount };
}
