/**
 * Every protocol obi-ts decodes, in detection order (obi-compat §4.6): the first descriptor
 * whose detector accepts a new connection's first bytes owns the connection. Adding a protocol
 * is its folder under src/protocols/ plus one line here (docs/devdocs/adding-a-protocol.md).
 * The HTTP payload extractors (protocols read from parsed HTTP exchanges) are listed here too.
 */
import { amqp } from './amqp/index.ts';
import type { ProtocolDescriptor, ProtocolSettings, RecordParser } from './common/descriptor.ts';
import type { HttpExtractionConfig, HttpExtractor } from './common/http-extract.ts';
import { awsS3 } from './aws-s3/index.ts';
import { elasticsearch } from './elasticsearch/index.ts';
import { fastcgi } from './fastcgi/index.ts';
import { graphql } from './graphql/index.ts';
import { genai } from './genai/index.ts';

/** the GenAI extractor narrowed to the providers enabled, and the body it needs kept (pipeline/genai-config.ts) */
export { GENAI_BODY_KEEP, genaiExtractor, type GenaiProvider } from './genai/index.ts';

import { http1 } from './http1/index.ts';
import { dnsTcp, dnsUdp } from './dns/index.ts';
import { http2 } from './http2/index.ts';
import { kafka } from './kafka/index.ts';
import { memcached } from './memcached/index.ts';
import { mongo } from './mongo/index.ts';
import { mqtt } from './mqtt/index.ts';
import { mysql } from './mysql/index.ts';
import { nats } from './nats/index.ts';
import { postgres } from './postgres/index.ts';
import { redis } from './redis/index.ts';

export const PROTOCOLS: readonly ProtocolDescriptor[] = Object.freeze([
  http2, // before http1: an HTTP/1.1 request with `Upgrade: h2c` is HTTP/2's
  http1,
  fastcgi, // binary: a BEGIN_REQUEST header (version 1, type 1, length 8) or a STDOUT with a CGI head
  postgres,
  mysql,
  mongo,
  redis,
  memcached,
  kafka,
  nats,
  amqp,
  mqtt,
  dnsTcp,
  dnsUdp,
]);

/** Instrumentation names (config `instrumentations`) of the registered protocols, each once. */
export function instrumentationNames(protocols: readonly ProtocolDescriptor[] = PROTOCOLS): string[] {
  return [...new Set(protocols.map((p) => p.name))];
}

/** A registered protocol with its parser, configured once and shared by its connections. */
export interface BoundProtocol {
  readonly descriptor: ProtocolDescriptor;
  readonly parser: RecordParser;
}

/** The descriptors' parsers configured from `settings` (each protocol's own defaults where absent), in order. */
export function bindProtocols(descriptors: readonly ProtocolDescriptor[] = PROTOCOLS, settings?: ProtocolSettings): readonly BoundProtocol[] {
  return descriptors.map((descriptor) => ({ descriptor, parser: descriptor.createParser(settings) }));
}

/**
 * Every HTTP payload extractor (src/protocols/common/http-extract.ts), in the order they are
 * tried: the first whose `extract` returns an enrichment for an exchange wins. Adding one is its
 * folder under src/protocols/ plus one line here (docs/devdocs/adding-a-protocol.md, "HTTP
 * payload extractors").
 */
export const HTTP_EXTRACTORS: readonly HttpExtractor[] = Object.freeze([
  graphql, // server side
  elasticsearch, // client side, by the product header or the client's User-Agent
  awsS3, // client side, by the SigV4 scope or request id and S3 host
  genai, // client side; the agent narrows it to the providers enabled (pipeline/genai-config.ts)
]);

/** Body bytes the HTTP parsers keep per message while any extractor is on (ProtocolSettings.http_payload_capture). */
export const DEFAULT_HTTP_PAYLOAD_CAPTURE = 8192;

/** The extractors switched on in `ebpf.payload_extraction.http`, in order. */
export function enabledHttpExtractors(config: HttpExtractionConfig | undefined, extractors: readonly HttpExtractor[] = HTTP_EXTRACTORS): readonly HttpExtractor[] {
  if (config === undefined) return [];
  return extractors.filter((e) => e.enabled(config));
}
