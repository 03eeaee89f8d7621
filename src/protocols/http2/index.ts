/**
 * HTTP/2 and gRPC (RFC 9113, RFC 7541, gRPC over HTTP/2): plain HTTP/2 streams are HTTP
 * records (`network.protocol.version=2`), gRPC calls are RPC records (instrumentation `grpc`).
 * The descriptor's name is `http`, the instrumentation of the connection's plain HTTP/2 records;
 * RPC spans carry `grpc` (telemetry/rpc.ts), so `instrumentations` filters each kind by its name.
 */
import type { ProtocolDescriptor, ProtocolSettings, RecordParser } from '../common/descriptor.ts';
import { detectHttp2 } from './detect.ts';
import { Http2Parser } from './parse.ts';
import type { Http2Counters, Http2Record } from './types.ts';

export { Http2Parser } from './parse.ts';
export type { Http2Counters, Http2Record } from './types.ts';

/**
 * One parser per agent (its connections share it): `counters` sums over them all. With
 * `http_payload_capture` set (an HTTP extractor is on) its HTTP records carry headers and body
 * prefixes of that many bytes.
 */
export function createHttp2Parser(settings?: ProtocolSettings): Http2Parser {
  return new Http2Parser(settings?.http_payload_capture ?? 0);
}

/** the HTTP/2 totals of a parser this descriptor created (self-metrics) */
export function http2Counters(parser: unknown): Http2Counters | undefined {
  return parser instanceof Http2Parser ? parser.counters : undefined;
}

/** `obi_http2_streams_events_total{event}` values read from the HTTP/2 parser among `parsers`, if any */
export function http2EventSource(parsers: readonly unknown[]): (() => Readonly<Record<string, number>>) | undefined {
  const c = parsers.map(http2Counters).find((x) => x !== undefined);
  if (c === undefined) return undefined;
  return () => ({ partial: c.partialStreams, unreported: c.unreportedStreams, header_block_lost: c.headerBlocksLost, desync: c.desyncs, dropped: c.streamsDropped });
}

export const http2: ProtocolDescriptor<Http2Record> = {
  name: 'http',
  wire: 'http2',
  category: 'http',
  detect: detectHttp2,
  createParser: (settings?: ProtocolSettings) => createHttp2Parser(settings) as unknown as RecordParser<Http2Record>,
};
