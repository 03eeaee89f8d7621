/**
 * Pairing Redis commands with replies: in order (pipelines: N commands, N replies), except
 * - pushes are not replies: RESP3 `>` pushes, and in RESP2 subscribed mode arrays starting
 *   with `message` / `pmessage` / `smessage`;
 * - a (P|S)SUBSCRIBE / UNSUBSCRIBE of k channels is answered by k confirmations: the first
 *   one answers the command, the others are dropped;
 * - `SELECT n` answered without error sets the DB index (`db.namespace`) of later commands, when
 *   the DB cache is enabled (`ebpf.redis_db_cache`, see dbcache.ts);
 * - when the reply direction went out of step (a reply header in an uncaptured gap), the
 *   commands waiting at that moment are closed when the client sends its next command (it has
 *   read their replies by then), or when the connection closes, with the time of the last
 *   reply bytes seen.
 * Replies with no command waiting are dropped and counted; commands never answered are
 * dropped and counted when the connection closes.
 */
import type { StitchResult } from '../common/contract.ts';
import type { RedisState } from './parse.ts';
import type { RedisCommandFrame, RedisOperation, RedisReplyFrame } from './types.ts';

const SUBSCRIBE_COMMANDS = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE']);
const CONFIRMATIONS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);
const MESSAGES = new Set(['message', 'pmessage', 'smessage']);

const T_ARRAY = 0x2a;
const T_PUSH = 0x3e;

function operation(q: RedisCommandFrame, state: RedisState, endNs: number, truncated: boolean, error?: string): RedisOperation {
  let errorType: string | undefined;
  if (error !== undefined) {
    const sp = error.indexOf(' ');
    errorType = sp > 0 ? error.slice(0, sp) : error.length > 0 ? error : 'ERR';
  }
  return {
    category: 'db',
    system: 'redis',
    operation: q.command,
    namespace: state.db,
    firstArg: q.firstArg,
    secondArg: q.secondArg,
    argc: q.argc,
    errorType,
    errorCode: errorType,
    errorMessage: error,
    truncated: truncated || q.truncated,
    startNs: q.startNs,
    endNs: endNs > q.startNs ? endNs : q.startNs,
  };
}

function answered(q: RedisCommandFrame, r: RedisReplyFrame, state: RedisState): RedisOperation {
  const rec = operation(q, state, r.endNs, false, r.error);
  if (r.error === undefined) {
    if (q.command === 'SELECT' && q.firstArg !== undefined && /^\d{1,5}$/.test(q.firstArg)) state.dbCache?.select(state, q.firstArg);
    else if (q.command === 'RESET') {
      state.dbCache?.forget(state);
      state.subscribed = false;
      state.extraConfirmations = 0;
    }
  }
  return rec;
}

/** ProtocolParser.stitch for Redis. */
export function stitchRedis(
  requests: RedisCommandFrame[],
  responses: RedisReplyFrame[],
  state: RedisState,
  closing: boolean,
): StitchResult<RedisOperation> {
  const records: RedisOperation[] = [];
  let errorCount = 0;
  let qi = 0;
  for (let ri = 0; ri < responses.length; ri++) {
    const r = responses[ri];
    const first = r.first;
    let confirmation = false;
    if (r.type === T_PUSH) {
      if (first === undefined || !CONFIRMATIONS.has(first)) continue; // a pushed message, not a reply
      confirmation = true;
    } else if (r.type === T_ARRAY && first !== undefined && (r.count === 3 || r.count === 4)) {
      if (state.subscribed && MESSAGES.has(first)) continue;
      const head = qi < requests.length ? requests[qi] : undefined;
      if (r.count === 3 && CONFIRMATIONS.has(first) && (state.subscribed || state.extraConfirmations > 0 || (head?.command !== undefined && SUBSCRIBE_COMMANDS.has(head.command)))) {
        confirmation = true;
      }
    }
    if (confirmation) {
      state.subscribed = r.third === undefined ? first !== undefined && !first.includes('unsub') : r.third > 0;
      if (state.extraConfirmations > 0) {
        state.extraConfirmations--;
        continue;
      }
      const head = qi < requests.length ? requests[qi] : undefined;
      if (head?.command === undefined || !SUBSCRIBE_COMMANDS.has(head.command)) continue; // e.g. the rest of an UNSUBSCRIBE-all
      qi++;
      state.extraConfirmations = Math.max(0, head.argc - 2);
      records.push(answered(head, r, state));
      continue;
    }
    if (qi >= requests.length) {
      errorCount++; // a reply to a command not seen
      continue;
    }
    records.push(answered(requests[qi++], r, state));
  }
  responses.length = 0;
  if (qi > 0) requests.splice(0, qi);

  if (state.desync) {
    const fresh = requests.some((q) => q.startNs > state.desyncNs);
    if (fresh || closing) {
      let k = 0;
      while (k < requests.length && requests[k].startNs <= state.desyncNs) {
        records.push(operation(requests[k], state, state.lastReplyNs, true));
        k++;
      }
      if (k > 0) requests.splice(0, k);
      state.desync = false;
    }
  }
  if (closing && requests.length > 0) {
    errorCount += requests.length;
    requests.length = 0;
  }
  if (closing && state.db !== undefined) state.dbCache?.forget(state);
  return { records, errorCount };
}
