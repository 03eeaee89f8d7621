/**
 * Kafka message bodies the parser decodes (decoder steps over a Cursor, see wire.ts): record
 * data (record batches and legacy message sets: counts, first offset, a `traceparent` record
 * header), Produce requests and responses, Fetch responses and Metadata responses (topic id ->
 * name). Field layouts from the protocol guide and the message JSON definitions; versions and
 * flexible encodings as listed in parse.ts.
 */
import type { BatchSummary, TopicSummary } from './types.ts';
import { arrayCount, int16, int32, int64, int8, length, str, taggedFields, text, uuid, varint, type Cursor, type Step } from './wire.ts';

/** records scanned per response for a `traceparent` header */
const MAX_SCANNED_RECORDS = 1000;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

// ------------------------------------------------------------------ record data

function newBatchSummary(): BatchSummary {
  return { records: 0, truncated: false, compressed: 0 };
}

/** scan the records of an uncompressed batch (from the cursor to `end`) for a `traceparent` header */
function* scanRecords(c: Cursor, count: number, end: number, sum: BatchSummary): Step<void> {
  for (let i = 0; i < count && c.o < end && i < MAX_SCANNED_RECORDS; i++) {
    const len = yield* varint(c);
    if (len === null || len < 0 || c.o + len > end) return;
    const recEnd = c.o + len;
    c.o += 1; // attributes
    const ts = yield* varint(c);
    const od = yield* varint(c);
    const kl = yield* varint(c);
    if (ts === null || od === null || kl === null || c.o + Math.max(kl, 0) > recEnd) return;
    if (kl > 0) c.o += kl;
    const vl = yield* varint(c);
    if (vl === null || c.o + Math.max(vl, 0) > recEnd) return;
    if (vl > 0) c.o += vl;
    const hc = yield* varint(c);
    if (hc === null || hc < 0) return;
    for (let h = 0; h < hc && c.o < recEnd; h++) {
      const hk = yield* varint(c);
      if (hk === null || hk < 0 || c.o + hk > recEnd) return;
      const key = hk === 11 ? yield* text(c, hk, 'latin1') : ((c.o += hk), null);
      const hv = yield* varint(c);
      if (hv === null || c.o + Math.max(hv, 0) > recEnd) return;
      if (key === 'traceparent' && hv >= 55 && hv <= 128) {
        const v = yield* text(c, hv, 'latin1');
        if (v !== null && TRACEPARENT.test(v)) {
          sum.traceparent = v;
          return;
        }
      } else if (hv > 0) c.o += hv;
    }
    if (c.bad) return;
    c.o = recEnd;
  }
}

/**
 * The record data of one partition: `n` bytes from the cursor (record batches or a legacy
 * message set, possibly ending with a partial batch, which is not counted).
 */
function* walkRecords(c: Cursor, n: number, sum: BatchSummary, scanHeaders: boolean): Step<void> {
  const end = c.o + n;
  while (end - c.o >= 17 && !c.bad) {
    const base = c.o;
    const baseOffset = yield* int64(c);
    const batchLen = yield* int32(c);
    if (batchLen === null) {
      sum.truncated = true; // the rest of this partition's batches cannot be placed
      break;
    }
    const bend = base + 12 + batchLen;
    if (batchLen < 5 || bend > end) break; // a partial batch (fetch size limit): the client drops it too
    c.o = base + 16;
    const magic = yield* int8(c);
    if (magic === 2 && batchLen >= 49) {
      c.o = base + 21;
      const attrs = yield* int16(c);
      const lastOffsetDelta = yield* int32(c);
      c.o = base + 57;
      const cnt = yield* int32(c);
      const control = attrs !== null && (attrs & 0x20) !== 0;
      let count = cnt;
      if (count === null || count < 0) {
        count = lastOffsetDelta !== null && lastOffsetDelta >= 0 ? lastOffsetDelta + 1 : null;
        if (count === null) sum.truncated = true;
      }
      if (!control && count !== null) {
        sum.records += count;
        if (sum.firstOffset === undefined && baseOffset !== null) sum.firstOffset = baseOffset;
      }
      if (attrs === null) sum.truncated = true;
      else if ((attrs & 7) !== 0) sum.compressed++;
      else if (scanHeaders && !control && sum.traceparent === undefined && count !== null) yield* scanRecords(c, count, bend, sum);
    } else if ((magic === 0 || magic === 1) && batchLen >= 14) {
      sum.records += 1;
      if (sum.firstOffset === undefined && baseOffset !== null) sum.firstOffset = baseOffset;
      c.o = base + 17;
      const attrs = yield* int8(c);
      if (attrs !== null && (attrs & 7) !== 0) {
        sum.compressed++;
        sum.truncated = true; // the wrapper's inner messages are not counted without decompressing
      }
    } else {
      if (magic === null) sum.truncated = true;
      else break; // not record data: stop here
    }
    c.bad = false;
    c.o = bend;
  }
  c.o = end;
}

