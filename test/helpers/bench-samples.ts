/**
 * Samples of a `make bench` run for the report's tests (bench-smoke, bench-report-tls): one
 * configuration's run of a scenario, and the agent's part of it, with plausible defaults.
 */
import type { ConfigId, Sample } from '../../bench/lib/types.ts';

export function sample(scenario: string, config: ConfigId, rep: number, rps: number, extra: Partial<Sample> = {}): Sample {
  return {
    scenario,
    group: scenario.startsWith('redis') ? 'redis' : scenario.startsWith('node') ? 'node' : 'nginx-http',
    config,
    rep,
    seq: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationS: 10,
    requests: rps * 10,
    rps,
    p50Us: 500,
    p99Us: 1500,
    errors: 0,
    inFlightBound: 32,
    appCpuS: 1,
    appCpuUsPerRequest: 10,
    loadGenCores: 0.9,
    machineBusyCores: 1.95,
    otherCores: 0.05,
    ...extra,
  };
}

export function agentOf(rps: number, over: Partial<NonNullable<Sample['agent']>> = {}): NonNullable<Sample['agent']> {
  return {
    cpuS: 0.5,
    mcPer10k: 12,
    rssSteadyMB: 80,
    rssMaxMB: 85,
    hwmMB: 120,
    startMs: 900,
    eventsRead: rps * 30,
    eventsPerRequest: 3,
    bytesPerRequest: 1500,
    cpuUsPerRequest: 4,
    ingestUsPerRequest: 2,
    processUsPerRequest: 0.5,
    yieldsPerKRequest: 27.5,
    dropped: 0,
    droppedWarmup: 0,
    droppedExported: true,
    spans: rps * 10 + 5,
    spansMetrics: rps * 10 + 5,
    spanDiff: 5,
    spansTotalSettled: rps * 12,
    spansTotalPrinted: rps * 12,
    ...over,
  };
}
