/**
 * Pairing MySQL commands with responses, in order (one response per command that gets one),
 * and turning them into operations:
 * - COM_QUERY and COM_STMT_EXECUTE: one operation each (an EXECUTE is named after the text its
 *   statement was prepared with); an ERR gives `error.type` = SQLSTATE and
 *   `db.response.status_code` = the error number;
 * - COM_STMT_PREPARE: an operation only when it failed (its statement never runs);
 * - the handshake's database, COM_INIT_DB and `USE db` answered with OK set `db.namespace`;
 * - other commands (PING, STATISTICS, ...) yield none.
 * When responses went out of step, the commands waiting at that moment are closed when the
 * client sends its next command, or at close, with the time of the last response bytes seen.
 */
import type { StitchResult } from '../common/contract.ts';
import { sqlSummary } from '../common/sql.ts';
import type { MysqlState } from './parse.ts';
import type { MysqlError, MysqlOperation, MysqlRequestFrame, MysqlResponseFrame } from './types.ts';

function op(st: MysqlState, q: MysqlRequestFrame, endNs: number, truncated: boolean, error?: MysqlError): MysqlOperation {
  const s = q.query === undefined ? undefined : sqlSummary(q.query, 'mysql');
  return {
    category: 'db',
    system: 'mysql',
    operation: s?.operation,
    collection: s?.collection,
    namespace: st.database,
    query: q.query,
    statementId: q.statementId,
    errorType: error === undefined ? undefined : (error.sqlState ?? String(error.code)),
    errorCode: error === undefined ? undefined : String(error.code),
    errorMessage: error?.message,
    truncated: truncated || q.truncated,
    startNs: q.startNs,
    endNs: endNs > q.startNs ? endNs : q.startNs,
  };
}

/** `USE db` / `USE \`db\`` → db */
function useTarget(query: string): string | undefined {
  const m = /^\s*use\s+(`([^`]+)`|([^\s;]+))\s*;?\s*$/i.exec(query);
  return m === null ? undefined : (m[2] ?? m[3]);
}

function answered(q: MysqlRequestFrame, r: MysqlResponseFrame, st: MysqlState, out: MysqlOperation[]): void {
  const ok = r.error === undefined;
  switch (q.kind) {
    case 'login':
    case 'init_db':
      if (ok && q.database !== undefined) st.database = q.database;
      return;
    case 'query':
      out.push(op(st, q, r.endNs, false, r.error));
      if (ok && q.query !== undefined) {
        const db = useTarget(q.query);
        if (db !== undefined) st.database = db;
      }
      return;
    case 'execute':
      out.push(op(st, q, r.endNs, false, r.error));
      return;
    case 'prepare':
      if (!ok) out.push(op(st, q, r.endNs, false, r.error));
      return;
    default:
      return;
  }
}

/** ProtocolParser.stitch for MySQL / MariaDB. */
export function stitchMysql(requests: MysqlRequestFrame[], responses: MysqlResponseFrame[], state: MysqlState, closing: boolean): StitchResult<MysqlOperation> {
  const records: MysqlOperation[] = [];
  let errorCount = 0;
  const n = Math.min(requests.length, responses.length);
  for (let i = 0; i < n; i++) answered(requests[i], responses[i], state, records);
  if (n > 0) requests.splice(0, n);
  if (responses.length > n) errorCount += responses.length - n;
  responses.length = 0;

  if (state.desync) {
    const fresh = requests.some((q) => q.startNs > state.desyncNs);
    if (fresh || closing) {
      let k = 0;
      while (k < requests.length && requests[k].startNs <= state.desyncNs) {
        const q = requests[k];
        if (q.kind === 'query' || q.kind === 'execute') records.push(op(state, q, state.lastResponseNs, true));
        k++;
      }
      if (k > 0) requests.splice(0, k);
      // the responses of these commands were discarded
      state.expect.splice(0, Math.min(k, state.expect.length));
      state.desync = false;
    }
  }
  if (closing && requests.length > 0) {
    errorCount += requests.length;
    requests.length = 0;
  }
  return { records, errorCount };
}
