/**
 * What the agent wires for particular protocols, kept out of agent.ts: the protocols bound for
 * the tracker (DNS only when the `dns` instrumentation is on) with the HTTP/2 parser's totals as
 * `obi_http2_streams_events_total`, the HTTP payload extractors switched on (with the HTTP
 * parsers keeping headers and body prefixes for them), and the RPC duration metrics (also
 * handed to OTLP).
 */
import type { ProtocolSettings } from '../protocols/common/descriptor.ts';
import type { HttpExtractionConfig, HttpExtractor } from '../protocols/common/http-extract.ts';
import { bindProtocols, DEFAULT_HTTP_PAYLOAD_CAPTURE, enabledHttpExtractors, PROTOCOLS, type BoundProtocol } from '../protocols/registry.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import type { InternalMetrics } from '../telemetry/internal.ts';
import { createRpcMetrics, type RpcCallMetric, type RpcMetricAttributeDef } from '../telemetry/rpc.ts';

export function bindAgentProtocols(settings: ProtocolSettings & { readonly payload_extraction?: { readonly http?: HttpExtractionConfig } }, dnsEnabled: boolean, internal: InternalMetrics | undefined): readonly BoundProtocol[] {
  // the HTTP parsers keep headers and body prefixes only while an HTTP payload extractor is on
  const capture = httpExtractorsFor(settings).length > 0 ? Math.max(DEFAULT_HTTP_PAYLOAD_CAPTURE, settings.http_payload_capture ?? 0) : 0;
  const bound = bindProtocols(dnsEnabled ? PROTOCOLS : PROTOCOLS.filter((p) => p.name !== 'dns'), capture > 0 ? { ...settings, http_payload_capture: capture } : settings);
  // the HTTP/2 parser's running totals (src/protocols/http2/types.ts Http2Counters), read structurally
  const c = (bound.find((b) => b.descriptor.wire === 'http2')?.parser as { counters?: Record<string, number> } | undefined)?.counters;
  if (c !== undefined) {
    internal?.setHttp2Source(() => ({ partial: c.partialStreams, unreported: c.unreportedStreams, header_block_lost: c.headerBlocksLost, desync: c.desyncs, dropped: c.streamsDropped }));
  }
  return bound;
}

/** The HTTP payload extractors switched on in `ebpf.payload_extraction.http` (src/protocols/registry.ts). */
export function httpExtractorsFor(ebpf: { readonly payload_extraction?: { readonly http?: HttpExtractionConfig } }): readonly HttpExtractor[] {
  return enabledHttpExtractors(ebpf.payload_extraction?.http);
}

export interface RpcRecordersOptions {
  readonly on: boolean;
  readonly buckets?: readonly number[];
  readonly select: (metric: string, defs: readonly RpcMetricAttributeDef[]) => string[];
  readonly instrumentations?: readonly string[];
  readonly otlp?: { addRpcMetrics(m: RpcCallMetric): void };
}

/** rpc_{server,client}_call_duration_seconds when `on` (the `application` feature), registered for OTLP too */
export function rpcRecorders(store: FamilyTarget, o: RpcRecordersOptions): RpcCallMetric[] {
  if (!o.on) return [];
  const metrics = createRpcMetrics(store, o);
  for (const m of metrics) o.otlp?.addRpcMetrics(m);
  return metrics;
}
