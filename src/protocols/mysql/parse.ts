// Over 400 lines: one state machine over the command phases and result-set packets of the client/server protocol.
/**
 * MySQL / MariaDB packet framing over a StreamBuffer.
 *
 * Every packet is `length (3 bytes LE) | sequence id | payload`. Commands start a sequence
 * (id 0); the handshake response has id 1; other client packets (authentication data, LOAD DATA
 * LOCAL file contents, COM_STMT_SEND_LONG_DATA) carry on a sequence and yield no frame.
 *
 * Requests: one packet per command. COM_STMT_PREPARE's text is remembered until the server
 * answers with the statement id (an LRU of {@link MAX_STATEMENTS} per connection), so that a
 * COM_STMT_EXECUTE is named after its statement; COM_STMT_CLOSE forgets it.
 *
 * Responses are read packet by packet, following what the command at the head of the queue
 * expects (OK/ERR, result sets with their column definitions, EOF or OK terminators, more
 * results, a prepared statement's definitions, the authentication exchange). A response frame
 * is returned with its last packet. The server greeting gives the capability flags
 * (CLIENT_DEPRECATE_EOF); without it EOF packets are told from OK terminators by their size.
 *
 * Captured prefixes: a packet body may lie in a gap (its length is known). A request header in
 * a gap is skipped to the end of the gap. A response header in a gap puts the response
 * direction out of step: its bytes are discarded until the next command (see stitch.ts).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import type { MysqlCommandKind, MysqlError, MysqlFrame, MysqlRequestFrame, MysqlResponseFrame } from './types.ts';

export const COM_QUIT = 0x01;
export const COM_INIT_DB = 0x02;
export const COM_QUERY = 0x03;
export const COM_FIELD_LIST = 0x04;
export const COM_STATISTICS = 0x09;
export const COM_PING = 0x0e;
export const COM_CHANGE_USER = 0x11;
export const COM_STMT_PREPARE = 0x16;
export const COM_STMT_EXECUTE = 0x17;
export const COM_STMT_SEND_LONG_DATA = 0x18;
export const COM_STMT_CLOSE = 0x19;
export const COM_STMT_RESET = 0x1a;
export const COM_SET_OPTION = 0x1b;
export const COM_STMT_FETCH = 0x1c;
export const COM_RESET_CONNECTION = 0x1f;

export const CLIENT_CONNECT_WITH_DB = 0x8;
export const CLIENT_SSL = 0x800;
export const CLIENT_SECURE_CONNECTION = 0x8000;
export const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x200000;
export const CLIENT_DEPRECATE_EOF = 0x1000000;
const SERVER_MORE_RESULTS_EXISTS = 0x0008;

/** prepared statements remembered per connection (OBI's default cache size) */
export const MAX_STATEMENTS = 1024;
/** statement text kept per command */
export const MAX_QUERY = 8192;
const MAX_PAYLOAD = 0xffffff;

/** What the response to a command looks like. */
type Expect = 'generic' | 'prepare' | 'simple' | 'field_list' | 'statistics' | 'auth' | 'rows';

interface Expectation {
  readonly expect: Expect;
  /** COM_STMT_PREPARE text */
  readonly query?: string;
}

type Stage = 'first' | 'coldefs' | 'afterdefs' | 'rows' | 'pdefs';

interface Progress {
  startNs: number;
  stage: Stage;
  /** definitions left in the current group */
  remaining: number;
  /** prepared statement: column definitions after the parameter ones */
  nextGroup: number;
  /** the previous packet was 0xffffff bytes long: this one continues it */
  cont: boolean;
  resultSets: number;
  statementId?: number;
}

