/**
 * Applies the HTTP payload extractors (src/protocols/common/http-extract.ts) to the span of one
 * HTTP exchange: the first extractor for the span's side that returns an enrichment renames the
 * span, adds its attributes, may mark it failed and may move it to another category (whose
 * metrics then record it). Without a payload on the record the span is left as it is.
 */
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { HttpEnrichment, HttpExtractor } from '../protocols/common/http-extract.ts';
import type { HttpRecord } from '../protocols/common/records.ts';
import type { Span } from './span.ts';

/**
 * Exceptions thrown by extractors, by extractor name (a throw is a bug in the extractor: the span
 * stays HTTP); reported as `obi_parser_errors_total{protocol=<name>,kind="exception"}`.
 */
export type HttpExtractStats = Map<string, number>;

export function applyHttpExtractors(span: Span, rec: HttpRecord, extractors: readonly HttpExtractor[], stats?: HttpExtractStats): Span {
  const payload = rec.payload;
  if (payload === undefined) return span;
  const role = span.kind === 'server' ? 'server' : 'client';
  const addr = span.attributes['server.address'];
  const port = span.attributes['server.port'];
  const server = addr === undefined ? undefined : port === undefined ? String(addr) : `${String(addr)}:${String(port)}`;
  for (let i = 0; i < extractors.length; i++) {
    const x = extractors[i];
    if (!x.roles.includes(role)) continue;
    let e: HttpEnrichment | undefined;
    try {
      e = x.extract(rec, payload, server === undefined ? { role } : { role, server });
    } catch {
      stats?.set(x.name, (stats.get(x.name) ?? 0) + 1);
      continue;
    }
    if (e !== undefined) return enrich(span, e);
  }
  return span;
}

/** the span with one enrichment applied */
export function enrich(span: Span, e: HttpEnrichment): Span {
  const attributes = e.attributes === undefined ? span.attributes : { ...span.attributes, ...e.attributes };
  let status = span.status;
  let statusMessage = span.statusMessage;
  if (e.errorType !== undefined) {
    attributes[ATTR_ERROR_TYPE] = e.errorType;
    status = 'error';
    if (e.errorMessage !== undefined) statusMessage = e.errorMessage;
  }
  return {
    ...span,
    name: e.name ?? span.name,
    category: e.category ?? span.category,
    status,
    ...(statusMessage === undefined ? undefined : { statusMessage }),
    attributes,
  };
}
