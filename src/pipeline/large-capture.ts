/**
 * The larger HTTP capture (`ebpf.buffer_sizes.http`; bpf/protocols/http1_large.h for HTTP/1
 * payloads, and the same budget for each HTTP/2 stream's body, bpf/protocols/http2.h): when it is on,
 * and its kernel counters as `obi_*` self-metrics. It is on only when `buffer_sizes.http` is set
 * AND a payload extractor that reads bodies is enabled (today the GenAI decoders, listed in
 * `instrumentations` and enabled under `payload_extraction.http.genai`): never for all traffic by
 * default. While it is on, an unset ring buffer size is raised (ringBufferBytes). docs/devdocs/kernel.md
 * describes the kernel side.
 */
import type { EffectiveConfig, ObiConfig } from '../config/index.ts';
import { OBI_LARGE_MAX } from '../abi/events.ts';
import { CounterVec } from '../telemetry/counter.ts';
import { SeriesIndex } from '../telemetry/series.ts';
import type { FamilyTarget } from '../telemetry/family.ts';
import { genaiProviders } from './genai-config.ts';

/** the extractors enabled that read HTTP bodies past the capture prefix */
export function bodyExtractors(cfg: ObiConfig): string[] {
  return genaiProviders(cfg).length > 0 ? ['genai'] : [];
}

/** bytes the kernel copies per payload of an HTTP/1 connection (and per HTTP/2 stream body and direction); 0 when the larger capture is off */
export function largeHttpBytes(cfg: ObiConfig): number {
  const want = cfg.ebpf.buffer_sizes.http;
  if (want <= 0 || bodyExtractors(cfg).length === 0) return 0;
  return Math.min(OBI_LARGE_MAX, Math.max(want, cfg.ebpf.capture_size));
}

/**
 * The ring buffer's size while the larger capture is on and `ebpf.ring_buffer_size` is unset. The
 * capture moves whole bodies through the ring: GenAI over HTTPS with 20 KB answers and 64 KiB
 * capture is ~146 MB/s at 7k req/s, which the default 4 MiB holds for ~28 ms, less than the agent
 * can be kept off a core on a busy machine (4 runs of 12 s: events lost in 3). 16 MiB holds ~115 ms
 * (7 runs of 12 s: one lost 2,228 events, the others none; `make bench`: none in its 3 windows) and
 * costs up to 32 MB of RSS once the ring has wrapped (its pages are mapped twice).
 */
export const LARGE_CAPTURE_RING_BYTES = 16 * 1024 * 1024;

/** the ring buffer's size: `ebpf.ring_buffer_size` when set; unset, its default raised to LARGE_CAPTURE_RING_BYTES while the larger capture is on */
export function ringBufferBytes(cfg: EffectiveConfig): number {
  const size = cfg.ebpf.ring_buffer_size;
  return !cfg.ringBufferSizeSet && largeHttpBytes(cfg) > 0 ? Math.max(size, LARGE_CAPTURE_RING_BYTES) : size;
}

export interface LargeCaptureCounts {
  readonly records: number;
  readonly bytes: number;
  readonly dropped: number;
}

/** `obi_ebpf_large_capture_{records,bytes,dropped}_total`, read from the kernel at collection */
export function registerLargeCaptureMetrics(store: FamilyTarget, source: () => LargeCaptureCounts, prefix = 'obi'): void {
  const none = new SeriesIndex(0);
  let last: LargeCaptureCounts | undefined;
  let lastAt = 0;
  // the three families are collected one after the other: read the kernel once per collection
  const read = (): LargeCaptureCounts => {
    const now = performance.now();
    if (last === undefined || now - lastAt > 50) {
      last = source();
      lastAt = now;
    }
    return last;
  };
  const family = (name: string, help: string, pick: (c: LargeCaptureCounts) => number, unit?: string): void => {
    const c: CounterVec = new CounterVec({
      name: `${prefix}.ebpf.large_capture.${name}`,
      ...(unit !== undefined ? { unit, promName: `${prefix}_ebpf_large_capture_${name}_total` } : {}),
      help,
      labelNames: [],
      index: none,
      collect: () => c.setTotal(0, pick(read())),
    }).registerIn(store);
  };
  family('records', 'Records the larger HTTP capture (ebpf.buffer_sizes.http) submitted: pieces of payloads past the capture prefix', (c) => c.records);
  family('bytes', 'Payload bytes the larger HTTP capture copied past the capture_size prefix', (c) => c.bytes, 'By');
  family('dropped', 'Records of the larger HTTP capture lost (ring buffer full)', (c) => c.dropped);
}
