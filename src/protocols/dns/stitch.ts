/**
 * Pairing DNS queries with responses by message id (a resolver may have several queries out at
 * once: A and AAAA together). Queries waiting are bounded; the oldest is dropped and counted.
 * Responses nobody waits for, and queries unanswered at close, are counted.
 */
import type { StitchResult } from '../common/contract.ts';
import type { DnsState } from './parse.ts';
import { rcodeName, typeName } from './message.ts';
import type { DnsFrame, DnsOperation } from './types.ts';

export function stitchDns(transport: 'udp' | 'tcp') {
  return (requests: DnsFrame[], responses: DnsFrame[], state: DnsState, closing: boolean): StitchResult<DnsOperation> => {
    const records: DnsOperation[] = [];
    let errorCount = 0;
    const pending = state.pending;
    for (const q of requests) {
      if (pending.has(q.id)) errorCount++; // a retransmission: the first is forgotten
      pending.delete(q.id);
      if (pending.size >= state.maxPending) {
        pending.delete(pending.keys().next().value as number);
        errorCount++;
      }
      pending.set(q.id, q);
    }
    requests.length = 0;
    for (const r of responses) {
      const q = pending.get(r.id);
      if (q === undefined) {
        errorCount++;
        continue;
      }
      pending.delete(r.id);
      const rcode = rcodeName(r.rcode);
      const qtype = q.qtype ?? r.qtype;
      records.push({
        category: 'dns',
        transport,
        name: q.name ?? r.name,
        type: qtype === undefined ? undefined : typeName(qtype),
        rcode,
        answers: r.ancount,
        tc: r.tc,
        errorType: r.rcode === 0 ? undefined : rcode,
        startNs: q.startNs,
        endNs: r.endNs > q.startNs ? r.endNs : q.startNs,
      });
    }
    responses.length = 0;
    if (closing) {
      errorCount += pending.size;
      pending.clear();
    }
    return { records, errorCount };
  };
}