export interface MysqlState {
  database?: string;
  /** capability flags of the greeting / the handshake response (0 = not seen) */
  serverCaps: number;
  clientCaps: number;
  /** the greeting was seen: the next client packet with sequence id 1 is the handshake response */
  loginExpected: boolean;
  /** statement id → text (LRU) */
  readonly statements: Map<number, string>;
  /** statements remembered (`ebpf.mysql_prepared_statements_cache_size`) */
  readonly maxStatements: number;
  /** responses awaited, in command order */
  readonly expect: Expectation[];
  resp?: Progress;
  tls: boolean;
  desync: boolean;
  desyncNs: number;
  lastResponseNs: number;
}

/** Parser state of one connection; `maxStatements` is the LRU size of its prepared statements. */
export function newMysqlState(maxStatements = MAX_STATEMENTS): MysqlState {
  return { serverCaps: 0, clientCaps: 0, loginExpected: false, statements: new Map(), maxStatements, expect: [], tls: false, desync: false, desyncNs: 0, lastResponseNs: 0 };
}

/** CLIENT_DEPRECATE_EOF negotiated; undefined when the handshake was not seen */
function deprecateEof(st: MysqlState): boolean | undefined {
  if (st.serverCaps === 0 || st.clientCaps === 0) return undefined;
  return (st.serverCaps & st.clientCaps & CLIENT_DEPRECATE_EOF) !== 0;
}

/** answers awaited at most (commands whose answers are never seen must not pile up) */
export const MAX_EXPECTED = 1024;

function pushExpect(st: MysqlState, e: Expectation): void {
  if (st.expect.length >= MAX_EXPECTED) st.expect.shift();
  st.expect.push(e);
}

function lruSet(m: Map<number, string>, k: number, v: string, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) m.delete(m.keys().next().value as number);
}

function u16le(buf: StreamBuffer, off: number): number {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  return (a | b) < 0 ? -1 : a | (b << 8);
}

function u32le(buf: StreamBuffer, off: number): number {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  const c = buf.byteAt(off + 2);
  const d = buf.byteAt(off + 3);
  return (a | b | c | d) < 0 ? -1 : (a | (b << 8) | (c << 16)) + d * 0x1000000;
}

/** packet header at `off`: payload length and sequence id, or undefined when not captured */
function header(buf: StreamBuffer, off: number): { len: number; seq: number } | undefined {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  const c = buf.byteAt(off + 2);
  const s = buf.byteAt(off + 3);
  if ((a | b | c | s) < 0) return undefined;
  return { len: a | (b << 8) | (c << 16), seq: s };
}

/** length-encoded integer at `off`: value and size, or undefined (not captured / invalid) */
function lenenc(buf: StreamBuffer, off: number): { value: number; size: number } | undefined {
  const f = buf.byteAt(off);
  if (f < 0) return undefined;
  if (f < 0xfb) return { value: f, size: 1 };
  if (f === 0xfc) {
    const v = u16le(buf, off + 1);
    return v < 0 ? undefined : { value: v, size: 3 };
  }
  if (f === 0xfd) {
    const a = buf.byteAt(off + 1);
    const b = buf.byteAt(off + 2);
    const c = buf.byteAt(off + 3);
    return (a | b | c) < 0 ? undefined : { value: a | (b << 8) | (c << 16), size: 4 };
  }
  if (f === 0xfe) {
    const lo = u32le(buf, off + 1);
    const hi = u32le(buf, off + 5);
    return lo < 0 || hi < 0 ? undefined : { value: hi * 0x100000000 + lo, size: 9 };
  }
  return undefined;
}

/** text of `[from, to)`, cut at the captured run and MAX_QUERY; `cut` when bytes are missing */
function text(buf: StreamBuffer, from: number, to: number, stopAtNul = false): { value: string; cut: boolean } {
  const run = Math.min(to, buf.capturedRunEnd(from), from + MAX_QUERY);
  if (run <= from) return { value: '', cut: from < to };
  let stop = run;
  if (stopAtNul) {
    const nul = buf.indexOf(0, from, run);
    if (nul >= 0) stop = nul;
  }
  const b = buf.slice(from, stop);
  return { value: b === null ? '' : b.toString('utf8'), cut: stop === run && run < to && !(stopAtNul && stop < to) };
}

