/**
 * `otel_traces_export.sampler` (OTEL_TRACES_SAMPLER / _ARG): which finished spans go to OTLP.
 *
 * - `always_on` / `always_off`;
 * - `traceidratio`: keeps a trace when its id falls under the ratio, decided on the id alone
 *   (bytes 8..15 as a big-endian integer, shifted right by one, below `ratio · 2^63`, as the Go
 *   SDK OBI uses does), so every span of a trace gets the same answer;
 * - `parentbased_*` (default `parentbased_always_on`): a span with a parent follows the parent's
 *   sampled flag, a root span follows the named root sampler.
 */
import type { SamplerConfig } from '../../config/generated/types.ts';
import type { Span } from '../../telemetry/span.ts';

export type SpanSampler = (span: Span) => boolean;

const TWO_63 = 2n ** 63n;

/** The trace-id-ratio decision for one trace id (32 hex digits). */
export function traceIdRatioSampled(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  const bound = BigInt(Math.floor(ratio * 2 ** 63));
  const low = BigInt(`0x${traceId.slice(16, 32)}`) >> 1n;
  return low < bound && low < TWO_63;
}

function ratioOf(arg: string | undefined): number {
  if (arg === undefined || arg.trim() === '') return 1;
  const r = Number(arg);
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 1;
}

export function createSampler(config: Partial<SamplerConfig> | undefined): SpanSampler {
  const name = config?.name ?? 'parentbased_always_on';
  const ratio = ratioOf(config?.arg);
  const rootOf = (n: string): SpanSampler => {
    switch (n) {
      case 'always_off':
        return () => false;
      case 'traceidratio':
        return (s) => traceIdRatioSampled(s.traceId, ratio);
      default:
        return () => true;
    }
  };
  if (!name.startsWith('parentbased_')) return rootOf(name);
  const root = rootOf(name.slice('parentbased_'.length));
  return (s) => (s.parentSpanId === undefined ? root(s) : (s.traceFlags & 0x01) === 0x01);
}
