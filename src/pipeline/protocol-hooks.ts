/**
 * What the agent wires for particular protocols, kept out of agent.ts: the protocols bound for
 * the tracker (DNS only when the `dns` instrumentation is on) with the HTTP/2 parser's totals as
 * `obi_http2_streams_events_total`, and the RPC duration metrics (also handed to OTLP).
 */
import type { ProtocolSettings } from '../protocols/common/descriptor.ts';
import { bindProtocols, PROTOCOLS, type BoundProtocol } from '../protocols/registry.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import type { InternalMetrics } from '../telemetry/internal.ts';
import { createRpcMetrics, type RpcCallMetric, type RpcMetricAttributeDef } from '../telemetry/rpc.ts';

export function bindAgentProtocols(settings: ProtocolSettings, dnsEnabled: boolean, internal: InternalMetrics | undefined): readonly BoundProtocol[] {
  const bound = bindProtocols(dnsEnabled ? PROTOCOLS : PROTOCOLS.filter((p) => p.name !== 'dns'), settings);
  // the HTTP/2 parser's running totals (src/protocols/http2/types.ts Http2Counters), read structurally
  const c = (bound.find((b) => b.descriptor.wire === 'http2')?.parser as { counters?: Record<string, number> } | undefined)?.counters;
  if (c !== undefined) {
    internal?.setHttp2Source(() => ({ partial: c.partialStreams, unreported: c.unreportedStreams, header_block_lost: c.headerBlocksLost, desync: c.desyncs, dropped: c.streamsDropped }));
  }
  return bound;
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