// ------------------------------------------------------------------ requests

function requestFrame(buf: StreamBuffer, end: number, kind: MysqlCommandKind, command: number, extra: Partial<MysqlRequestFrame> = {}): MysqlRequestFrame {
  return { kind, command, truncated: false, ...extra, startNs: buf.tsAt(0), endNs: buf.tsAt(end - 1) };
}

function parseLogin(buf: StreamBuffer, st: MysqlState, len: number, end: number): ParseResult<MysqlFrame> {
  const caps = u32le(buf, 4);
  st.loginExpected = false;
  if (caps >= 0) st.clientCaps = caps;
  if (caps >= 0 && (caps & CLIENT_SSL) !== 0 && len === 32) {
    // SSLRequest: TLS starts now, nothing more in clear text
    st.tls = true;
    buf.consume(end);
    return { state: 'eos' };
  }
  let database: string | undefined;
  if (caps >= 0 && (caps & CLIENT_CONNECT_WITH_DB) !== 0) {
    // caps(4) max packet(4) charset(1) filler(23) user\0 auth-response database\0
    let off = 4 + 32;
    const user = text(buf, off, end, true);
    off += Buffer.byteLength(user.value) + 1;
    let authLen = -1;
    let authSize = 0;
    if ((caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) !== 0) {
      const l = lenenc(buf, off);
      if (l !== undefined) {
        authLen = l.value;
        authSize = l.size;
      }
    } else if ((caps & CLIENT_SECURE_CONNECTION) !== 0) {
      authLen = buf.byteAt(off);
      authSize = 1;
    } else {
      const nul = buf.indexOf(0, off, end);
      if (nul >= 0) {
        authLen = nul - off;
        authSize = 1;
      }
    }
    if (!user.cut && authLen >= 0) {
      const dbOff = off + authSize + authLen;
      if (dbOff < end) {
        const db = text(buf, dbOff, end, true);
        if (!db.cut && db.value.length > 0) database = db.value;
      }
    }
  }
  pushExpect(st, { expect: 'auth' });
  const f = requestFrame(buf, end, 'login', 0, { database });
  buf.consume(end);
  return { state: 'success', frame: f };
}