function mergeTopic(t: TopicSummary, partition: number | null, sum: BatchSummary): void {
  t.partitions++;
  if (sum.records > 0) {
    if (t.records === 0 || t.partition === undefined) {
      if (partition !== null) t.partition = partition;
      t.firstOffset = sum.firstOffset;
    }
    t.records += sum.records;
  } else if (t.partition === undefined && partition !== null && t.partitions === 1) t.partition = partition;
  if (t.traceparent === undefined && sum.traceparent !== undefined) t.traceparent = sum.traceparent;
  if (sum.truncated) t.truncated = true;
}

/** a topic's name or id (v13+ of Produce and Fetch name topics by id) */
export function* topicKey(c: Cursor, byId: boolean, flex: boolean): Step<TopicSummary> {
  const t: TopicSummary = { partitions: 0, records: 0, truncated: false };
  if (byId) {
    const id = yield* uuid(c);
    if (id === null) t.truncated = true;
    else t.id = id;
  } else {
    const name = yield* str(c, flex);
    if (name === null) t.truncated = true;
    else t.name = name;
  }
  return t;
}

export function* produceRequest(c: Cursor, v: number, out: { topics: TopicSummary[]; acks?: number; truncated: boolean }): Step<void> {
  const flex = v >= 9;
  if (v >= 3) {
    const txn = yield* str(c, flex);
    if (txn === null) return;
  }
  const acks = yield* int16(c);
  if (acks !== null) out.acks = acks;
  c.skip(4);
  const nt = yield* arrayCount(c, flex, 2);
  if (nt === null) return;
  for (let t = 0; t < nt && !c.bad; t++) {
    const topic = yield* topicKey(c, v >= 13, flex);
    if (c.bad) return;
    out.topics.push(topic);
    const np = yield* arrayCount(c, flex, 5);
    if (np === null) return;
    for (let p = 0; p < np && !c.bad; p++) {
      const idx = yield* int32(c);
      const n = yield* length(c, flex ? 'compact' : 'i32');
      if (n === null) {
        c.bad = true;
        return;
      }
      const sum = newBatchSummary();
      if (n > 0) yield* walkRecords(c, n, sum, false);
      mergeTopic(topic, idx, sum);
      if (flex && !(yield* taggedFields(c))) return;
    }
    if (flex && !(yield* taggedFields(c))) return;
  }
}


// ------------------------------------------------------------------ responses

export function* produceResponse(c: Cursor, v: number, topics: TopicSummary[]): Step<void> {
  const flex = v >= 9;
  const nt = yield* arrayCount(c, flex, 2);
  if (nt === null) return;
  for (let t = 0; t < nt && !c.bad; t++) {
    const topic = yield* topicKey(c, v >= 13, flex);
    if (c.bad) return;
    topics.push(topic);
    const np = yield* arrayCount(c, flex, 14);
    if (np === null) return;
    for (let p = 0; p < np && !c.bad; p++) {
      const idx = yield* int32(c);
      const err = yield* int16(c);
      const baseOffset = yield* int64(c);
      if (topic.partitions === 0) {
        if (idx !== null) topic.partition = idx;
        if (baseOffset !== null && baseOffset >= 0) topic.firstOffset = baseOffset;
      }
      topic.partitions++;
      if (err !== null && err !== 0 && topic.errorCode === undefined) topic.errorCode = err;
      if (v >= 2) c.skip(8);
      if (v >= 5) c.skip(8);
      if (v >= 8) {
        const ne = yield* arrayCount(c, flex, 5);
        for (let e = 0; e < (ne ?? 0) && !c.bad; e++) {
          c.skip(4);
          yield* str(c, flex);
          if (flex && !(yield* taggedFields(c))) return;
        }
        yield* str(c, flex);
      }
      if (flex && !(yield* taggedFields(c))) return;
    }
    if (flex && !(yield* taggedFields(c))) return;
  }
}

