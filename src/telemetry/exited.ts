/**
 * Metric series of exited processes (issue 14, bounded memory under churn).
 *
 * A process that has exited never updates its series again. Like every series they expire at
 * `ttl` after their last update (OBI's `prometheus_export.ttl` / `otel_metrics_export.ttl`, 5m),
 * so a scrape or an export after the exit still reads their final values; but under process
 * churn (short-lived clients, each its own `instance`) that alone keeps rate × ttl processes'
 * series (33 exits/s: 10,000). So at most {@link MAX_EXITED_INSTANCES} exited instances keep
 * their series: past that, the series of the instance that exited first are removed now
 * (counted). OBI bounds the same state by `reporters_cache_len` for OTLP (the per-service metric
 * sets it keeps, the least recently used evicted with all their series) and by `ttl` only for
 * Prometheus. Series without an instance label (attributes.select left it out) are shared by the
 * processes of a service and stay under `ttl` alone.
 *
 * Pure: the caller passes the time.
 */

/** exited service instances whose series are kept (oldest exit removed first) */
export const MAX_EXITED_INSTANCES = 1024;

export class ExitedInstances {
  /** instances evicted at the cap */
  evictedInstances = 0;
  /** series removed with them */
  evictedSeries = 0;
  /** instance id → exit time (ms), oldest first */
  private readonly _exited = new Map<string, number>();
  private readonly _drop: (instanceId: string) => number;
  private readonly _max: number;

  /** `drop` removes the series of an instance now and returns how many it removed */
  constructor(drop: (instanceId: string) => number, max = MAX_EXITED_INSTANCES) {
    if (!(max >= 0)) throw new RangeError(`max must be >= 0, got ${max}`);
    this._drop = drop;
    this._max = max;
  }

  get size(): number {
    return this._exited.size;
  }

  /** the processes of `instanceId` are gone */
  exited(instanceId: string, nowMs: number): void {
    if (this._exited.has(instanceId)) return; // told again (its identity forgotten later): the first exit counts
    this._exited.set(instanceId, nowMs);
    while (this._exited.size > this._max) {
      const oldest = this._exited.keys().next().value!;
      this._exited.delete(oldest);
      this.evictedInstances++;
      this.evictedSeries += this._drop(oldest);
    }
  }

  /** `instanceId` is in use again (a new process under a reused pid, a container restarted) */
  selected(instanceId: string): void {
    this._exited.delete(instanceId);
  }

  /** forget the exits before `cutoffMs` (their series have expired by `ttl` meanwhile, or will on their own) */
  expire(cutoffMs: number): void {
    for (const [id, at] of this._exited) {
      if (at >= cutoffMs) break;
      this._exited.delete(id);
    }
  }
}

/** positions of the instance labels (`instance`, `service.instance.id`) in an attribute list */
export function instancePositions(attributes: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < attributes.length; i++) if (attributes[i] === 'instance' || attributes[i] === 'service.instance.id') out.push(i);
  return out;
}