function parseRequest(buf: StreamBuffer, st: MysqlState): ParseResult<MysqlFrame> {
  if (st.tls) return { state: 'eos' };
  if (buf.length < 4) return buf.byteAt(0) < 0 && buf.length > 0 ? skipGap(buf) : { state: 'needs-more-data' };
  const h = header(buf, 0);
  if (h === undefined) return skipGap(buf);
  const end = 4 + h.len;
  if (end > buf.length) {
    if (h.len > 2 * MAX_QUERY && buf.length > 5 + MAX_QUERY) buf.forget(5 + MAX_QUERY, buf.length);
    return { state: 'needs-more-data' };
  }
  if ((h.seq === 1 && st.loginExpected) || ((h.seq === 1 || h.seq === 2) && looksLikeLogin(buf, h.len))) return parseLogin(buf, st, h.len, end);
  if (h.seq !== 0 || h.len === 0) {
    // authentication data, LOAD DATA LOCAL contents, long data: part of an exchange under way
    buf.consume(end);
    return { state: 'ignored' };
  }
  const cmd = buf.byteAt(4);
  let frame: MysqlRequestFrame | undefined;
  let expect: Expectation | undefined;
  switch (cmd) {
    case COM_QUERY: {
      const t = text(buf, 5, end);
      frame = requestFrame(buf, end, 'query', cmd, { query: t.value, truncated: t.cut });
      expect = { expect: 'generic' };
      break;
    }
    case COM_STMT_PREPARE: {
      const t = text(buf, 5, end);
      frame = requestFrame(buf, end, 'prepare', cmd, { query: t.value, truncated: t.cut });
      expect = { expect: 'prepare', query: t.value };
      break;
    }
    case COM_STMT_EXECUTE: {
      const id = u32le(buf, 5);
      const query = id >= 0 ? st.statements.get(id) : undefined;
      if (query !== undefined) lruSet(st.statements, id, query, st.maxStatements);
      frame = requestFrame(buf, end, 'execute', cmd, { statementId: id >= 0 ? id : undefined, query });
      expect = { expect: 'generic' };
      break;
    }
    case COM_STMT_CLOSE: {
      const id = u32le(buf, 5);
      if (id >= 0) st.statements.delete(id);
      break; // no response
    }
    case COM_STMT_SEND_LONG_DATA:
    case COM_QUIT:
      break; // no response
    case COM_INIT_DB: {
      const t = text(buf, 5, end);
      frame = requestFrame(buf, end, 'init_db', cmd, { database: t.cut ? undefined : t.value });
      expect = { expect: 'simple' };
      break;
    }
    case COM_FIELD_LIST:
      frame = requestFrame(buf, end, 'other', cmd);
      expect = { expect: 'field_list' };
      break;
    case COM_STATISTICS:
      frame = requestFrame(buf, end, 'other', cmd);
      expect = { expect: 'statistics' };
      break;
    case COM_CHANGE_USER:
      frame = requestFrame(buf, end, 'other', cmd);
      expect = { expect: 'auth' };
      break;
    case COM_STMT_FETCH:
      frame = requestFrame(buf, end, 'other', cmd);
      expect = { expect: 'rows' };
      break;
    case COM_PING:
    case COM_STMT_RESET:
    case COM_SET_OPTION:
    case COM_RESET_CONNECTION:
    case 0x0a: // COM_PROCESS_INFO (deprecated) answers like a query
    case 0x0c: // COM_PROCESS_KILL
    case 0x0d: // COM_DEBUG
      frame = requestFrame(buf, end, 'other', cmd);
      expect = cmd === 0x0a ? { expect: 'generic' } : { expect: 'simple' };
      break;
    default:
      return { state: 'invalid' };
  }
  if (expect !== undefined) pushExpect(st, expect);
  buf.consume(end);
  return frame === undefined ? { state: 'ignored' } : { state: 'success', frame };
}

export const CLIENT_PROTOCOL_41 = 0x200;

/**
 * A HandshakeResponse41 without the greeting before it (the handshake continued over TLS: the
 * plaintext starts with it, sequence id 2): protocol 4.1 capabilities, 23 zero filler bytes, a
 * printable user name.
 */
function looksLikeLogin(buf: StreamBuffer, len: number): boolean {
  if (len < 33) return false;
  const caps = u32le(buf, 4);
  if (caps < 0 || (caps & CLIENT_PROTOCOL_41) === 0) return false;
  for (let i = 13; i < 36; i++) if (buf.byteAt(i) !== 0) return false;
  const c = buf.byteAt(36);
  return c >= 0x20 && c < 0x7f;
}

/** a header that could not be read: skip to the end of the gap */
function skipGap(buf: StreamBuffer): ParseResult<MysqlFrame> {
  const end = buf.gapEnd(buf.capturedRunEnd(0));
  buf.consume(end > 0 ? end : buf.length);
  return { state: 'ignored' };
}

// ------------------------------------------------------------------ responses

function parseError(buf: StreamBuffer, end: number): MysqlError {
  const code = u16le(buf, 5);
  let sqlState: string | undefined;
  let msgFrom = 7;
  if (buf.byteAt(7) === 0x23 /* # */) {
    const s = text(buf, 8, Math.min(13, end));
    if (!s.cut) sqlState = s.value;
    msgFrom = 13;
  }
  return { code: code < 0 ? 0 : code, sqlState, message: text(buf, msgFrom, end).value };
}

/** status flags of an OK packet (payload at 4, header byte 0x00 or 0xfe); -1 when unreadable */
function okStatus(buf: StreamBuffer, end: number): number {
  const a = lenenc(buf, 5);
  if (a === undefined) return -1;
  const b = lenenc(buf, 5 + a.size);
  if (b === undefined) return -1;
  const off = 5 + a.size + b.size;
  return off + 2 <= end ? u16le(buf, off) : -1;
}

