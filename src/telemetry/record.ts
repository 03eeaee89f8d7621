/**
 * The one step from a protocol record to a span: `recordToSpan` dispatches on the record's
 * category to that category's builder. A new category adds its builder here (one case). HTTP
 * spans then pass through the HTTP payload extractors switched on (telemetry/http-extract.ts).
 */
import type { ServiceIdentity } from '../common/service.ts';
import type { SpanCtx } from '../common/trace.ts';
import type { ProtocolConn } from '../protocols/common/descriptor.ts';
import type { ProtocolRecord } from '../protocols/common/records.ts';
import type { HttpExtractor } from '../protocols/common/http-extract.ts';
import { dbSpan } from './db.ts';
import { applyHttpExtractors, type HttpExtractStats } from './http-extract.ts';
import { dnsSpan } from './dns.ts';
import { rpcSpan } from './rpc.ts';
import type { IdSource } from './ids.ts';
import { messagingSpan } from './messaging.ts';
import { httpSpan, type Span } from './span.ts';
import type { RouteResolver } from './types.ts';

/** What a span builder may use besides the record and its connection. */
export interface SpanContext {
  readonly ids: IdSource;
  readonly route: RouteResolver;
  /** `db.query.text` is selected (`attributes.select.traces`): spans carry the descriptor's masked query text */
  readonly queryText?: boolean;
  /** `url.query` / `url.full` redaction (attributes.sensitive_query_params); default OBI's list */
  readonly redactQuery?: (query: string) => string;
  /** the HTTP payload extractors switched on (src/protocols/registry.ts); none when absent */
  readonly httpExtractors?: readonly HttpExtractor[];
  /** where extractor failures are counted */
  readonly httpExtractStats?: HttpExtractStats;
}

/**
 * The span of one record observed on `conn`; undefined when the record makes none. `ids`: the
 * span's ids decided at its request's start (telemetry/correlate.ts); without, fresh ids (or
 * those of an incoming traceparent).
 */
export function recordToSpan(rec: ProtocolRecord, conn: ProtocolConn, ctx: SpanContext, ids?: SpanCtx): Span | undefined {
  const span = buildSpan(rec, conn, ctx);
  return span === undefined || ids === undefined ? span : withIds(span, ids);
}

/** the span with the ids decided at its start; a traceparent the start did not see still counts for the span itself */
function withIds(span: Span, ids: SpanCtx): Span {
  if (ids.isRoot && span.kind === 'server' && span.parentSpanId !== undefined) ids.continueRemote(span.traceId, span.parentSpanId, span.traceFlags);
  const out: Span = { ...span, traceId: ids.traceId, spanId: ids.spanId, parentSpanId: ids.parentSpanId, traceFlags: ids.traceFlags, ctx: ids };
  if (ids.peerService !== undefined) (out as { peerService?: ServiceIdentity }).peerService = ids.peerService;
  return out;
}

function buildSpan(rec: ProtocolRecord, conn: ProtocolConn, ctx: SpanContext): Span | undefined {
  switch (rec.category) {
    case 'http': {
      const span = httpSpan(rec, conn.info, conn.service, ctx.route, ctx.ids, ctx.redactQuery ? { redactQuery: ctx.redactQuery } : undefined);
      return ctx.httpExtractors === undefined || ctx.httpExtractors.length === 0 ? span : applyHttpExtractors(span, rec, ctx.httpExtractors, ctx.httpExtractStats);
    }
    case 'rpc':
      return rpcSpan(rec, conn.info, conn.service, ctx.ids);
    case 'db': {
      const text = ctx.queryText === true ? conn.descriptor.queryText?.(rec) : undefined;
      return dbSpan(rec, conn.info, conn.service, ctx.ids, conn.descriptor.name, text === undefined ? undefined : { queryText: text });
    }
    case 'dns':
      return dnsSpan(rec, conn.info, conn.service, ctx.ids, conn.descriptor.name);
    case 'messaging':
      return messagingSpan(rec, conn.info, conn.service, ctx.ids, conn.descriptor.name);
  }
}
