/**
 * PostgreSQL protocol v3 framing over a StreamBuffer.
 *
 * Frontend (request direction): the untyped startup packets (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest), then typed messages (`Q`, `P`, `B`, `D`, `E`, `S`, `H`, `C`,
 * `F`, `X`, copy and password messages). Messages are consumed one by one; a *unit* frame is
 * returned at a simple Query, a Sync (closing an extended batch), a FunctionCall and the
 * StartupMessage. Parse / Bind / Close update the connection's prepared statements (an LRU of
 * {@link MAX_STATEMENTS} by default, `ebpf.postgres_prepared_statements_cache_size`) so that an Execute is named after its statement even when the
 * statement was prepared long before.
 *
 * Backend (response direction): typed messages accumulate into a *cycle* (command tags, first
 * error) returned at ReadyForQuery. The one-byte answer to SSLRequest / GSSENCRequest is
 * understood; `S`/`G` (encryption accepted) ends parsing of both directions (`eos`): the rest
 * is TLS, visible only through TLS capture.
 *
 * Captured prefixes: a message body may lie in a gap (its length is known). A request header in
 * a gap ends the batch being built (clients write a batch in one call). A response header in a
 * gap puts the response direction out of step: its bytes are discarded until the next request
 * unit (see stitch.ts).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import type { PgError, PgExecute, PgFrame, PgRequestFrame, PgResponseFrame } from './types.ts';

/** protocol 3.0 in a StartupMessage */
export const PG_PROTOCOL_3 = 196608;
export const PG_SSL_REQUEST = 80877103;
export const PG_GSSENC_REQUEST = 80877104;
export const PG_CANCEL_REQUEST = 80877102;
/** prepared statements (and portals) remembered per connection (OBI's default cache size) */
export const MAX_STATEMENTS = 1024;
/** statement text kept per Parse / Query */
export const MAX_QUERY = 8192;
/** Parse / Execute messages kept per unit (a batch never closed by Sync must not grow without end) */
export const MAX_UNIT_MESSAGES = 256;
/** largest message accepted (the server's own limit is 1 GiB) */
const MAX_MESSAGE = 1 << 30;
/** largest startup packet accepted */
const MAX_STARTUP = 10240;

/** frontend message types after startup */
const REQUEST_TYPES = new Set('QPBDESHCFXdcfp'.split('').map((c) => c.charCodeAt(0)));
/** backend message types */
const RESPONSE_TYPES = new Set('RSKZTDCIEN123ntsGHWdcAVv'.split('').map((c) => c.charCodeAt(0)));

const CH = (c: string): number => c.charCodeAt(0);
const Q = CH('Q');
const P = CH('P');
const B = CH('B');
const E = CH('E');
const S = CH('S');
const C = CH('C');
const F = CH('F');
const Z = CH('Z');
const I = CH('I');
const N = CH('N');
const G = CH('G');
const s_ = CH('s');
const D = CH('D');
const H = CH('H');

interface PendingUnit {
  startNs: number;
  executes: PgExecute[];
  parses: string[];
  truncated: boolean;
}

interface PendingCycle {
  startNs: number;
  completions: { tag?: string; atNs: number }[];
  error?: PgError;
}

export interface PgState {
  /** prepared statements (and portals) remembered (`ebpf.postgres_prepared_statements_cache_size`) */
  readonly maxStatements: number;
  database?: string;
  user?: string;
  /** prepared statement name → text (LRU: most recently used last) */
  readonly statements: Map<string, string>;
  /** portal name → prepared statement name */
  readonly portals: Map<string, string>;
  pending?: PendingUnit;
  cycle?: PendingCycle;
  /** SSLRequest / GSSENCRequest sent, one-byte answer not yet seen */
  sslPending: number;
  /** the connection switched to TLS: nothing more to read in clear text */
  tls: boolean;
  /** responses out of step: discard them until the next request unit */
  desync: boolean;
  desyncNs: number;
  /** what was known of the cycle being read when the responses went out of step */
  desyncCycle?: PendingCycle;
  lastResponseNs: number;
}

