/**
 * Wires `discovery.exclude_otel_instrumented_services` (telemetry/avoid.ts): the gRPC export
 * ports come from each selected process's environment (read once per instance), each avoided
 * service is logged and counted in `obi_avoided_services`.
 */
import type { EffectiveConfig } from '../config/index.ts';
import { readEnviron } from '../discovery/index.ts';
import { grpcExportPortsFromEnv, OtelSdkAvoider } from '../telemetry/avoid.ts';
import type { InternalMetrics } from '../telemetry/internal.ts';
import type { Logger } from './log.ts';

export function createAvoider(cfg: EffectiveConfig, internal: InternalMetrics, log: Logger): OtelSdkAvoider {
  const d = cfg.discovery;
  const defaultPort = d.default_otlp_grpc_port ?? 4317;
  return new OtelSdkAvoider({
    enabled: d.exclude_otel_instrumented_services !== false,
    spanMetrics: d.exclude_otel_instrumented_services_span_metrics === true,
    exportPorts: (svc) => grpcExportPortsFromEnv(readEnviron(svc.pid), defaultPort),
    onAvoided: (svc, signal) => {
      internal.avoidedService(svc.name, svc.namespace, svc.instanceId, signal);
      log.info('service exports OpenTelemetry itself: its obi-ts signal is off', { pid: svc.pid, service: svc.name, signal });
    },
  });
}
