/**
 * The protocols the ingest stage can recognise, in detection order (reference
 * §4.6), each bound to the function that turns its records into spans.
 * Adding a protocol = one entry here plus its folder under src/protocols/.
 */
import type { ServiceIdentity } from '../discovery/types.ts';
import type { FrameTiming, ProtocolParser } from '../protocols/common/contract.ts';
import { http1Parser } from '../protocols/http1/index.ts';
import type { HttpExchange } from '../protocols/http1/types.ts';
import type { IdSource } from '../telemetry/ids.ts';
import { httpSpan, type Span } from '../telemetry/span.ts';
import type { ConnInfo, RouteResolver } from '../telemetry/types.ts';

/** What a span builder may use besides the record. */
export interface SpanContext {
  readonly ids: IdSource;
  readonly route: RouteResolver;
}

export interface ProtocolBinding<Rec = unknown> {
  /** name used by `instrumentations` (http, sql, redis, memcached, ...) */
  readonly instrumentation: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly parser: ProtocolParser<FrameTiming, FrameTiming, Rec, any>;
  toSpan(rec: Rec, conn: ConnInfo, service: ServiceIdentity, ctx: SpanContext): Span | undefined;
}

export const httpBinding: ProtocolBinding<HttpExchange> = {
  instrumentation: 'http',
  parser: http1Parser,
  toSpan: (rec, conn, service, ctx) => httpSpan(rec, conn, service, ctx.route, ctx.ids),
};

/** detection order: the first binding whose parser detects the first bytes owns the connection */
export const DEFAULT_PROTOCOLS: readonly ProtocolBinding[] = [httpBinding as ProtocolBinding];