function startDesync(buf: StreamBuffer, st: MysqlState): ParseResult<MysqlFrame> {
  st.desync = true;
  st.desyncNs = buf.tsAt(0);
  st.lastResponseNs = buf.tsAt(buf.length - 1);
  st.resp = undefined;
  buf.consume(buf.length);
  return { state: 'ignored' };
}

function parseGreeting(buf: StreamBuffer, st: MysqlState, end: number): void {
  // 0x0a, server version\0, connection id(4), auth data(8), filler(1), caps low(2), charset(1), status(2), caps high(2)
  const nul = buf.indexOf(0, 5, Math.min(end, buf.capturedRunEnd(5)));
  if (nul < 0) return;
  const lo = u16le(buf, nul + 1 + 4 + 8 + 1);
  const hi = u16le(buf, nul + 1 + 4 + 8 + 1 + 2 + 1 + 2);
  if (lo >= 0) st.serverCaps = lo + (hi >= 0 ? hi * 0x10000 : 0);
}

function done(buf: StreamBuffer, st: MysqlState, p: Progress, end: number, error?: MysqlError): ParseResult<MysqlFrame> {
  const f: MysqlResponseFrame = {
    kind: 'response',
    error,
    statementId: p.statementId,
    resultSets: p.resultSets,
    truncated: false,
    startNs: p.startNs,
    endNs: buf.tsAt(end - 1),
  };
  st.resp = undefined;
  st.expect.shift();
  st.lastResponseNs = f.endNs;
  buf.consume(end);
  return { state: 'success', frame: f };
}

function consumed(buf: StreamBuffer, st: MysqlState, end: number): ParseResult<MysqlFrame> {
  st.lastResponseNs = buf.tsAt(end - 1);
  buf.consume(end);
  return { state: 'ignored' };
}

