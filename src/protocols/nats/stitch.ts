/**
 * NATS frames to messaging records. Frames of both directions are taken in time order:
 *
 * - `PUB`/`HPUB` → a `publish` record at once; with `verbose` (CONNECT) it waits for the
 *   server's `+OK`/`-ERR` (answers come in order of the client's ops), a `-ERR` failing it.
 * - `MSG`/`HMSG` → a `process` record. A message with a reply subject (request–reply through an
 *   inbox, a JetStream ack subject) is processed until the client publishes to that reply
 *   subject; one without is processed when it has been read.
 * - Subjects of inboxes (`_INBOX.…`, unique per request or per connection) are named `_INBOX`,
 *   so span names and metric labels keep a bounded cardinality.
 * - `SUB` (its queue group names the consumer group of the messages delivered to its sid),
 *   `UNSUB`, `CONNECT` (`name` → `messaging.client.id`) and `INFO` only update state.
 * - A `-ERR` with nothing waiting for it is counted as an error frame.
 * On close, waiting publishes and deliveries are flushed with the time of their own last byte.
 */
import type { StitchResult } from '../common/contract.ts';
import type { NatsState, Pending } from './parse.ts';
import type { NatsFrame, NatsRecord } from './types.ts';

/** bounds of the per-connection maps and queues */
export const MAX_SUBS = 4096;
export const MAX_PENDING = 1024;

export const INBOX_PREFIX = '_INBOX.';
export const INBOX_DESTINATION = '_INBOX';

export function natsDestination(subject: string | undefined): string | undefined {
  if (subject === undefined) return undefined;
  return subject.startsWith(INBOX_PREFIX) ? INBOX_DESTINATION : subject;
}

function record(p: Pending, state: NatsState, endNs: number, error?: string): NatsRecord {
  const f = p.frame;
  const sub = f.sid !== undefined ? state.subs.get(f.sid) : undefined;
  const hdr = f.headerSize ?? 0;
  return {
    category: 'messaging',
    system: 'nats',
    operation: p.operation,
    destination: natsDestination(f.subject),
    clientId: state.clientName,
    consumerGroup: p.operation === 'process' ? sub?.queue : undefined,
    bodySize: f.payloadSize,
    envelopeSize: (f.payloadSize ?? 0) + hdr,
    traceparent: f.traceparent,
    errorType: error !== undefined ? 'ERR' : undefined,
    errorMessage: error,
    startNs: f.startNs,
    endNs: endNs > f.startNs ? endNs : f.startNs,
  };
}

function byTime(requests: NatsFrame[], responses: NatsFrame[]): NatsFrame[] {
  if (responses.length === 0) return requests;
  if (requests.length === 0) return responses;
  const out: NatsFrame[] = [];
  let i = 0;
  let j = 0;
  while (i < requests.length || j < responses.length) {
    if (j >= responses.length || (i < requests.length && requests[i].startNs <= responses[j].startNs)) out.push(requests[i++]);
    else out.push(responses[j++]);
  }
  return out;
}

/** ProtocolParser.stitch for NATS. */
export function stitchNats(requests: NatsFrame[], responses: NatsFrame[], state: NatsState, closing: boolean): StitchResult<NatsRecord> {
  const records: NatsRecord[] = [];
  let errorCount = 0;
  const frames = byTime(requests, responses);
  for (const f of frames) {
    switch (f.op) {
      case 'CONNECT':
        state.verbose = f.verbose === true;
        state.clientName = f.name;
        if (state.verbose) pushAck(state, null, records);
        break;
      case 'SUB':
        if (f.sid !== undefined && f.subject !== undefined) {
          if (!state.subs.has(f.sid) && state.subs.size >= MAX_SUBS) state.subs.delete(state.subs.keys().next().value as string);
          state.subs.set(f.sid, { subject: f.subject, queue: f.queue });
        }
        if (state.verbose) pushAck(state, null, records);
        break;
      case 'UNSUB':
        if (state.verbose) pushAck(state, null, records);
        break;
      case 'PUB':
      case 'HPUB': {
        if (f.subject !== undefined) {
          const waiting = state.replies.get(f.subject);
          if (waiting !== undefined) {
            state.replies.delete(f.subject);
            records.push(record(waiting, state, f.endNs));
          }
        }
        const p: Pending = { frame: f, operation: 'publish' };
        if (state.verbose) pushAck(state, p, records);
        else records.push(record(p, state, f.endNs));
        break;
      }
      case 'OK':
      case 'ERR': {
        if (state.acks.length === 0) {
          if (f.op === 'ERR') errorCount++;
          break;
        }
        const p = state.acks.shift();
        if (p !== null && p !== undefined) records.push(record(p, state, f.endNs, f.op === 'ERR' ? (f.error ?? 'ERR') : undefined));
        break;
      }
      case 'MSG':
      case 'HMSG': {
        const p: Pending = { frame: f, operation: 'process' };
        if (f.reply === undefined) {
          records.push(record(p, state, f.endNs));
          break;
        }
        const prev = state.replies.get(f.reply);
        if (prev !== undefined) records.push(record(prev, state, prev.frame.endNs));
        else if (state.replies.size >= MAX_PENDING) {
          const [k, oldest] = state.replies.entries().next().value as [string, Pending];
          state.replies.delete(k);
          records.push(record(oldest, state, oldest.frame.endNs));
        }
        state.replies.set(f.reply, p);
        break;
      }
      default:
        break; // INFO
    }
  }
  requests.length = 0;
  responses.length = 0;
  if (closing) {
    for (const p of state.acks) if (p !== null) records.push(record(p, state, p.frame.endNs));
    state.acks.length = 0;
    for (const p of state.replies.values()) records.push(record(p, state, p.frame.endNs));
    state.replies.clear();
    state.subs.clear();
  }
  records.sort((a, b) => a.startNs - b.startNs);
  return { records, errorCount };
}

function pushAck(state: NatsState, p: Pending | null, records: NatsRecord[]): void {
  if (state.acks.length >= MAX_PENDING) {
    const old = state.acks.shift();
    if (old !== null && old !== undefined) records.push(record(old, state, old.frame.endNs));
  }
  state.acks.push(p);
}
