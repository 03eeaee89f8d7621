/**
 * Pairing FastCGI requests with responses by request id, in order (nginx and PHP-FPM run one
 * request at a time per connection; a multiplexing peer's interleaved requests pair by id too).
 * At close, a request never answered becomes an exchange with status 0.
 */
import type { StitchResult } from '../common/contract.ts';
import type { FcgiState } from './parse.ts';
import type { FcgiExchange, FcgiRequestFrame, FcgiResponseFrame } from './types.ts';

function exchange(q: FcgiRequestFrame, r: FcgiResponseFrame | undefined, endNs: number): FcgiExchange {
  const p = q.params;
  let target = p.requestUri;
  if (target === undefined && p.scriptName !== undefined) target = p.queryString ? `${p.scriptName}?${p.queryString}` : p.scriptName;
  target ??= '';
  const qm = target.indexOf('?');
  const path = qm < 0 ? target : target.slice(0, qm);
  const query = qm < 0 ? undefined : target.slice(qm + 1);
  const rec: FcgiExchange = {
    category: 'http',
    method: p.method ?? '_OTHER',
    target,
    path,
    query,
    host: p.host,
    userAgent: p.userAgent,
    status: r?.status ?? 0,
    requestBodySize: p.contentLength ?? q.bodySize,
    responseBodySize: r?.bodySize ?? 0,
    truncated: q.truncated || r?.truncated === true || p.method === undefined ? true : undefined,
    requestId: q.requestId,
    scriptName: p.scriptName,
    scriptFilename: p.scriptFilename,
    appStatus: r?.appStatus,
    stderrBytes: r?.stderrBytes ?? 0,
    startNs: q.startNs,
    endNs: endNs > q.startNs ? endNs : q.startNs,
  };
  return rec;
}

/** ProtocolParser.stitch for FastCGI. */
export function stitchFcgi(requests: FcgiRequestFrame[], responses: FcgiResponseFrame[], state: FcgiState, closing: boolean, nowNs?: number): StitchResult<FcgiExchange> {
  const records: FcgiExchange[] = [];
  let errorCount = 0;
  for (const r of responses) {
    const i = requests.findIndex((q) => q.requestId === r.requestId);
    if (i < 0) {
      errorCount++; // its request began before the capture, or was not captured
      continue;
    }
    // requests before it with another id were never answered on this connection
    for (let k = 0; k < i; k++) records.push(exchange(requests[k], undefined, requests[k].endNs));
    records.push(exchange(requests[i], r, r.endNs));
    requests.splice(0, i + 1);
    if (state.lastReq !== undefined && !requests.includes(state.lastReq)) state.lastReq = undefined;
  }
  responses.length = 0;
  if (closing) {
    for (const q of requests) records.push(exchange(q, undefined, nowNs ?? q.endNs));
    requests.length = 0;
    state.lastReq = undefined;
  }
  return { records, errorCount };
}
