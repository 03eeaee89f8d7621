/**
 * Fixtures for the HTTP payload extractors (src/protocols/common/http-extract.ts): the HTTP/1
 * parser created with a payload capture limit, whose records are replaced by what an extractor
 * makes of them. Replayed by the shared fixture runner (test/helpers/protocol-fixtures.ts), so
 * every case runs whole, at every split point and byte by byte, and a fixture's `### expect`
 * lists records of the form
 *
 *     { "method": "POST", "path": "/graphql", "status": 200,
 *       "enrichment": { "name": "GraphQL query", "attributes": { ... } } }
 *
 * (`"enrichment": null` when the extractor does not take the exchange).
 */
import type { ProtocolParser } from '../../src/protocols/common/contract.ts';
import type { HttpEnrichment, HttpExtractor } from '../../src/protocols/common/http-extract.ts';
import type { HttpRecord } from '../../src/protocols/common/records.ts';
import { http1 } from '../../src/protocols/http1/index.ts';
import { http2 } from '../../src/protocols/http2/index.ts';

export interface ExtractedRecord {
  readonly category: 'http';
  readonly startNs: number;
  readonly endNs: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly requestBodyComplete: boolean;
  readonly responseBodyComplete: boolean;
  readonly enrichment: HttpEnrichment | null;
}

/**
 * the HTTP/1 parser (or, with `wire` 'http2', the HTTP/2 one) keeping `capture` body bytes, its
 * records run through `extractor` on `role`'s side
 */
export function extractorParser(
  extractor: HttpExtractor,
  role: 'client' | 'server',
  capture = 8192,
  server = 'search.local:9200',
  wire: 'http1' | 'http2' = 'http1',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): ProtocolParser<any, any, ExtractedRecord, any> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const base = (wire === 'http2' ? http2 : http1).createParser({ http_payload_capture: capture } as never) as unknown as ProtocolParser<any, any, HttpRecord, any>;
  return {
    newState: () => base.newState(),
    findFrameBoundary: (type, buf, from) => base.findFrameBoundary(type, buf, from),
    parseFrame: (type, buf, state) => base.parseFrame(type, buf, state),
    stitch(requests, responses, state, closing, nowNs) {
      const r = base.stitch(requests, responses, state, closing, nowNs);
      return { records: r.records.filter((rec) => rec.category === 'http').map((rec) => view(rec, extractor, role, server)), errorCount: r.errorCount };
    },
  };
}

function view(rec: HttpRecord, x: HttpExtractor, role: 'client' | 'server', server: string): ExtractedRecord {
  const p = rec.payload;
  if (p === undefined) throw new Error('the parser kept no payload');
  return {
    category: 'http',
    startNs: rec.startNs,
    endNs: rec.endNs,
    method: rec.method,
    path: rec.path,
    status: rec.status,
    requestBodyComplete: p.requestBodyComplete,
    responseBodyComplete: p.responseBodyComplete,
    enrichment: x.extract(rec, p, { role, server }) ?? null,
  };
}
