/**
 * Wires the correlator (telemetry/correlate.ts, docs/devdocs/correlation.md) into the agent: the
 * policy of each process from its runtime, thread-creation events, exits, expiry and self-metrics.
 */
import { basename } from 'node:path';
import type { ServiceIdentity } from '../common/service.ts';
import type { TrackedProcess } from '../discovery/lifecycle.ts';
import type { TraceIds } from '../common/trace.ts';
import { CorrelationMetrics, Correlator, type CorrelationPolicy } from '../telemetry/correlate.ts';
import type { MetricStore } from '../telemetry/store.ts';

const THREAD: CorrelationPolicy = { kind: 'thread' };
const EVENT: CorrelationPolicy = { kind: 'event' };
const GO: CorrelationPolicy = { kind: 'unlinked', reason: 'go_runtime' };
const EVENT_LOOP: CorrelationPolicy = { kind: 'unlinked', reason: 'event_loop' };

/** event-driven servers whose upstream requests follow the downstream read in the same handler */
const EVENT_DRIVEN_EXES = new Set(['nginx', 'openresty']);

/** How the client calls of a process are correlated, from its runtime (docs/devdocs/correlation.md). */
export function policyFor(p: Pick<TrackedProcess, 'info'> | undefined): CorrelationPolicy {
  if (p === undefined) return THREAD;
  const lang = p.info.language;
  if (lang === 'go') return GO;
  if (lang === 'nodejs' || lang === 'deno') return EVENT_LOOP;
  if (EVENT_DRIVEN_EXES.has(basename(p.info.exePath))) return EVENT;
  return THREAD;
}

export interface AgentCorrelation {
  readonly correlator: Correlator;
  /** once per batch: self-metrics */
  update(): void;
}

export function createCorrelation(ids: TraceIds, internal: MetricStore, lookup: (pid: number) => TrackedProcess | undefined): AgentCorrelation {
  const correlator = new Correlator({
    ids,
    policyOf: (pid) => policyFor(lookup(pid)),
    serviceOf: (pid): ServiceIdentity | undefined => lookup(pid)?.service,
  });
  const metrics = new CorrelationMetrics(internal);
  return { correlator, update: () => metrics.update(correlator) };
}
