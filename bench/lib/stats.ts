/** Medians with min/max over repetitions. */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** median, min and max of the finite values; `undefined` when there are none */
export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return undefined;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** [0,1,2] rotated left by k: the order configurations run in at repetition k */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  if (xs.length === 0) return [];
  const r = ((k % xs.length) + xs.length) % xs.length;
  return [...xs.slice(r), ...xs.slice(0, r)];
}
