/** Number formats of the benchmark report (pure). */
import type { Spread } from './stats.ts';

export const f2 = (x: number): string => x.toFixed(2);
export const f3 = (x: number): string => x.toFixed(3);
export const f1 = (x: number): string => x.toFixed(1);
export const f0 = (x: number): string => Math.round(x).toLocaleString('en-US');

/** `median (min–max)` */
export function fmtSpread(s: Spread | undefined, fmt: (x: number) => string, unit = ''): string {
  if (!s) return '–';
  if (s.n === 1) return `${fmt(s.median)}${unit}`;
  return `${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)})`;
}

export function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`;
}
