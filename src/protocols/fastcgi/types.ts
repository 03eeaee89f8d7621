/**
 * FastCGI frames and records (FastCGI Specification 1.0, section 3 and 8): a request is a
 * BEGIN_REQUEST, the CGI variables as PARAMS name-value pairs (ended by an empty PARAMS record)
 * and the body as STDIN; the response is STDOUT (CGI response: header block, then the body),
 * STDERR and END_REQUEST. obi-ts reports an exchange as an HTTP span (OBI does the same).
 */
import type { FrameTiming } from '../common/contract.ts';
import type { HttpRecord } from '../common/records.ts';

/** record types (spec section 8) */
export const FCGI_BEGIN_REQUEST = 1;
export const FCGI_ABORT_REQUEST = 2;
export const FCGI_END_REQUEST = 3;
export const FCGI_PARAMS = 4;
export const FCGI_STDIN = 5;
export const FCGI_STDOUT = 6;
export const FCGI_STDERR = 7;
export const FCGI_DATA = 8;
export const FCGI_GET_VALUES = 9;
export const FCGI_GET_VALUES_RESULT = 10;
export const FCGI_UNKNOWN_TYPE = 11;
/** the record header: version, type, requestId (2), contentLength (2), paddingLength, reserved */
export const FCGI_HEADER_LEN = 8;

/** CGI variables kept from PARAMS (the others are skipped) */
export interface FcgiParams {
  method?: string;
  requestUri?: string;
  scriptName?: string;
  scriptFilename?: string;
  queryString?: string;
  host?: string;
  userAgent?: string;
  contentLength?: number;
}

/** A request whose PARAMS stream ended (its STDIN may still follow: its size is added while it waits). */
export interface FcgiRequestFrame extends FrameTiming {
  readonly requestId: number;
  /** BEGIN_REQUEST role: 1 responder, 2 authorizer, 3 filter */
  readonly role: number;
  readonly params: FcgiParams;
  /** STDIN bytes seen while the request waited for its response */
  bodySize: number;
  /** PARAMS not wholly captured (bytes past the capture prefix, or over the kept limit) */
  readonly truncated: boolean;
}

export interface FcgiResponseFrame extends FrameTiming {
  readonly requestId: number;
  /** from the CGI `Status:` header; 302 with a `Location:` and no Status; else 200 */
  readonly status: number;
  /** STDOUT bytes after the CGI header block */
  readonly bodySize: number;
  readonly stderrBytes: number;
  /** END_REQUEST appStatus and protocolStatus; undefined when it was not seen (connection ended, gap) */
  readonly appStatus?: number;
  readonly protocolStatus?: number;
  readonly truncated: boolean;
}

export type FcgiFrame = FcgiRequestFrame | FcgiResponseFrame;

/** One FastCGI exchange: an HTTP record, plus what is FastCGI's own. */
export interface FcgiExchange extends HttpRecord {
  readonly requestId: number;
  /** SCRIPT_NAME, as the web server named the script */
  readonly scriptName?: string;
  /** SCRIPT_FILENAME: the file the FastCGI application runs */
  readonly scriptFilename?: string;
  /** END_REQUEST appStatus (the script's exit status) */
  readonly appStatus?: number;
  /** bytes the application wrote to STDERR */
  readonly stderrBytes: number;
}
