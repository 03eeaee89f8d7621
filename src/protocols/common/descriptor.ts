/**
 * One descriptor per protocol (house rule 11): everything the rest of the agent needs to know
 * about a protocol, exported from `src/protocols/<name>/index.ts` and listed once in
 * `src/protocols/registry.ts`, in detection order.
 */
import type { ConnInfo } from '../../common/conn.ts';
import type { ServiceIdentity } from '../../common/service.ts';
import type { FrameTiming, MessageType, ProtocolParser } from './contract.ts';
import type { ProtocolRecord } from './records.ts';

/**
 * The configuration protocols read: the `ebpf` keys of the validated configuration
 * (src/config/schema.json) that tune parsers. A protocol that needs a new key adds it to the
 * schema and here.
 */
export interface ProtocolSettings {
  /** `ebpf.postgres_prepared_statements_cache_size` */
  readonly postgres_prepared_statements_cache_size: number;
  /** `ebpf.mysql_prepared_statements_cache_size` */
  readonly mysql_prepared_statements_cache_size: number;
  /** `ebpf.redis_db_cache` */
  readonly redis_db_cache: { readonly enabled: boolean; readonly max_size: number };
  /** `ebpf.mongo_requests_cache_size` */
  readonly mongo_requests_cache_size: number;
  /** `ebpf.kafka_topic_uuid_cache_size` (optional: settings built before Kafka may lack it) */
  readonly kafka_topic_uuid_cache_size?: number;
  /**
   * Bytes of each HTTP body kept (with the headers) for the HTTP payload extractors
   * (src/protocols/common/http-extract.ts); 0 or absent: none. Set by the pipeline when an
   * extractor is switched on, not a configuration key of its own.
   */
  readonly http_payload_capture?: number;
}

/** A parser of any frame and state types producing records of type R. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RecordParser<R extends ProtocolRecord = ProtocolRecord> = ProtocolParser<FrameTiming, FrameTiming, R, any>;

export interface ProtocolDescriptor<R extends ProtocolRecord = ProtocolRecord> {
  /**
   * The instrumentation name, the one name of the protocol outside its folder: config
   * `instrumentations` (`OTEL_EBPF_*_INSTRUMENTATIONS`), `Span.protocol`, metric filtering, the
   * service graph. OBI groups some wire protocols under one name (PostgreSQL and MySQL are `sql`).
   */
  readonly name: string;
  /** the wire protocol, unique in the registry (`http1`, `postgresql`): logs and per-protocol self-metrics */
  readonly wire: string;
  readonly category: R['category'];
  /**
   * Do these first bytes of one direction of a new connection start a `type` message of this
   * protocol? Few false positives: the registry tries descriptors in order and the first yes wins.
   * `length` is how many bytes the segment had (the syscall's count): more than `head.length`
   * when the capture cut it, and `head.length` when `head` is all of it (the default), so a
   * message header that declares more bytes than a whole segment holds can be told from one the
   * capture cut.
   */
  readonly detect: (head: Buffer, type: MessageType, length?: number) => boolean;
  /** the protocol runs over datagrams (UDP): tried only on UDP sockets, which only datagram protocols are tried on */
  readonly datagram?: boolean;
  /**
   * The protocol's parser, configured from the settings, or with the protocol's own defaults
   * (which equal the schema's) when there are none. Called once at start-up; its connections share it.
   */
  readonly createParser: (settings?: ProtocolSettings) => RecordParser<R>;
  /** the opt-in query text of a record (`db.query.text`), with values masked; absent if the protocol has none */
  queryText?(record: R): string | undefined;
}

/** A connection whose protocol is known, as ingest hands it on with each of its records. */
export interface ProtocolConn {
  readonly info: ConnInfo;
  /** resolved once per connection */
  readonly service: ServiceIdentity;
  readonly descriptor: ProtocolDescriptor;
}