function parseResponse(buf: StreamBuffer, st: MysqlState): ParseResult<MysqlFrame> {
  if (st.tls) return { state: 'eos' };
  if (st.desync) {
    st.lastResponseNs = buf.tsAt(buf.length - 1);
    buf.consume(buf.length);
    return { state: 'ignored' };
  }
  if (buf.byteAt(0) < 0) return startDesync(buf, st);
  if (buf.length < 4) return { state: 'needs-more-data' };
  const h = header(buf, 0);
  if (h === undefined) return startDesync(buf, st);
  const len = h.len;
  const end = 4 + len;
  if (end > buf.length) {
    if (len > 4096 && buf.length > 4 + 64) buf.forget(4 + 64, buf.length);
    return { state: 'needs-more-data' };
  }
  const first = len > 0 ? buf.byteAt(4) : -1;
  let p = st.resp;
  if (p === undefined) {
    if (first === 0x0a && h.seq === 0 && st.expect.length === 0) {
      parseGreeting(buf, st, end);
      st.loginExpected = true;
      return consumed(buf, st, end);
    }
    p = { startNs: buf.tsAt(0), stage: 'first', remaining: 0, nextGroup: 0, cont: false, resultSets: 0 };
    st.resp = p;
  }
  const want = st.expect.length > 0 ? st.expect[0] : undefined;
  const kind: Expect = want?.expect ?? 'generic';
  for (;;) {
    switch (p.stage) {
      case 'first': {
        if (kind === 'simple' || kind === 'statistics') return done(buf, st, p, end, first === 0xff ? parseError(buf, end) : undefined);
        if (first === 0xff) return done(buf, st, p, end, parseError(buf, end));
        if (kind === 'auth') {
          // OK ends it; auth switch (0xfe), more data (0x01) continue
          return first === 0x00 ? done(buf, st, p, end) : consumed(buf, st, end);
        }
        if (kind === 'field_list' || kind === 'rows') {
          p.stage = 'rows';
          continue;
        }
        if (first === 0x00) {
          if (kind === 'prepare') {
            const id = u32le(buf, 5);
            const ncols = u16le(buf, 9);
            const nparams = u16le(buf, 11);
            if (id >= 0) {
              p.statementId = id;
              if (want?.query !== undefined) lruSet(st.statements, id, want.query, st.maxStatements);
            }
            if (ncols <= 0 && nparams <= 0) return done(buf, st, p, end);
            p.stage = 'pdefs';
            p.remaining = nparams > 0 ? nparams : ncols;
            p.nextGroup = nparams > 0 && ncols > 0 ? ncols : 0;
            return consumed(buf, st, end);
          }
          const status = okStatus(buf, end);
          if (status >= 0 && (status & SERVER_MORE_RESULTS_EXISTS) !== 0) return consumed(buf, st, end);
          return done(buf, st, p, end);
        }
        if (first === 0xfe && len <= 5) {
          // a stray EOF (the last of a prepared statement's definitions when the handshake was not seen)
          if (p.resultSets === 0) st.resp = undefined;
          return consumed(buf, st, end);
        }
        if (first === 0xfb) return consumed(buf, st, end); // LOAD DATA LOCAL: the result follows the file
        const n = lenenc(buf, 4);
        if (n === undefined || n.value === 0 || len < n.size || len > n.size + 1) return startDesync(buf, st);
        p.resultSets++;
        // a trailing byte (MariaDB metadata cache, MySQL optional metadata) of 0: no column definitions follow
        const noDefs = len === n.size + 1 && buf.byteAt(4 + n.size) === 0;
        p.stage = noDefs ? 'afterdefs' : 'coldefs';
        p.remaining = n.value;
        return consumed(buf, st, end);
      }
      case 'coldefs':
        if (--p.remaining <= 0) p.stage = 'afterdefs';
        return consumed(buf, st, end);
      case 'afterdefs':
        p.stage = 'rows';
        if (first === 0xfe && len === 5 && deprecateEof(st) !== true) return consumed(buf, st, end); // EOF after the definitions
        continue;
      case 'rows': {
        if (p.cont) {
          p.cont = len === MAX_PAYLOAD;
          return consumed(buf, st, end);
        }
        if (first === 0xff) return done(buf, st, p, end, parseError(buf, end));
        if (first === 0xfe && len < MAX_PAYLOAD) {
          // EOF (5 bytes) or OK terminator: more results?
          const status = len === 5 ? u16le(buf, 7) : okStatus(buf, end);
          if (status >= 0 && (status & SERVER_MORE_RESULTS_EXISTS) !== 0) {
            p.stage = 'first';
            return consumed(buf, st, end);
          }
          return done(buf, st, p, end);
        }
        p.cont = len === MAX_PAYLOAD;
        return consumed(buf, st, end);
      }
      case 'pdefs': {
        if (first === 0xfe && len === 5 && p.remaining <= 0) return consumed(buf, st, end); // EOF between groups
        if (p.remaining <= 0) {
          // the definitions are over: this packet starts the next group or the next response
          p.remaining = p.nextGroup;
          p.nextGroup = 0;
          if (p.remaining <= 0) {
            st.resp = undefined;
            return { state: 'invalid' };
          }
        }
        p.remaining--;
        if (p.remaining > 0 || p.nextGroup > 0) return consumed(buf, st, end);
        // last definition: with EOF packets a final EOF follows; otherwise (or unknown) the response ends here
        if (deprecateEof(st) === false) {
          p.stage = 'rows';
          return consumed(buf, st, end);
        }
        return done(buf, st, p, end);
      }
    }
  }
}

/** ProtocolParser.parseFrame for MySQL / MariaDB. */
export function parseMysqlFrame(type: MessageType, buf: StreamBuffer, state: MysqlState): ParseResult<MysqlFrame> {
  return type === 'request' ? parseRequest(buf, state) : parseResponse(buf, state);
}
