/**
 * Pairing PostgreSQL request units with response cycles, in order (each unit is answered by
 * exactly one ReadyForQuery), and turning them into operations:
 * - a simple Query: one operation (the statement's first keyword and table), failed when the
 *   cycle holds an ErrorResponse;
 * - an extended batch: one operation per Execute, named after its prepared statement; the k-th
 *   Execute ends at the k-th CommandComplete; after an error the server skips to Sync, so the
 *   Execute that failed is the one after the completed ones and later Executes did not run. A
 *   batch without Execute yields an operation only if it failed (a statement that did not parse);
 * - the startup message and FunctionCalls yield none.
 * When responses went out of step (a header in an uncaptured gap), the units waiting at that
 * moment are closed when the client sends its next unit, or at close, with the time of the last
 * response bytes seen. Cycles with no unit waiting are dropped and counted; units never answered
 * are dropped and counted at close.
 */
import type { StitchResult } from '../common/contract.ts';
import { sqlSummary } from '../common/sql.ts';
import type { PgState } from './parse.ts';
import type { PgError, PgOperation, PgRequestFrame, PgResponseFrame } from './types.ts';

function op(st: PgState, query: string | undefined, statement: string | undefined, startNs: number, endNs: number, truncated: boolean, error?: PgError): PgOperation {
  const s = query === undefined ? undefined : sqlSummary(query, 'postgresql');
  return {
    category: 'db',
    system: 'postgresql',
    operation: s?.operation,
    collection: s?.collection,
    namespace: st.database,
    query,
    statement: statement !== undefined && statement.length > 0 ? statement : undefined,
    errorType: error === undefined ? undefined : (error.code ?? 'ERROR'),
    errorCode: error?.code,
    errorMessage: error?.message,
    truncated,
    startNs,
    endNs: endNs > startNs ? endNs : startNs,
  };
}

interface CycleView {
  readonly completions: readonly { readonly atNs: number }[];
  readonly error?: PgError;
  readonly endNs: number;
  readonly truncated: boolean;
}

function operations(u: PgRequestFrame, c: CycleView, st: PgState, out: PgOperation[]): void {
  const truncated = u.truncated || c.truncated;
  if (u.kind === 'query') {
    out.push(op(st, u.query, undefined, u.startNs, c.endNs, truncated, c.error));
    return;
  }
  if (u.kind !== 'extended') return;
  const ex = u.executes;
  if (ex.length === 0) {
    if (c.error !== undefined) out.push(op(st, u.parses[0], undefined, u.startNs, c.error.atNs, truncated, c.error));
    return;
  }
  for (let k = 0; k < ex.length; k++) {
    if (k < c.completions.length) {
      out.push(op(st, ex[k].query, ex[k].statement, u.startNs, c.completions[k].atNs, truncated));
    } else if (c.error !== undefined && k === c.error.afterCompletions) {
      out.push(op(st, ex[k].query, ex[k].statement, u.startNs, c.error.atNs, truncated, c.error));
      return;
    } else if (c.truncated) {
      out.push(op(st, ex[k].query, ex[k].statement, u.startNs, c.endNs, true));
    } else {
      return; // skipped by the server after an error
    }
  }
}

/** ProtocolParser.stitch for PostgreSQL. */
export function stitchPg(requests: PgRequestFrame[], responses: PgResponseFrame[], state: PgState, closing: boolean): StitchResult<PgOperation> {
  const records: PgOperation[] = [];
  let errorCount = 0;
  const n = Math.min(requests.length, responses.length);
  for (let i = 0; i < n; i++) operations(requests[i], responses[i], state, records);
  if (n > 0) requests.splice(0, n);
  if (responses.length > n) errorCount += responses.length - n; // answers to units not seen
  responses.length = 0;

  if (state.desync) {
    const fresh = requests.some((u) => u.startNs > state.desyncNs);
    if (fresh || closing) {
      let k = 0;
      while (k < requests.length && requests[k].startNs <= state.desyncNs) {
        const partial = k === 0 ? state.desyncCycle : undefined;
        operations(requests[k], { completions: partial?.completions ?? [], error: partial?.error, endNs: state.lastResponseNs, truncated: true }, state, records);
        k++;
      }
      if (k > 0) requests.splice(0, k);
      state.desync = false;
      state.desyncCycle = undefined;
    }
  }
  if (closing && requests.length > 0) {
    errorCount += requests.length;
    requests.length = 0;
  }
  return { records, errorCount };
}
