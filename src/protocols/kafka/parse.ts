/**
 * Kafka framing and decoding over a StreamBuffer (client side: requests are what the traced
 * producer or consumer sends, responses what the broker answers).
 *
 * Every message is `size (int32) | header | body`. A request header names the API key, its
 * version, a correlation id and the client id (header v1; v2 adds tagged fields in flexible
 * versions). A response header holds only the correlation id (plus tagged fields in flexible
 * versions, except for ApiVersions, whose response header is always v0), so responses are
 * decoded with the key and version of the request that had the same correlation id on the
 * connection (brokers answer in order).
 *
 * Decoded: Produce v0-v13 (request and response), Fetch v0-v18 (response), Metadata v0-v13
 * (response: topic id -> name, for the versions that name topics by id), ApiVersions v0-v4
 * (framing only). Flexible versions (compact strings and arrays, tagged fields) from Produce v9,
 * Fetch v12, Metadata v9, ApiVersions v3. Any other API is framed by its size and skipped. A
 * version above those is never decoded: the exchange is skipped and counted
 * (`unsupportedVersions`).
 *
 * Record data: record batches (magic 2) are counted from their header's record count, so
 * compressed batches are counted without decompressing them; record headers (`traceparent`) are
 * read from uncompressed batches. Legacy message sets (magic 0/1) count one per entry (a
 * compressed wrapper counts as one). Control batches (transaction markers) are not messages.
 *
 * Large frames: a decoder walks the frame once, resuming as segments arrive (wire.ts), and
 * releases the captured bytes behind it; bytes in gaps are skipped where their length is known,
 * and the walk stops (the frame marked truncated) where a length itself was not captured.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { API_FETCH, API_METADATA, API_PRODUCE, API_VERSIONS } from './types.ts';
import type { BatchSummary, KafkaFrame, KafkaRequestFrame, KafkaResponseFrame, TopicSummary } from './types.ts';
import { Cursor, arrayCount, arrive, int16, int32, int64, int8, length, str, taggedFields, uuid, varint, type Step } from './wire.ts';

/** highest version decoded per API key (see the module comment) */
export const MAX_VERSION: Readonly<Record<number, number>> = Object.freeze({ [API_PRODUCE]: 13, [API_FETCH]: 18, [API_METADATA]: 13, [API_VERSIONS]: 4 });
/** first flexible version per API key */
const FLEXIBLE_FROM: Readonly<Record<number, number>> = Object.freeze({ [API_PRODUCE]: 9, [API_FETCH]: 12, [API_METADATA]: 9, [API_VERSIONS]: 3 });
/** highest API key a request may carry (the protocol guide lists keys 0-92 as of Kafka 4.x) */
export const MAX_API_KEY = 127;
/** a version above this is not a Kafka request header */
export const MAX_ANY_VERSION = 40;
/** largest frame accepted (brokers default to 100 MiB, socket.request.max.bytes) */
export const MAX_FRAME = 100 * 1024 * 1024;
/** requests remembered while their responses are awaited, per connection */
export const MAX_INFLIGHT = 256;
/** topic id -> name mappings per connection (the parser-wide cache is `ebpf.kafka_topic_uuid_cache_size`) */
export const MAX_CONN_TOPIC_IDS = 1024;
/** records scanned per response for a `traceparent` header */
const MAX_SCANNED_RECORDS = 1000;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isFlexible(apiKey: number, version: number): boolean {
  const f = FLEXIBLE_FROM[apiKey];
  return f !== undefined && version >= f;
}

/** Counters shared by the connections of one parser. */
export interface KafkaStats {
  /** exchanges skipped because their API version is above what is decoded (MAX_VERSION) */
  unsupportedVersions: number;
  /** topics named by an id no Metadata response had mapped (`process *`) */
  unresolvedTopicIds: number;
}

