/**
 * Keeps the agent's stretches of work short, so the application never waits long behind it for a core.
 *
 * The agent drains the ring every `ebpf.drain_interval` (10 ms) and handles all that came in one go:
 * under load, 2–3 ms of work at a time. The kernel's scheduler lets a task that has the CPU run out
 * its slice before a woken one on the same runqueue takes over, so an application thread woken
 * behind a drain waits for the drain's end, and its peers (the clients it answers, the threads it
 * wakes) wait with it: measured on 2 cores, nginx under wrk fell from ~48k to ~33k req/s beside a
 * process that burned 3 ms every 10 ms, the same 0.3 cores as the agent, while with a sched_yield
 * every 0.25 or 0.5 ms the same burner cost nothing measurable (49k; yielding every 1 ms still cost
 * 33k). A yield with nothing else queued on the CPU returns at once (~1 µs).
 *
 * The caller counts units of work with `due()` (one clock read per `every` units), finishes what it
 * holds when the slice is used up (the spans decided so far go out first, so a yield never delays
 * them), then calls `yieldNow()`.
 */

/** the longest stretch of agent work between two yields */
export const YIELD_SLICE_MS = 0.25;

/**
 * The draining thread's time slice under the fair scheduler (Linux >= 6.12, sched_setattr's
 * sched_runtime; the default is 1.4 ms on this 2-core machine). The scheduler lets the running task finish its slice
 * before a woken task of the same weight takes its CPU, so with a short slice an application thread
 * woken behind the agent waits at most this long, also while the agent works through a backlog
 * without yielding. The agent's share of the CPU is unchanged (that is its weight). Measured with
 * nginx at a fixed 5k req/s, 8 runs each, alternated: p99 1,303–1,671 µs (median 1,465) with the
 * default slice, 1,368–1,481 µs (median 1,406) with 100 µs (a Mann–Whitney p of ~0.08); at
 * saturation no change in throughput or agent CPU; the Node.js server showed no difference.
 */
export const AGENT_SLICE_NS = 100_000;

export class CpuYield {
  /** yields so far */
  count = 0;
  /** wall time inside the yields: the CPU given to others, not the agent's work */
  yieldedMs = 0;
  private _last = 0;
  private _n = 0;
  private _behind = false;
  private readonly _yield: () => void;
  private readonly _sliceMs: number;
  private readonly _every: number;
  private readonly _now: () => number;

  constructor(yieldFn: () => void, sliceMs = YIELD_SLICE_MS, every = 16, now: () => number = () => performance.now()) {
    this._yield = yieldFn;
    this._sliceMs = sliceMs;
    this._every = every;
    this._now = now;
  }

  /**
   * A stretch of work starts (the agent woke): the slice counts from now. `behind`: the agent is
   * late (a large backlog came in one drain): this stretch does not yield, since the CPU it gave
   * away would go to the processes filling the ring, and the ring would overflow (measured: nginx
   * and wrk both traced, 0.5 cores of agent work, 11,720–107,709 events dropped per run while
   * yielding, none before).
   */
  begin(behind = false): void {
    this._last = this._now();
    this._n = 0;
    this._behind = behind;
  }

  /** one unit of work done; true when the slice is used up (never while behind) */
  due(): boolean {
    if (this._behind || ++this._n < this._every) return false;
    this._n = 0;
    return this._now() - this._last >= this._sliceMs;
  }

  yieldNow(): void {
    const t = this._now();
    this._yield();
    this.count++;
    this._last = this._now();
    this.yieldedMs += this._last - t;
  }
}
