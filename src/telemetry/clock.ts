/**
 * Monotonic → wall-clock conversion.
 *
 * Kernel timestamps are `bpf_ktime_get_ns()`: CLOCK_MONOTONIC, the clock behind
 * `process.hrtime.bigint()`. Wall time = monotonic + offset, the offset being measured
 * once (and again on `resync()`, e.g. after an NTP step) against `Date.now()`.
 *
 * Accuracy: `Date.now()` has 1 ms resolution and truncates, so the offset is taken at
 * the middle of that millisecond (+0.5 ms) and, of a few samples, from the one whose
 * hrtime bracket around `Date.now()` is narrowest. Expect ±0.5 ms absolute error;
 * differences between two converted timestamps keep full nanosecond precision.
 */

export interface ClockSources {
  /** CLOCK_MONOTONIC in ns; default `process.hrtime.bigint` */
  readonly monotonicNs?: () => bigint;
  /** wall clock in ms since the epoch; default `Date.now` */
  readonly wallMs?: () => number;
}

const SAMPLES = 5;
const HALF_MS_NS = 500_000n;

export class MonoClock {
  private readonly _mono: () => bigint;
  private readonly _wall: () => number;
  /** epoch ns − monotonic ns */
  private _offsetNs = 0n;
  /** same offset as a double, for the fast number paths (ms precision is plenty) */
  private _offsetMs = 0;

  constructor(sources: ClockSources = {}) {
    this._mono = sources.monotonicNs ?? process.hrtime.bigint;
    this._wall = sources.wallMs ?? Date.now;
    this.resync();
  }

  /** Measure the offset again. */
  resync(): void {
    let best = -1n;
    let offset = 0n;
    for (let i = 0; i < SAMPLES; i++) {
      const before = this._mono();
      const wall = this._wall();
      const after = this._mono();
      const width = after - before;
      if (best < 0n || width < best) {
        best = width;
        const mid = before + width / 2n;
        offset = BigInt(Math.trunc(wall)) * 1_000_000n + HALF_MS_NS - mid;
      }
    }
    this._offsetNs = offset;
    this._offsetMs = Number(offset) / 1e6;
  }

  /** current offset, epoch ns − monotonic ns */
  get offsetNs(): bigint {
    return this._offsetNs;
  }

  /** Monotonic ns (number or bigint) → epoch ns. */
  toEpochNs(monoNs: number | bigint): bigint {
    const m = typeof monoNs === 'bigint' ? monoNs : BigInt(Math.trunc(monoNs));
    return m + this._offsetNs;
  }

  /** Monotonic ns → epoch ms (fractional). */
  toEpochMs(monoNs: number): number {
    return monoNs / 1e6 + this._offsetMs;
  }

  /** Monotonic ns → ISO-8601 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`. */
  toISO(monoNs: number | bigint): string {
    return isoMicros(this.toEpochNs(monoNs));
  }
}

/** Epoch ns (≥ 0) → ISO-8601 UTC with microseconds. */
export function isoMicros(epochNs: bigint): string {
  const micros = epochNs / 1000n;
  const ms = Number(micros / 1000n);
  const frac = Number(micros % 1000n);
  // toISOString gives `…T12:00:00.123Z`: append the microsecond digits before the Z
  return `${new Date(ms).toISOString().slice(0, -1)}${frac.toString().padStart(3, '0')}Z`;
}