/** Parser state of one connection; `maxStatements` is the LRU size of its prepared statements. */
export function newPgState(maxStatements = MAX_STATEMENTS): PgState {
  return { maxStatements, statements: new Map(), portals: new Map(), sslPending: 0, tls: false, desync: false, desyncNs: 0, lastResponseNs: 0 };
}

function lruSet(m: Map<string, string>, k: string, v: string, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as string);
}

function lruGet(m: Map<string, string>, k: string): string | undefined {
  const v = m.get(k);
  if (v !== undefined) {
    m.delete(k);
    m.set(k, v);
  }
  return v;
}

/** big-endian uint32 at `off`, or -1 when a byte is not captured */
function u32(buf: StreamBuffer, off: number): number {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  const c = buf.byteAt(off + 2);
  const d = buf.byteAt(off + 3);
  if ((a | b | c | d) < 0) return -1;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

/**
 * NUL-terminated string at `off` within `[off, end)`: its text (cut at MAX_QUERY or at the
 * captured run) and the offset after the NUL (-1 when the NUL was not captured).
 */
function cstring(buf: StreamBuffer, off: number, end: number): { text: string; next: number } {
  const run = Math.min(end, buf.capturedRunEnd(off), off + MAX_QUERY);
  if (run <= off) return { text: '', next: -1 };
  const nul = buf.indexOf(0, off, run);
  const stop = nul >= 0 ? nul : run;
  const b = buf.slice(off, stop);
  return { text: b === null ? '' : b.toString('utf8'), next: nul >= 0 ? nul + 1 : -1 };
}

function pendingUnit(buf: StreamBuffer, st: PgState): PendingUnit {
  let p = st.pending;
  if (p === undefined) {
    p = { startNs: buf.tsAt(0), executes: [], parses: [], truncated: false };
    st.pending = p;
  }
  return p;
}

function unitFrame(kind: PgRequestFrame['kind'], startNs: number, endNs: number, u?: PendingUnit, query?: string, truncated = false): PgRequestFrame {
  return { kind, query, executes: u?.executes ?? [], parses: u?.parses ?? [], truncated: truncated || (u?.truncated ?? false), startNs, endNs };
}

/** a request header that could not be read: skip to the end of the gap; it ends the batch being built */
function requestGap(buf: StreamBuffer, st: PgState): ParseResult<PgFrame> {
  const end = buf.gapEnd(buf.capturedRunEnd(0));
  const stop = end > 0 ? end : buf.length;
  const u = st.pending;
  const endNs = buf.tsAt(stop - 1);
  buf.consume(stop);
  if (u === undefined) return { state: 'ignored' };
  st.pending = undefined;
  if (u.executes.length === 0 && u.parses.length > 0) u.executes.push({ query: u.parses[u.parses.length - 1], statement: '' });
  u.truncated = true;
  return { state: 'success', frame: unitFrame('extended', u.startNs, endNs, u) };
}

function parseStartup(buf: StreamBuffer, st: PgState): ParseResult<PgFrame> {
  if (buf.length < 8) return { state: 'needs-more-data' };
  const len = u32(buf, 0);
  const code = u32(buf, 4);
  if (len < 8 || len > MAX_STARTUP || code < 0) return { state: 'invalid' };
  if (code === PG_SSL_REQUEST || code === PG_GSSENC_REQUEST) {
    if (len !== 8) return { state: 'invalid' };
    st.sslPending++;
    buf.consume(8);
    return { state: 'ignored' };
  }
  if (code === PG_CANCEL_REQUEST) {
    if (len !== 16) return { state: 'invalid' };
    if (buf.length < 16) return { state: 'needs-more-data' };
    buf.consume(16);
    return { state: 'ignored' };
  }
  if (code >>> 16 !== 3) return { state: 'invalid' };
  if (buf.length < len) return { state: 'needs-more-data' };
  // key\0value\0 ... \0
  let off = 8;
  let user: string | undefined;
  let database: string | undefined;
  for (let i = 0; i < 64 && off < len - 1; i++) {
    const k = cstring(buf, off, len);
    if (k.next < 0 || k.text === '') break;
    const v = cstring(buf, k.next, len);
    if (k.text === 'user') user = v.text;
    else if (k.text === 'database') database = v.text;
    if (v.next < 0) break;
    off = v.next;
  }
  st.user = user;
  st.database = database !== undefined && database.length > 0 ? database : user;
  const f = unitFrame('startup', buf.tsAt(0), buf.tsAt(len - 1));
  buf.consume(len);
  return { state: 'success', frame: f };
}

function parseRequest(buf: StreamBuffer, st: PgState): ParseResult<PgFrame> {
  if (st.tls) return { state: 'eos' };
  const t = buf.byteAt(0);
  if (t < 0) return requestGap(buf, st);
  if (t === 0) return parseStartup(buf, st);
  if (!REQUEST_TYPES.has(t)) return { state: 'invalid' };
  if (buf.length < 5) return { state: 'needs-more-data' };
  const len = u32(buf, 1);
  if (len < 0) return requestGap(buf, st);
  if (len < 4 || len > MAX_MESSAGE) return { state: 'invalid' };
  const end = 1 + len;
  if (end > buf.length) {
    // a long message (COPY data, a huge statement): release what will not be read again
    if (len > 2 * MAX_QUERY && buf.length > 5 + MAX_QUERY) buf.forget(5 + MAX_QUERY, buf.length);
    return { state: 'needs-more-data' };
  }
  let frame: PgRequestFrame | undefined;
  switch (t) {
    case Q: {
      const q = cstring(buf, 5, end);
      frame = unitFrame('query', buf.tsAt(0), buf.tsAt(end - 1), undefined, q.text, q.next < 0);
      break;
    }
    case P: {
      const u = pendingUnit(buf, st);
      const name = cstring(buf, 5, end);
      const q = name.next < 0 ? { text: '', next: -1 } : cstring(buf, name.next, end);
      if (name.next >= 0) lruSet(st.statements, name.text, q.text, st.maxStatements);
      if (u.parses.length < MAX_UNIT_MESSAGES) u.parses.push(q.text);
      else u.truncated = true;
      if (q.next < 0) u.truncated = true;
      break;
    }
    case B: {
      pendingUnit(buf, st);
      const portal = cstring(buf, 5, end);
      const stmt = portal.next < 0 ? undefined : cstring(buf, portal.next, end);
      if (stmt !== undefined && stmt.next >= 0) lruSet(st.portals, portal.text, stmt.text, st.maxStatements);
      break;
    }
    case E: {
      const u = pendingUnit(buf, st);
      const portal = cstring(buf, 5, end);
      const statement = st.portals.get(portal.text) ?? '';
      if (u.executes.length < MAX_UNIT_MESSAGES) u.executes.push({ statement, query: lruGet(st.statements, statement) });
      else u.truncated = true;
      break;
    }
    case C: {
      pendingUnit(buf, st);
      const kind = buf.byteAt(5);
      const name = cstring(buf, 6, end);
      if (name.next >= 0) {
        if (kind === S) st.statements.delete(name.text);
        else if (kind === P) st.portals.delete(name.text);
      }
      break;
    }
    case D:
    case H:
      pendingUnit(buf, st);
      break;
    case S: {
      const u = st.pending;
      st.pending = undefined;
      frame = unitFrame('extended', u?.startNs ?? buf.tsAt(0), buf.tsAt(end - 1), u);
      break;
    }
    case F:
      frame = unitFrame('function', buf.tsAt(0), buf.tsAt(end - 1));
      break;
    default:
      // X terminate, copy data / done / fail, password and SASL messages
      break;
  }
  buf.consume(end);
  return frame === undefined ? { state: 'ignored' } : { state: 'success', frame };
}

function parseErrorFields(buf: StreamBuffer, from: number, end: number, completions: number, atNs: number): PgError {
  const stop = Math.min(end, buf.capturedRunEnd(from));
  const b = stop > from ? buf.slice(from, stop) : null;
  let code: string | undefined;
  let message: string | undefined;
  let severity: string | undefined;
  if (b !== null) {
    let i = 0;
    while (i < b.length && b[i] !== 0) {
      const field = b[i];
      const nul = b.indexOf(0, i + 1);
      const v = b.toString('utf8', i + 1, nul < 0 ? b.length : nul);
      if (field === 0x43 /* C */) code = v;
      else if (field === 0x4d /* M */) message = v;
      else if (field === 0x56 /* V */ || (field === 0x53 /* S */ && severity === undefined)) severity = v;
      if (nul < 0) break;
      i = nul + 1;
    }
  }
  return { code, message, severity, afterCompletions: completions, atNs };
}

function startResponseDesync(buf: StreamBuffer, st: PgState): ParseResult<PgFrame> {
  st.desync = true;
  st.desyncNs = buf.tsAt(0);
  st.desyncCycle = st.cycle;
  st.cycle = undefined;
  st.lastResponseNs = buf.tsAt(buf.length - 1);
  buf.consume(buf.length);
  return { state: 'ignored' };
}

function parseResponse(buf: StreamBuffer, st: PgState): ParseResult<PgFrame> {
  if (st.tls) return { state: 'eos' };
  if (st.desync) {
    st.lastResponseNs = buf.tsAt(buf.length - 1);
    buf.consume(buf.length);
    return { state: 'ignored' };
  }
  const t = buf.byteAt(0);
  if (t < 0) return startResponseDesync(buf, st);
  if (st.sslPending > 0 && (t === N || t === S || t === G)) {
    // the one-byte answer to SSLRequest / GSSENCRequest
    st.sslPending--;
    buf.consume(1);
    if (t === N) return { state: 'ignored' };
    st.tls = true;
    return { state: 'eos' };
  }
  if (!RESPONSE_TYPES.has(t)) return { state: 'invalid' };
  if (buf.length < 5) return { state: 'needs-more-data' };
  const len = u32(buf, 1);
  if (len < 0) return startResponseDesync(buf, st);
  if (len < 4 || len > MAX_MESSAGE) return { state: 'invalid' };
  const end = 1 + len;
  if (end > buf.length) {
    if (len > 4096 && t !== E && t !== N && t !== C && buf.length > 5) buf.forget(5, buf.length);
    return { state: 'needs-more-data' };
  }
  if (st.sslPending > 0) st.sslPending = 0; // a server that does not answer the one byte (old servers send an error)
  let cycle = st.cycle;
  if (cycle === undefined) {
    cycle = { startNs: buf.tsAt(0), completions: [] };
    st.cycle = cycle;
  }
  const atNs = buf.tsAt(end - 1);
  st.lastResponseNs = atNs;
  switch (t) {
    case C:
      cycle.completions.push({ tag: cstring(buf, 5, end).text, atNs });
      break;
    case I:
    case s_:
      cycle.completions.push({ atNs });
      break;
    case E:
      if (cycle.error === undefined) cycle.error = parseErrorFields(buf, 5, end, cycle.completions.length, atNs);
      break;
    case Z: {
      const f: PgResponseFrame = { kind: 'cycle', completions: cycle.completions, error: cycle.error, truncated: false, startNs: cycle.startNs, endNs: atNs };
      st.cycle = undefined;
      buf.consume(end);
      return { state: 'success', frame: f };
    }
  }
  buf.consume(end);
  return { state: 'ignored' };
}

/** ProtocolParser.parseFrame for PostgreSQL. */
export function parsePgFrame(type: MessageType, buf: StreamBuffer, state: PgState): ParseResult<PgFrame> {
  return type === 'request' ? parseRequest(buf, state) : parseResponse(buf, state);
}
