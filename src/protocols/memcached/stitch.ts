/**
 * Pairing Memcached requests with answers.
 * - Text: in order; a `noreply` command has no answer and becomes an operation of no duration
 *   as soon as the commands before it are answered.
 * - Binary: an answer carries its request's opaque; quiet requests before the answered one got
 *   no answer because they succeeded (GETQ: a miss), and become operations of no duration.
 * Errors (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`, binary error statuses) give `error.type` and
 * `db.response.status_code`, the server's line (or message) the span status message.
 * When answers went out of step, the requests waiting at that moment are closed at the client's
 * next request, or at close, with the time of the last answer bytes seen.
 */
import type { StitchResult } from '../common/contract.ts';
import type { McState } from './parse.ts';
import type { McOperation, McRequestFrame, McResponseFrame } from './types.ts';

function op(q: McRequestFrame, endNs: number, r?: McResponseFrame, truncated = false): McOperation {
  const retrieval = q.command === 'GET' || q.command === 'GAT';
  return {
    category: 'db',
    system: 'memcached',
    operation: q.command,
    keys: q.keys,
    keyCount: q.keyCount,
    noreply: q.quiet && r === undefined,
    binary: q.binary,
    hits: retrieval && r !== undefined ? r.values : undefined,
    errorType: r?.errorType,
    errorCode: r?.errorType,
    errorMessage: r?.errorMessage,
    truncated: truncated || q.truncated,
    startNs: q.startNs,
    endNs: endNs > q.startNs ? endNs : q.startNs,
  };
}

/** ProtocolParser.stitch for Memcached. */
export function stitchMc(requests: McRequestFrame[], responses: McResponseFrame[], state: McState, closing: boolean): StitchResult<McOperation> {
  const records: McOperation[] = [];
  let errorCount = 0;
  let qi = 0;
  const flushTextNoreply = (): void => {
    while (qi < requests.length && !requests[qi].binary && requests[qi].quiet) {
      const q = requests[qi++];
      records.push(op(q, q.startNs));
    }
  };
  for (const r of responses) {
    if (r.binary) {
      let k = qi;
      while (k < requests.length && !(requests[k].binary && requests[k].opaque === r.opaque)) k++;
      if (k >= requests.length) {
        errorCount++;
        continue;
      }
      for (; qi < k; qi++) {
        const q = requests[qi];
        if (q.quiet) records.push(op(q, q.startNs));
        else errorCount++; // answered out of order or lost
      }
      records.push(op(requests[qi++], r.endNs, r));
      continue;
    }
    flushTextNoreply();
    if (qi >= requests.length) {
      errorCount++;
      continue;
    }
    records.push(op(requests[qi++], r.endNs, r));
  }
  responses.length = 0;
  flushTextNoreply();
  if (qi > 0) requests.splice(0, qi);

  if (state.desync) {
    const fresh = requests.some((q) => q.startNs > state.desyncNs);
    if (fresh || closing) {
      let k = 0;
      while (k < requests.length && requests[k].startNs <= state.desyncNs) {
        records.push(op(requests[k], state.lastResponseNs, undefined, true));
        k++;
      }
      if (k > 0) requests.splice(0, k);
      state.expect.splice(0, Math.min(k, state.expect.length));
      state.desync = false;
    }
  }
  if (closing && requests.length > 0) {
    // quiet binary requests never answered succeeded; others were not answered
    for (const q of requests) {
      if (q.quiet) records.push(op(q, q.startNs));
      else errorCount++;
    }
    requests.length = 0;
  }
  return { records, errorCount };
}
