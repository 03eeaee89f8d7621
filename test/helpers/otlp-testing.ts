/**
 * Test doubles shared by the OTLP unit tests (not used by the agent): a scripted sender and
 * span factories.
 */
import type { ServiceIdentity } from '../../src/common/service.ts';
import type { Span } from '../../src/telemetry/span.ts';
import { categoryOf } from './spans.ts';
import type { ExportOutcome, OtlpSender } from '../../src/export/otlp/transport.ts';

export const TEST_SERVICE: ServiceIdentity = Object.freeze({ name: 'svc', namespace: 'ns', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/svc', language: 'go' });

let seq = 0;

/** A finished HTTP server span; ids unique per call. */
export function testSpan(over: Partial<Span> = {}): Span {
  seq++;
  const hex = seq.toString(16).padStart(16, '0');
  return {
    protocol: 'http',
    category: categoryOf(over.protocol ?? 'http'),
    traceId: `${'ab'.repeat(8)}${hex}`,
    spanId: hex,
    traceFlags: 1,
    name: 'GET /x',
    kind: 'server',
    startNs: 1_000_000_000,
    endNs: 1_002_000_000,
    status: 'unset',
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    service: TEST_SERVICE,
    ...over,
  };
}

/** A sender whose answers the test scripts: `fail` returns the next outcome, default success. */
export class ScriptedSender<T> implements OtlpSender<T> {
  readonly sent: T[] = [];
  /** outcomes for the next calls, consumed in order; then `fallback` */
  readonly script: ExportOutcome[] = [];
  fallback: ExportOutcome = { ok: true };
  /** delay before answering, ms */
  delayMs = 0;
  shutdowns = 0;
  inFlight = 0;
  maxInFlight = 0;

  async send(items: T): Promise<ExportOutcome> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      this.sent.push(items);
      return this.script.shift() ?? this.fallback;
    } finally {
      this.inFlight--;
    }
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}
