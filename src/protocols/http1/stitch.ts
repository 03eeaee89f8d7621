/**
 * HTTP/1 stitching: requests and responses pair in order (FIFO; pipelining included).
 * - A response with no request waiting is an error (counted, dropped), unless a request's
 *   body is still arriving (a server may answer early, e.g. 413): then it waits.
 * - A response that started before the request it would pair with is an error too (its own
 *   request was lost, e.g. rejected as invalid); it is dropped so that pairing stays aligned.
 * - When closing, a request still waiting becomes an exchange with status 0 and
 *   `endNs` = the close time; responses still waiting are errors.
 */
import type { StitchResult } from '../common/contract.ts';
import type { HttpPayload } from '../common/records.ts';
import { decodedPayload } from '../common/content-coding.ts';
import type { HttpExchange, HttpMessagePayload, HttpRequestFrame, HttpResponseFrame } from './types.ts';
import type { Http1State } from './state.ts';
import { requestInProgress } from './state.ts';

const NOTHING: StitchResult<HttpExchange> = Object.freeze({ records: Object.freeze([]) as unknown as HttpExchange[], errorCount: 0 });

export function stitchHttp1(
  requests: HttpRequestFrame[],
  responses: HttpResponseFrame[],
  state: Http1State,
  closing: boolean,
  nowNs?: number,
): StitchResult<HttpExchange> {
  let records: HttpExchange[] | undefined;
  let errors = 0;
  let i = 0;
  let j = 0;
  while (i < requests.length && j < responses.length) {
    const q = requests[i];
    const s = responses[j];
    if (s.startNs < q.startNs) {
      // a response cannot start before its request: its request was lost
      errors++;
      j++;
      continue;
    }
    (records ??= []).push(toExchange(q, s, 0));
    i++;
    j++;
  }
  if (i > 0) dropHead(requests, i);
  if (j > 0) dropHead(responses, j);
  if (responses.length > 0 && (closing || !requestInProgress(state))) {
    errors += responses.length;
    responses.length = 0;
  }
  if (closing && requests.length > 0) {
    records ??= [];
    for (let i = 0; i < requests.length; i++) {
      const q = requests[i];
      records.push(toExchange(q, undefined, nowNs !== undefined && nowNs > q.endNs ? nowNs : q.endNs));
    }
    requests.length = 0;
  }
  if (records === undefined && errors === 0) return NOTHING;
  return { records: records ?? [], errorCount: errors };
}

function dropHead<T>(a: T[], n: number): void {
  if (n === a.length) a.length = 0;
  else if (n === 1) a.shift();
  else a.splice(0, n);
}

/** pair one request with its response (or with none: status 0, ended at `endNs`) */
export function toExchange(q: HttpRequestFrame, s: HttpResponseFrame | undefined, endNs: number): HttpExchange {
  const t = q.target;
  let path: string;
  let query: string | undefined;
  let ps = 0;
  let authorityOnly = false;
  if (t.charCodeAt(0) !== 0x2f) {
    const sch = t.indexOf('://');
    if (sch > 0) {
      ps = sch + 3;
      while (ps < t.length) {
        const ch = t.charCodeAt(ps);
        if (ch === 0x2f || ch === 0x3f || ch === 0x23) break;
        ps++;
      }
      authorityOnly = true;
    } else {
      ps = -1; // asterisk-form or authority-form: the path is the target
    }
  }
  if (ps < 0) {
    path = t;
  } else {
    let pe = ps;
    while (pe < t.length) {
      const ch = t.charCodeAt(pe);
      if (ch === 0x3f || ch === 0x23) break;
      pe++;
    }
    path = pe === ps ? (authorityOnly ? '/' : '') : ps === 0 && pe === t.length ? t : t.slice(ps, pe);
    if (pe < t.length && t.charCodeAt(pe) === 0x3f) {
      const h = t.indexOf('#', pe + 1);
      query = t.slice(pe + 1, h < 0 ? t.length : h);
    }
  }
  return {
    category: 'http',
    method: q.method,
    target: t,
    path,
    query,
    host: q.host,
    traceparent: q.traceparent,
    userAgent: q.userAgent,
    status: s === undefined ? 0 : s.status,
    requestBodySize: q.bodySize,
    responseBodySize: s === undefined ? 0 : s.bodySize,
    startNs: q.startNs,
    endNs: s === undefined ? endNs : s.endNs,
    truncated: q.truncated || (s !== undefined && s.truncated),
    ...(q.payload === undefined ? undefined : { payload: exchangePayload(q.payload, s?.payload) }),
  };
}

const NO_BODY = Buffer.alloc(0);

/** the request's and response's kept headers and bodies (content codings undone on reading), for the HTTP payload extractors */
function exchangePayload(q: HttpMessagePayload, s: HttpMessagePayload | undefined): HttpPayload {
  return decodedPayload({
    requestHeaders: q.headers,
    responseHeaders: s?.headers ?? [],
    requestBody: q.body,
    requestBodyComplete: q.complete,
    responseBody: s?.body ?? NO_BODY,
    responseBodyComplete: s?.complete ?? false,
  });
}
