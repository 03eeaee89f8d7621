/**
 * What parsers produce: one record per completed operation, typed by category.
 *
 * A record carries its `category`; telemetry turns (record, connection) into a span with one
 * function that dispatches on it (src/telemetry/record.ts). A protocol of an existing category
 * produces that category's record (extending it with fields of its own where it needs them);
 * a new category adds its record here, to `ProtocolRecord`, and one span builder in telemetry.
 */

/**
 * The kinds of operation obi-ts reports; each has one span builder and its metrics. A category
 * without a record type below has no protocol yet.
 */
/** `genai`: an HTTP exchange the GenAI extractor read (protocols/genai/): its span and metrics are GenAI's */
export type ProtocolCategory = 'http' | 'rpc' | 'db' | 'messaging' | 'dns' | 'genai';

/** When an operation's first request byte and last response byte crossed the socket (monotonic ns). */
export interface RecordTiming {
  readonly startNs: number;
  readonly endNs: number;
}

/** One header as sent: the name in lower case, the value trimmed. */
export type HttpHeader = readonly [name: string, value: string];

/**
 * What an HTTP parser keeps of one exchange for the extractors (only when extraction is on).
 * Bounded: at most `MAX_PAYLOAD_HEADERS` (http-extract.ts) headers per message, each body cut at the capture
 * limit. A body is its decoded content (chunked framing removed, content codings not undone);
 * it stops at the first byte not captured (past the kernel's capture prefix) or at the limit,
 * and its `...Complete` flag says whether it holds the whole body.
 */
export interface HttpPayload {
  readonly requestHeaders: readonly HttpHeader[];
  readonly responseHeaders: readonly HttpHeader[];
  /** the request body's first bytes (empty when none were captured) */
  readonly requestBody: Buffer;
  /** the whole request body is in `requestBody` */
  readonly requestBodyComplete: boolean;
  readonly responseBody: Buffer;
  readonly responseBodyComplete: boolean;
}

/** One HTTP request paired with its response. */
export interface HttpRecord extends RecordTiming {
  readonly category: 'http';
  readonly method: string;
  /** request target as sent (absolute-form kept as sent) */
  readonly target: string;
  /** path part of the target, without query or fragment */
  readonly path: string;
  /** query string without the leading `?`, if any */
  readonly query?: string;
  readonly host?: string;
  /** raw `traceparent` header value when present */
  readonly traceparent?: string;
  readonly userAgent?: string;
  /** response status; 0 when the connection ended before a response */
  readonly status: number;
  readonly requestBodySize: number;
  readonly responseBodySize: number;
  /** either side was truncated (header fields may be missing) */
  readonly truncated?: boolean;
  /** `network.protocol.version` when not HTTP/1.x (`2` for HTTP/2) */
  readonly protocolVersion?: string;
  /** headers and body prefixes for the HTTP payload extractors; only when one is on (http-extract.ts) */
  readonly payload?: HttpPayload;
}

/** `rpc.system.name` values of the RPC protocols. */
export type RpcSystem = 'grpc';

/**
 * One RPC (obi-compat §3): a gRPC call from its request HEADERS to its end (trailers,
 * END_STREAM or a reset), unary or streaming.
 */
export interface RpcRecord extends RecordTiming {
  readonly category: 'rpc';
  readonly system: RpcSystem;
  /** full method `/package.Service/Method` (`rpc.method`, the span name) */
  readonly method: string;
  /** gRPC status code; undefined when it could not be decoded (the span then carries none) */
  readonly statusCode?: number;
  /** `grpc-message` when the call failed */
  readonly statusMessage?: string;
  /** `:authority` as sent */
  readonly authority?: string;
  /** raw `traceparent` metadata when present */
  readonly traceparent?: string;
  /** length-prefixed messages each way; undefined where the count is not known (bytes not captured) */
  readonly requestMessages?: number;
  readonly responseMessages?: number;
  /** DATA payload bytes each way (message prefixes included) */
  readonly requestBodySize: number;
  readonly responseBodySize: number;
  /** the call's headers were only partly decodable (HPACK table state unknown): fields may be missing */
  readonly partial?: boolean;
}

