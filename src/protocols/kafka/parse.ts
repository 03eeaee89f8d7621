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
 * version above those is never decoded: the exchange is skipped by its size and reported
 * (`ParseResult.unsupportedVersion`: the session counts it, `obi_parser_errors_total{kind=
 * "unsupported_version"}`), and the connection goes on.
 *
 * Record data: record batches (magic 2) are counted from their header's record count, so
 * compressed batches are counted without decompressing them; record headers (`traceparent`) are
 * read from uncompressed batches. Legacy message sets (magic 0/1) count one per entry (a
 * compressed wrapper counts as one). Control batches (transaction markers) are not messages.
 *
 * Responses to requests not seen on the connection are skipped by their size and counted
 * unpaired. The bodies are decoded in bodies.ts. Large frames: a decoder walks the frame once,
 * resuming as segments arrive (wire.ts), and releases the captured bytes behind it; bytes in
 * gaps are skipped where their length is known, and the walk stops (the frame marked
 * truncated) where a length itself was not captured.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { API_FETCH, API_METADATA, API_PRODUCE, API_VERSIONS } from './types.ts';
import type { KafkaFrame, KafkaRequestFrame, KafkaResponseFrame, TopicSummary } from './types.ts';
import { fetchResponse, metadataResponse, produceRequest, produceResponse } from './bodies.ts';
import { Cursor, int16, int32, str, taggedFields, type Step } from './wire.ts';

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

export function isFlexible(apiKey: number, version: number): boolean {
  const f = FLEXIBLE_FROM[apiKey];
  return f !== undefined && version >= f;
}

/** Counters shared by the connections of one parser (unsupported versions are counted by the session: `unsupportedVersions`). */
export interface KafkaStats {
  /** topics named by an id no Metadata response had mapped (`process *`) */
  unresolvedTopicIds: number;
}

/** names of the API keys decoded, for `unsupportedVersion` */
const API_NAMES: Readonly<Record<number, string>> = Object.freeze({ [API_PRODUCE]: 'Produce', [API_FETCH]: 'Fetch', [API_METADATA]: 'Metadata', [API_VERSIONS]: 'ApiVersions' });

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
  req?: Progress<ReqResult>;
  resp?: Progress<RespResult>;
}

export function newKafkaState(stats: KafkaStats = { unresolvedTopicIds: 0 }, sharedIds?: TopicIdCache): KafkaState {
  return { inflight: new Map(), topicIds: new Map(), sharedIds, stats };
}

/** the name of a topic id, from this connection's Metadata responses or the shared cache */
export function resolveTopicId(st: KafkaState, id: string): string | undefined {
  return st.topicIds.get(id) ?? st.sharedIds?.get(id);
}

// ------------------------------------------------------------------ requests

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
  if (r.noResponse !== true) register(st, r.correlationId, { apiKey: r.apiKey, version: r.version, unsupported: r.unsupported === true });
  // skipped whole by its size, never decoded; the session counts it (unsupportedVersions)
  if (r.unsupported === true) return { state: 'ignored', unsupportedVersion: `${API_NAMES[r.apiKey]} v${r.version}` };
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

