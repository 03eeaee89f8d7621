/**
 * Our telemetry model → the shapes the OpenTelemetry JS exporters serialise: `Span` →
 * `ReadableSpan` (sdk-trace), one `Resource` per service instance, OBI's instrumentation scope.
 *
 * Runs at export time (off the capture path): one small object per span, ids and attributes
 * are passed by reference, timestamps go monotonic ns → epoch ns (MonoClock) → HrTime.
 */
import { SpanKind as ApiSpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ServiceIdentity } from '../../common/service.ts';
import type { MonoClock } from '../../telemetry/clock.ts';
import { OBI_SCOPE_NAME, serviceResourceAttributes } from '../../telemetry/resource.ts';
import type { HostInfo } from '../../telemetry/resource.ts';
import type { Span, SpanKind, SpanStatus } from '../../telemetry/span.ts';

/** The instrumentation scope of everything obi-ts exports (OBI's). */
export const OBI_SCOPE: InstrumentationScope = Object.freeze({ name: OBI_SCOPE_NAME });

const KINDS: Readonly<Record<SpanKind, ApiSpanKind>> = {
  internal: ApiSpanKind.INTERNAL,
  server: ApiSpanKind.SERVER,
  client: ApiSpanKind.CLIENT,
  producer: ApiSpanKind.PRODUCER,
  consumer: ApiSpanKind.CONSUMER,
};

const STATUS: Readonly<Record<SpanStatus, SpanStatusCode>> = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
};

const NS_PER_S = 1_000_000_000n;

/** Epoch ns → HrTime `[seconds, nanoseconds]`, exact. */
export function toHrTime(epochNs: bigint): HrTime {
  return [Number(epochNs / NS_PER_S), Number(epochNs % NS_PER_S)];
}

/**
 * Monotonic ns (a safe-integer number) → epoch HrTime without BigInt arithmetic per call:
 * the clock offset is split once into seconds and nanoseconds.
 */
export class EpochConverter {
  private readonly _offS: number;
  private readonly _offNs: number;

  constructor(clock: MonoClock) {
    const off = clock.offsetNs;
    // floor division, also for a negative offset
    let s = off / NS_PER_S;
    let ns = off % NS_PER_S;
    if (ns < 0n) {
      ns += NS_PER_S;
      s -= 1n;
    }
    this._offS = Number(s);
    this._offNs = Number(ns);
  }

  hrTime(monoNs: number): HrTime {
    const m = Math.trunc(monoNs);
    let s = Math.floor(m / 1e9);
    let ns = m - s * 1e9;
    // float division can land one second off near a boundary
    if (ns < 0) {
      s -= 1;
      ns += 1e9;
    } else if (ns >= 1e9) {
      s += 1;
      ns -= 1e9;
    }
    ns += this._offNs;
    s += this._offS;
    if (ns >= 1e9) {
      s += 1;
      ns -= 1e9;
    }
    return [s, ns];
  }
}

function hrDiff(end: HrTime, start: HrTime): HrTime {
  let s = end[0] - start[0];
  let ns = end[1] - start[1];
  if (ns < 0) {
    s -= 1;
    ns += 1e9;
  }
  return [s, ns];
}

export interface ResourceCacheOptions {
  readonly host: HostInfo;
  /** `telemetry.sdk.version` / `telemetry.distro.version` */
  readonly version: string;
  /** the target's own OTEL_RESOURCE_ATTRIBUTES (read once per service instance) */
  readonly processAttributes?: (service: ServiceIdentity) => ReadonlyMap<string, string> | undefined;
  /** resources kept (LRU); OBI's `reporters_cache_len`, default 256 */
  readonly maxEntries?: number;
}

/** One `Resource` per service instance, built once and reused (the exporters group by identity). */
export class ResourceCache {
  private readonly _opts: ResourceCacheOptions;
  private readonly _max: number;
  private readonly _byInstance = new Map<string, Resource>();

  constructor(options: ResourceCacheOptions) {
    this._opts = options;
    this._max = Math.max(1, options.maxEntries ?? 256);
  }

  get size(): number {
    return this._byInstance.size;
  }

  get(service: ServiceIdentity): Resource {
    // processes of one container or pod share service.instance.id: the key tells them apart
    const key = `${service.instanceId}\n${service.pid}\n${service.name}\n${service.namespace}`;
    const hit = this._byInstance.get(key);
    if (hit !== undefined) {
      // refresh its LRU position
      this._byInstance.delete(key);
      this._byInstance.set(key, hit);
      return hit;
    }
    const attrs = serviceResourceAttributes(service, this._opts.host, {
      version: this._opts.version,
      processAttributes: this._opts.processAttributes?.(service),
    });
    const resource = resourceFromAttributes(attrs);
    this._byInstance.set(key, resource);
    if (this._byInstance.size > this._max) {
      const oldest = this._byInstance.keys().next().value;
      if (oldest !== undefined) this._byInstance.delete(oldest);
    }
    return resource;
  }
}

/**
 * One span as the OTLP trace exporters take it. A parent on a server span came over the wire
 * (`traceparent`), so its context is marked remote.
 */
export function toReadableSpan(span: Span, resource: Resource, clock: MonoClock | EpochConverter): ReadableSpan {
  const epoch = clock instanceof EpochConverter ? clock : new EpochConverter(clock);
  const ctx: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags };
  const parent: SpanContext | undefined =
    span.parentSpanId === undefined
      ? undefined
      : { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: span.traceFlags, isRemote: span.kind === 'server' };
  const startTime = epoch.hrTime(span.startNs);
  const endTime = epoch.hrTime(span.endNs >= span.startNs ? span.endNs : span.startNs);
  return {
    name: span.name,
    kind: KINDS[span.kind],
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime,
    endTime,
    duration: hrDiff(endTime, startTime),
    status: span.statusMessage === undefined ? { code: STATUS[span.status] } : { code: STATUS[span.status], message: span.statusMessage },
    attributes: span.attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: OBI_SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