/** topic id -> name, LRU, shared by the connections of one parser (`ebpf.kafka_topic_uuid_cache_size`) */
export class TopicIdCache {
  readonly max: number;
  private readonly _m = new Map<string, string>();
  constructor(max: number) {
    this.max = max;
  }
  get size(): number {
    return this._m.size;
  }
  get(id: string): string | undefined {
    const v = this._m.get(id);
    if (v !== undefined) {
      this._m.delete(id);
      this._m.set(id, v);
    }
    return v;
  }
  set(id: string, name: string): void {
    lruSet(this._m, id, name, this.max);
  }
}

function lruSet(m: Map<string, string>, k: string, v: string, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

interface Inflight {
  readonly apiKey: number;
  readonly version: number;
  /** version above MAX_VERSION: skip the response */
  readonly unsupported: boolean;
}

interface ReqResult {
  readonly kind: 'invalid' | 'skip' | 'frame';
  readonly apiKey?: number;
  readonly version?: number;
  readonly correlationId?: number;
  readonly clientId?: string;
  readonly unsupported?: boolean;
  readonly noResponse?: boolean;
  readonly topics?: TopicSummary[];
  readonly truncated?: boolean;
}

interface RespResult {
  readonly kind: 'invalid' | 'skip' | 'frame' | 'metadata' | 'orphan';
  readonly apiKey?: number;
  readonly version?: number;
  readonly correlationId?: number;
  readonly topics?: TopicSummary[];
  readonly errorCode?: number;
  readonly truncated?: boolean;
  /** Metadata: topic id -> name */
  readonly ids?: [string, string][];
}

interface Progress<R> {
  readonly bufId: number;
  readonly pos: number;
  readonly end: number;
  readonly cursor: Cursor;
  readonly gen: Step<R>;
  result?: R;
}

export interface KafkaState {
  /** correlation id -> request awaiting its response, oldest first */
  readonly inflight: Map<number, Inflight>;
  /** topic id -> name from Metadata responses on this connection */
  readonly topicIds: Map<string, string>;
  /** the parser-wide topic id cache, when configured */
  readonly sharedIds?: TopicIdCache;
  readonly stats: KafkaStats;
  /** this connection's unsupported-version exchanges */
  unsupportedVersions: number;
  req?: Progress<ReqResult>;
  resp?: Progress<RespResult>;
}

export function newKafkaState(stats: KafkaStats = { unsupportedVersions: 0, unresolvedTopicIds: 0 }, sharedIds?: TopicIdCache): KafkaState {
  return { inflight: new Map(), topicIds: new Map(), sharedIds, stats, unsupportedVersions: 0 };
}

/** the name of a topic id, from this connection's Metadata responses or the shared cache */
export function resolveTopicId(st: KafkaState, id: string): string | undefined {
  return st.topicIds.get(id) ?? st.sharedIds?.get(id);
}

// ------------------------------------------------------------------ record data

function newBatchSummary(): BatchSummary {
  return { records: 0, truncated: false, compressed: 0 };
}

/** read `n` bytes as text when captured, else null; the cursor moves past them */
function* bytesText(c: Cursor, n: number): Step<string | null> {
  if (!(yield* arrive(c, n))) return null;
  const b = c.buf.slice(c.o, c.o + n);
  c.o += n;
  return b === null ? null : b.toString('latin1');
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
      const key = hk === 11 ? yield* bytesText(c, hk) : ((c.o += hk), null);
      const hv = yield* varint(c);
      if (hv === null || c.o + Math.max(hv, 0) > recEnd) return;
      if (key === 'traceparent' && hv >= 55 && hv <= 128) {
        const v = yield* bytesText(c, hv);
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
function* topicKey(c: Cursor, byId: boolean, flex: boolean): Step<TopicSummary> {
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

// ------------------------------------------------------------------ requests

function* produceRequest(c: Cursor, v: number, out: { topics: TopicSummary[]; acks?: number; truncated: boolean }): Step<void> {
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

function* request(c: Cursor): Step<ReqResult> {
  const apiKey = yield* int16(c);
  const version = yield* int16(c);
  const correlationId = yield* int32(c);
  if (c.bad) return { kind: 'invalid' };
  if (apiKey === null || version === null || correlationId === null) return { kind: 'skip' };
  if (apiKey < 0 || apiKey > MAX_API_KEY || version < 0 || version > MAX_ANY_VERSION) return { kind: 'invalid' };
  const clientId = yield* str(c, false);
  if (c.bad) return apiKey === 7 && version === 0 ? { kind: 'skip' } : { kind: 'invalid' }; // ControlledShutdown v0 has no client id
  const max = MAX_VERSION[apiKey];
  const base = { apiKey, version, correlationId, clientId: clientId ?? undefined };
  if (max === undefined) return { kind: 'skip', ...base };
  if (version > max) return { kind: 'skip', ...base, unsupported: true };
  if (isFlexible(apiKey, version) && !(yield* taggedFields(c))) return { kind: 'skip', ...base, truncated: true };
  if (apiKey !== API_PRODUCE && apiKey !== API_FETCH) return { kind: 'skip', ...base };
  if (apiKey === API_FETCH) return { kind: 'frame', ...base, topics: [] };
  const out = { topics: [] as TopicSummary[], acks: undefined as number | undefined, truncated: false };
  yield* produceRequest(c, version, out);
  return { kind: 'frame', ...base, topics: out.topics, noResponse: out.acks === 0, truncated: c.bad || out.acks === undefined || out.topics.some((t) => t.truncated) };
}

// ------------------------------------------------------------------ responses

function* produceResponse(c: Cursor, v: number, topics: TopicSummary[]): Step<void> {
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

function* fetchResponse(c: Cursor, v: number, topics: TopicSummary[], top: { errorCode?: number }): Step<void> {
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

function* metadataResponse(c: Cursor, v: number, ids: [string, string][]): Step<void> {
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

function* response(c: Cursor, st: KafkaState): Step<RespResult> {
  const correlationId = yield* int32(c);
  if (c.bad) return { kind: 'invalid' };
  if (correlationId === null) return { kind: 'skip' };
  if (correlationId < 0) return { kind: 'invalid' };
  const q = st.inflight.get(correlationId);
  // a response to a request not seen (its header lost, or sent before capture began): skipped by its size, counted unpaired
  if (q === undefined) return { kind: 'orphan', correlationId };
  const base = { apiKey: q.apiKey, version: q.version, correlationId };
  if (q.unsupported || MAX_VERSION[q.apiKey] === undefined || q.apiKey === API_VERSIONS) return { kind: 'skip', ...base };
  if (isFlexible(q.apiKey, q.version) && !(yield* taggedFields(c))) return { kind: 'skip', ...base, truncated: true };
  if (q.apiKey === API_METADATA) {
    const ids: [string, string][] = [];
    yield* metadataResponse(c, q.version, ids);
    return { kind: 'metadata', ...base, ids };
  }
  const topics: TopicSummary[] = [];
  if (q.apiKey === API_PRODUCE) {
    yield* produceResponse(c, q.version, topics);
    return { kind: 'frame', ...base, topics, truncated: c.bad };
  }
  const top: { errorCode?: number } = {};
  yield* fetchResponse(c, q.version, topics, top);
  return { kind: 'frame', ...base, topics, errorCode: top.errorCode, truncated: c.bad || topics.some((t) => t.truncated) };
}

// ------------------------------------------------------------------ frames

function size(buf: StreamBuffer): number | null | undefined {
  if (buf.length < 4) return undefined;
  const a = buf.byteAt(0);
  const b = buf.byteAt(1);
  const c = buf.byteAt(2);
  const d = buf.byteAt(3);
  if ((a | b | c | d) < 0) return null;
  return a * 0x1000000 + ((b << 16) | (c << 8) | d);
}

function register(st: KafkaState, correlationId: number, q: Inflight): void {
  st.inflight.delete(correlationId);
  if (st.inflight.size >= MAX_INFLIGHT) st.inflight.delete(st.inflight.keys().next().value as number);
  st.inflight.set(correlationId, q);
}

/** the response to `correlationId` came: forget it and every older request (brokers answer in order) */
function answered(st: KafkaState, correlationId: number): void {
  for (const k of st.inflight.keys()) {
    st.inflight.delete(k);
    if (k === correlationId) return;
  }
}

/** ProtocolParser.parseFrame for Kafka. */
export function parseKafkaFrame(type: MessageType, buf: StreamBuffer, st: KafkaState): ParseResult<KafkaFrame> {
  const isReq = type === 'request';
  let p: Progress<ReqResult> | Progress<RespResult> | undefined = isReq ? st.req : st.resp;
  if (p === undefined || p.bufId !== buf.id || p.pos !== buf.position) {
    const n = size(buf);
    if (n === undefined) return { state: 'needs-more-data' };
    if (n === null || n < (isReq ? 10 : 4) || n > MAX_FRAME) return { state: 'invalid' };
    const cursor = new Cursor(buf, 4, 4 + n);
    p = { bufId: buf.id, pos: buf.position, end: 4 + n, cursor, gen: isReq ? request(cursor) : response(cursor, st) } as Progress<ReqResult> | Progress<RespResult>;
    if (isReq) st.req = p as Progress<ReqResult>;
    else st.resp = p as Progress<RespResult>;
  }
  if (p.result === undefined) {
    const r = p.gen.next();
    if (r.done === true) {
      p.result = r.value;
      if (r.value.kind === 'invalid') {
        if (isReq) st.req = undefined;
        else st.resp = undefined;
        return { state: 'invalid' };
      }
    }
  }
  // release what the decoder has read (or all of the frame once it is done)
  const upto = Math.min(p.result === undefined ? p.cursor.o : buf.length, p.end, buf.length);
  if (upto > 8) buf.forget(8, upto);
  if (buf.length < p.end || p.result === undefined) return { state: 'needs-more-data' };

  const startNs = buf.tsAt(0);
  const endNs = buf.tsAt(p.end - 1);
  buf.consume(p.end);
  if (isReq) {
    st.req = undefined;
    return finishRequest(p.result as ReqResult, st, startNs, endNs);
  }
  st.resp = undefined;
  return finishResponse(p.result as RespResult, st, startNs, endNs);
}

function finishRequest(r: ReqResult, st: KafkaState, startNs: number, endNs: number): ParseResult<KafkaFrame> {
  if (r.apiKey === undefined || r.version === undefined || r.correlationId === undefined) return { state: 'ignored' };
  if (r.unsupported === true) {
    st.unsupportedVersions++;
    st.stats.unsupportedVersions++;
  }
  if (r.noResponse !== true) register(st, r.correlationId, { apiKey: r.apiKey, version: r.version, unsupported: r.unsupported === true });
  if (r.kind !== 'frame') return { state: 'ignored' };
  const frame: KafkaRequestFrame = {
    kind: r.apiKey === API_PRODUCE ? 'produce' : 'fetch',
    correlationId: r.correlationId,
    apiVersion: r.version,
    clientId: r.clientId,
    noResponse: r.noResponse === true,
    topics: r.topics ?? [],
    truncated: r.truncated === true,
    startNs,
    endNs,
  };
  return { state: 'success', frame };
}

function finishResponse(r: RespResult, st: KafkaState, startNs: number, endNs: number): ParseResult<KafkaFrame> {
  if (r.correlationId === undefined) return { state: 'ignored' };
  if (r.kind === 'orphan') return { state: 'success', frame: { kind: 'orphan', correlationId: r.correlationId, apiVersion: -1, topics: [], truncated: true, startNs, endNs } };
  answered(st, r.correlationId);
  if (r.kind === 'metadata') {
    for (const [id, name] of r.ids ?? []) {
      lruSet(st.topicIds, id, name, MAX_CONN_TOPIC_IDS);
      st.sharedIds?.set(id, name);
    }
    return { state: 'ignored' };
  }
  if (r.kind !== 'frame' || r.apiKey === undefined || r.version === undefined) return { state: 'ignored' };
  const frame: KafkaResponseFrame = {
    kind: r.apiKey === API_PRODUCE ? 'produce' : 'fetch',
    correlationId: r.correlationId,
    apiVersion: r.version,
    topics: r.topics ?? [],
    errorCode: r.errorCode,
    truncated: r.truncated === true,
    startNs,
    endNs,
  };
  return { state: 'success', frame };
}