/** `db.system.name` values of the database protocols. */
export type DbSystem = 'postgresql' | 'mysql' | 'other_sql' | 'redis' | 'memcached' | 'mongodb';

/** One database or cache operation. */
export interface DbRecord extends RecordTiming {
  readonly category: 'db';
  readonly system: DbSystem;
  /** `db.operation.name` (SQL keyword, Redis/Memcached command: upper case; MongoDB command as sent: `find`, `getMore`) */
  readonly operation?: string;
  /** `db.collection.name` (table) */
  readonly collection?: string;
  /** `db.namespace` (database name, Redis DB index) */
  readonly namespace?: string;
  /** `db.response.status_code`: vendor code (MySQL error number, SQLSTATE, Redis error prefix) */
  readonly errorCode?: string;
  /** `error.type` (SQLSTATE, Redis error prefix, Memcached error line kind); set iff the operation failed */
  readonly errorType?: string;
  /** server's error text, used as the span status message */
  readonly errorMessage?: string;
}

/** `messaging.system` values of the messaging protocols. */
export type MessagingSystem = 'kafka' | 'rabbitmq' | 'nats' | 'mqtt';

/**
 * One messaging operation (obi-compat §3.1/§3.2): a producer's `publish` (span kind
 * PRODUCER), a consumer's `process` of a delivered message (CONSUMER); other operation types
 * (`receive` for a poll, `settle` for an ack, `create`) where a protocol reports them.
 */
export interface MessagingRecord extends RecordTiming {
  readonly category: 'messaging';
  readonly system: MessagingSystem;
  /** `messaging.operation.type` */
  readonly operation: 'publish' | 'process' | 'receive' | 'settle' | 'create';
  /** `messaging.operation.name`, the system's own name where it differs from the type (`ack`, `nack`, `get`); default `operation` */
  readonly operationName?: string;
  /** `messaging.destination.name` (topic, exchange/routing key, subject); undefined when not captured (span name `<op> *`) */
  readonly destination?: string;
  /** `messaging.client.id` */
  readonly clientId?: string;
  /** `messaging.destination.partition.id` */
  readonly partition?: string;
  /** `messaging.kafka.offset` and the like */
  readonly offset?: number;
  /** `messaging.batch.message_count` when one operation carried several messages */
  readonly messageCount?: number;
  /** `messaging.message.id` */
  readonly messageId?: string;
  /** `messaging.message.body.size`: payload bytes */
  readonly bodySize?: number;
  /** `messaging.message.envelope.size`: payload plus the protocol's headers/properties, where the protocol reports it (NATS) */
  readonly envelopeSize?: number;
  /** `messaging.consumer.group.name` (Kafka group, NATS queue group) */
  readonly consumerGroup?: string;
  /** `rabbitmq.destination.routing_key` (AMQP) */
  readonly routingKey?: string;
  /** `rabbitmq.message.delivery_tag` (AMQP) */
  readonly deliveryTag?: number;
  /** a W3C `traceparent` carried in the message (Kafka record headers, AMQP headers, NATS HPUB, MQTT 5 user properties) */
  readonly traceparent?: string;
  /** `error.type` when the broker refused the operation (e.g. a nack, an error frame); set iff it failed */
  readonly errorType?: string;
  readonly errorMessage?: string;
}

/**
 * One DNS lookup (obi-compat §3): a query and its response, over UDP or TCP.
 */
export interface DnsRecord extends RecordTiming {
  readonly category: 'dns';
  readonly transport: 'udp' | 'tcp';
  /** `dns.question.name`, without the root dot; undefined when not captured */
  readonly name?: string;
  /** the query type's mnemonic (`A`, `AAAA`, `TYPE65534`) */
  readonly type?: string;
  /** the response code's mnemonic (`NOERROR`, `NXDOMAIN`) */
  readonly rcode: string;
  /** `dns.answers`: resource records in the answer section */
  readonly answers: number;
  /** TC: the answer did not fit in the datagram (the client retries over TCP) */
  readonly tc: boolean;
  /** `error.type`: the response code when it is not NOERROR */
  readonly errorType?: string;
}

/** Every record a parser may produce. */
export type ProtocolRecord = HttpRecord | RpcRecord | DbRecord | MessagingRecord | DnsRecord;