export function* fetchResponse(c: Cursor, v: number, topics: TopicSummary[], top: { errorCode?: number }): Step<void> {
  const flex = v >= 12;
  if (v >= 1) c.skip(4);
  if (v >= 7) {
    const err = yield* int16(c);
    if (err !== null && err !== 0) top.errorCode = err;
    c.skip(4);
  }
  const nt = yield* arrayCount(c, flex, 2);
  if (nt === null) return;
  for (let t = 0; t < nt && !c.bad; t++) {
    const topic = yield* topicKey(c, v >= 13, flex);
    if (c.bad) return;
    topics.push(topic);
    const np = yield* arrayCount(c, flex, 18);
    if (np === null) return;
    for (let p = 0; p < np && !c.bad; p++) {
      const idx = yield* int32(c);
      const err = yield* int16(c);
      if (err !== null && err !== 0 && topic.errorCode === undefined) topic.errorCode = err;
      c.skip(8);
      if (v >= 4) c.skip(8);
      if (v >= 5) c.skip(8);
      if (v >= 4) {
        const na = yield* arrayCount(c, flex, 16);
        if (c.bad) return;
        for (let a = 0; a < (na ?? 0) && !c.bad; a++) {
          c.skip(16);
          if (flex && !(yield* taggedFields(c))) return;
        }
      }
      if (v >= 11) c.skip(4);
      const n = yield* length(c, flex ? 'compact' : 'i32');
      if (n === null) {
        c.bad = true;
        return;
      }
      const sum = newBatchSummary();
      if (n > 0) yield* walkRecords(c, n, sum, true);
      mergeTopic(topic, idx, sum);
      if (flex && !(yield* taggedFields(c))) return;
    }
    if (flex && !(yield* taggedFields(c))) return;
  }
}

export function* metadataResponse(c: Cursor, v: number, ids: [string, string][]): Step<void> {
  const flex = v >= 9;
  if (v >= 3) c.skip(4);
  const nb = yield* arrayCount(c, flex, 8);
  if (nb === null) return;
  for (let b = 0; b < nb && !c.bad; b++) {
    c.skip(4);
    if ((yield* str(c, flex)) === null) return;
    c.skip(4);
    if (v >= 1 && (yield* str(c, flex)) === null) return;
    if (flex && !(yield* taggedFields(c))) return;
  }
  if (v >= 2 && (yield* str(c, flex)) === null) return;
  if (v >= 1) c.skip(4);
  const nt = yield* arrayCount(c, flex, 3);
  if (nt === null) return;
  for (let t = 0; t < nt && !c.bad; t++) {
    c.skip(2);
    const name = yield* str(c, flex);
    if (name === null) return;
    const id = v >= 10 ? yield* uuid(c) : null;
    if (v >= 1) c.skip(1);
    const np = yield* arrayCount(c, flex, 10);
    for (let p = 0; p < (np ?? 0) && !c.bad; p++) {
      c.skip(10);
      if (v >= 7) c.skip(4);
      for (let k = 0; k < (v >= 5 ? 3 : 2) && !c.bad; k++) {
        const n = yield* arrayCount(c, flex, 4);
        c.skip(4 * (n ?? 0));
      }
      if (flex && !(yield* taggedFields(c))) return;
    }
    if (v >= 8) c.skip(4);
    if (flex && !(yield* taggedFields(c))) return;
    if (c.bad) return;
    if (id !== null && name !== undefined && name.length > 0 && id !== 'AAAAAAAAAAAAAAAAAAAAAA') ids.push([id, name]);
  }
}

