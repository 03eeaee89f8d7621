/**
 * Pairing MongoDB requests with replies by `responseTo` = the request's `requestID` (drivers
 * may multiplex, so order is not trusted).
 * - A request that expects no reply (OP_MSG moreToCome, unacknowledged legacy writes) is an
 *   operation at once, timed by its own bytes.
 * - Exhaust (an OP_MSG reply with moreToCome; an OP_REPLY with a live cursor to an OP_QUERY with
 *   the Exhaust flag): the next reply answers this reply's `requestID`; each further reply is a
 *   `getMore` of the same collection, timed from the previous reply's end.
 * - `hello` / `isMaster`: the connection handshake and the driver's server monitoring, not
 *   application operations: paired (so their replies are not counted as unpaired) but make no
 *   record.
 * - getMore names its collection (`collection` field); when that was not captured the cursor's
 *   collection, remembered from the find / aggregate reply that opened it, is used.
 * - Errors: `ok: 0` (code, codeName, errmsg), else the first write error, else the write concern
 *   error; `db.response.status_code` and `error.type` are the numeric code.
 * Requests waiting for a reply are bounded (`ebpf.mongo_requests_cache_size`): the oldest is
 * dropped and counted; replies nobody waits for, and requests unanswered at close, are counted.
 */
import type { StitchResult } from '../common/contract.ts';
import { MAX_CURSORS, type MongoState } from './parse.ts';
import { OP_REPLY, type MongoOperation, type MongoRequestFrame, type MongoResponseFrame } from './types.ts';

/** commands that make no record */
export const HOUSEKEEPING_COMMANDS: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

function operation(q: MongoRequestFrame, state: MongoState, startNs: number, endNs: number, r?: MongoResponseFrame): MongoOperation {
  let collection = q.collection;
  if (collection === undefined && q.cursorId !== undefined) collection = state.cursors.get(q.cursorId);
  let errorCode: string | undefined;
  let errorType: string | undefined;
  let errorMessage: string | undefined;
  if (r?.failed === true) {
    errorCode = r.code !== undefined ? String(r.code) : undefined;
    errorType = errorCode ?? r.codeName ?? '_OTHER';
    errorMessage = r.errmsg;
  }
  return {
    category: 'db',
    system: 'mongodb',
    operation: q.command,
    collection,
    namespace: q.database,
    errorCode,
    errorType,
    errorMessage,
    statement: q.statement,
    truncated: q.truncated || r?.truncated === true,
    startNs,
    endNs: endNs > startNs ? endNs : startNs,
  };
}

function remember(state: MongoState, r: MongoResponseFrame, q: MongoRequestFrame): void {
  if (r.cursorId === undefined) return;
  let coll: string | undefined;
  if (r.cursorNs !== undefined) {
    const dot = r.cursorNs.indexOf('.');
    coll = dot >= 0 ? r.cursorNs.slice(dot + 1) : undefined;
  }
  coll ??= q.collection;
  if (coll === undefined) return;
  const c = state.cursors;
  c.delete(r.cursorId);
  if (c.size >= MAX_CURSORS) c.delete(c.keys().next().value as string);
  c.set(r.cursorId, coll);
}

/** ProtocolParser.stitch for MongoDB. */
export function stitchMongo(requests: MongoRequestFrame[], responses: MongoResponseFrame[], state: MongoState, closing: boolean): StitchResult<MongoOperation> {
  const records: MongoOperation[] = [];
  let errorCount = 0;
  const pending = state.pending;
  for (const q of requests) {
    if (q.noReply) {
      if (q.command === undefined || !HOUSEKEEPING_COMMANDS.has(q.command)) records.push(operation(q, state, q.startNs, q.endNs));
      continue;
    }
    if (pending.has(q.requestId)) errorCount++; // a request id used twice: the first is lost
    pending.delete(q.requestId);
    if (pending.size >= state.maxPending) {
      pending.delete(pending.keys().next().value as number);
      errorCount++;
    }
    pending.set(q.requestId, { req: q, startNs: q.startNs });
  }
  requests.length = 0;
  for (const r of responses) {
    const p = pending.get(r.responseTo);
    if (p === undefined) {
      errorCount++;
      continue;
    }
    pending.delete(r.responseTo);
    const q = p.req;
    if (q.command === undefined || !HOUSEKEEPING_COMMANDS.has(q.command)) records.push(operation(q, state, p.startNs, r.endNs, r));
    remember(state, r, q);
    if (r.cursorId === undefined && q.cursorId !== undefined) state.cursors.delete(q.cursorId); // exhausted
    // exhaust: the next reply answers this one; each further batch is a getMore of the same cursor
    if (r.moreToCome || (q.exhaust && r.opCode === OP_REPLY && r.cursorId !== undefined)) {
      const next = q.command === 'getMore' ? q : { ...q, command: 'getMore', statement: undefined };
      pending.set(r.requestId, { req: next, startNs: r.endNs });
    }
  }
  responses.length = 0;
  if (closing) {
    errorCount += pending.size;
    pending.clear();
    state.cursors.clear();
  }
  return { records, errorCount };
}
