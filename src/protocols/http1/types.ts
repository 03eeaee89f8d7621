import type { FrameTiming } from '../common/contract.ts';
import type { HttpHeader, HttpRecord } from '../common/records.ts';

/** what a message keeps for the HTTP payload extractors, only when they are on */
export interface HttpMessagePayload {
  readonly headers: readonly HttpHeader[];
  /** decoded body prefix */
  readonly body: Buffer;
  /** `body` is the whole body */
  readonly complete: boolean;
}

export interface HttpRequestFrame extends FrameTiming {
  readonly kind: 'request';
  readonly method: string;
  /** request target as sent, e.g. `/users/1?x=2` (absolute-form kept as sent) */
  readonly target: string;
  /** `1.0` or `1.1`; empty when the request line was cut by a gap before the version */
  readonly version: string;
  /** Host header, as sent (may include `:port`) */
  readonly host?: string;
  /** raw `traceparent` header value when present */
  readonly traceparent?: string;
  readonly contentType?: string;
  readonly userAgent?: string;
  /** Connection header, as sent */
  readonly connection?: string;
  /** body bytes, from Content-Length, decoded chunk sizes, or observed bytes */
  readonly bodySize: number;
  /** headers did not fit in the captured prefix: header-derived fields may be missing */
  readonly truncated: boolean;
  readonly payload?: HttpMessagePayload;
}

export interface HttpResponseFrame extends FrameTiming {
  readonly kind: 'response';
  readonly status: number;
  readonly version: string;
  readonly contentType?: string;
  /** Connection header, as sent */
  readonly connection?: string;
  /** body bytes: Content-Length, decoded chunk sizes, or observed bytes (read until close); 0 for HEAD/1xx/204/304 */
  readonly bodySize: number;
  /** headers did not fit in the captured prefix, or the connection closed mid-message */
  readonly truncated: boolean;
  readonly payload?: HttpMessagePayload;
}

/** One request paired with its response: the unit that becomes a span. */
export type HttpExchange = HttpRecord;
