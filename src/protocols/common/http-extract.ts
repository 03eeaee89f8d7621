/**
 * The HTTP payload extractor contract: protocols that ride on HTTP (GraphQL, Elasticsearch /
 * OpenSearch, AWS S3, GenAI APIs) are not wire protocols of their own but readings of an
 * HTTP exchange's headers and body prefixes. An extractor is a pure function from an HTTP
 * record (with its captured `payload`) to an enrichment of the HTTP span: a new span name,
 * extra attributes, an error, and optionally another category (Elasticsearch spans are `db`).
 *
 * Extractors are listed once, in order, in src/protocols/registry.ts; the agent keeps
 * those switched on in `ebpf.payload_extraction.http.*` and `recordToSpan`
 * (src/telemetry/record.ts) applies the first one that returns an enrichment. The HTTP parsers
 * keep a bounded `payload` only while at least one extractor is on
 * (`ProtocolSettings.http_payload_capture`). See docs/devdocs/adding-a-protocol.md,
 * "HTTP payload extractors".
 */
import type { HttpHeader, HttpPayload, HttpRecord, ProtocolCategory } from './records.ts';

export type { HttpHeader, HttpPayload } from './records.ts';

/** headers kept per message when extraction is on */
export const MAX_PAYLOAD_HEADERS = 64;
/** longest header value kept (longer values are cut) */
export const MAX_PAYLOAD_HEADER_VALUE = 1024;

/** Value of the first header `name` (lower case), or undefined. */
export function headerValue(headers: readonly HttpHeader[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i][0] === name) return headers[i][1];
  return undefined;
}

/** Span attribute values an extractor may set. */
export type EnrichmentValue = string | number | boolean;

/**
 * How an extractor changes the HTTP span of one exchange. Everything is optional; attributes
 * are added to (and override) the HTTP span's.
 */
export interface HttpEnrichment {
  /** the span's new name (`GraphQL query`, `search my-index`, `s3.PutObject`) */
  readonly name?: string;
  /**
   * another span category: its span builder's metrics then record the span instead of the HTTP
   * ones (Elasticsearch: `db`, so `db_client_operation_duration_seconds`, as OBI routes it)
   */
  readonly category?: ProtocolCategory;
  readonly attributes?: Readonly<Record<string, EnrichmentValue>>;
  /**
   * the operation failed although the HTTP status may say otherwise (a GraphQL `errors` array in
   * a 200): the span becomes ERROR with `error.type` = this value
   */
  readonly errorType?: string;
  /** the span's status message when `errorType` is set */
  readonly errorMessage?: string;
}

/** What an extractor knows besides the record. */
export interface HttpExtractContext {
  /** which side of the exchange the traced process is on */
  readonly role: 'client' | 'server';
  /** `server.address:server.port` of the HTTP span (the peer for a client, the host for a server) */
  readonly server?: string;
}

/** The `ebpf.payload_extraction.http` section of the configuration, as extractors read it. */
export type HttpExtractionConfig = object;

export interface HttpExtractor {
  /** the extractor's name in logs and tests (`graphql`, `elasticsearch`, `aws-s3`) */
  readonly name: string;
  /** is it switched on in `ebpf.payload_extraction.http` (see `switchedOn`) */
  readonly enabled: (config: HttpExtractionConfig) => boolean;
  /** the side(s) it applies to: GraphQL is read on servers, ES and S3 on clients */
  readonly roles: readonly ('client' | 'server')[];
  /**
   * The enrichment of one exchange, or undefined when the exchange is not one of its protocol.
   * Pure, never throws (a throw is caught, counted and the span left as HTTP), and never invents
   * values: a body cut before a field leaves that field out.
   */
  readonly extract: (record: HttpRecord, payload: HttpPayload, ctx: HttpExtractContext) => HttpEnrichment | undefined;
}

/** `<path>.enabled` of the `payload_extraction.http` section is true (`path` dotted: `genai.openai`). */
export function switchedOn(config: HttpExtractionConfig, path: string): boolean {
  let node: unknown = config;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[part];
  }
  return node !== null && typeof node === 'object' && (node as { enabled?: unknown }).enabled === true;
}
