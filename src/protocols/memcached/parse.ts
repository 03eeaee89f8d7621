// Over 400 lines: the text and binary protocols share one per-connection state machine and expectation queue.
/**
 * Memcached framing over a StreamBuffer: the text protocol and the binary protocol (a frame
 * starting with magic 0x80 / 0x81 is binary).
 *
 * Text requests are a command line, plus a data block for storage commands (`set k 0 60 5\r\n
 * hello\r\n`). How the answer is framed depends on the command, so each request queues what it
 * expects: retrievals (`get`, `gets`, `gat`, `gats`) answer `VALUE` items then `END`; `stats`
 * answers `STAT` lines then `END`; other commands one line; `noreply` commands nothing. Answers
 * are read item by item (values may be long; their data may lie in a gap, its length is known).
 *
 * Binary packets have a 24-byte header with the body length; answers echo the request's opaque;
 * quiet opcodes answer only on a miss or an error (GETQ on a hit). A STAT answer is a series of
 * packets ended by one with an empty key.
 *
 * A request line in a gap is skipped; an answer line in a gap puts answers out of step until
 * the next request (see stitch.ts).
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { MAX_KEYS } from './types.ts';
import type { McFrame, McRequestFrame, McResponseFrame } from './types.ts';

/** longest command / answer line read */
export const MAX_LINE = 2048;
const MAX_BODY = 1 << 30;
/** text answers awaited at most */
export const MAX_EXPECTED = 1024;

type Answer = 'retrieval' | 'stats' | 'line';

interface TextCommand {
  readonly op: string;
  readonly answer: Answer | 'none';
  /** index of the first key field (0: no key) */
  readonly key: number;
  /** all fields from `key` on are keys */
  readonly multi: boolean;
  /** storage: index of the <bytes> field */
  readonly bytes: number;
  /** field count without noreply (0: any) */
  readonly fields: number;
}

const cmd = (op: string, answer: TextCommand['answer'], key: number, multi: boolean, bytes: number, fields: number): TextCommand => ({ op, answer, key, multi, bytes, fields });

export const TEXT_COMMANDS: ReadonlyMap<string, TextCommand> = new Map([
  ['get', cmd('GET', 'retrieval', 1, true, 0, 0)],
  ['gets', cmd('GET', 'retrieval', 1, true, 0, 0)],
  ['gat', cmd('GAT', 'retrieval', 2, true, 0, 0)],
  ['gats', cmd('GAT', 'retrieval', 2, true, 0, 0)],
  ['set', cmd('SET', 'line', 1, false, 4, 5)],
  ['add', cmd('ADD', 'line', 1, false, 4, 5)],
  ['replace', cmd('REPLACE', 'line', 1, false, 4, 5)],
  ['append', cmd('APPEND', 'line', 1, false, 4, 5)],
  ['prepend', cmd('PREPEND', 'line', 1, false, 4, 5)],
  ['cas', cmd('CAS', 'line', 1, false, 4, 6)],
  ['delete', cmd('DELETE', 'line', 1, false, 0, 0)],
  ['incr', cmd('INCR', 'line', 1, false, 0, 3)],
  ['decr', cmd('DECR', 'line', 1, false, 0, 3)],
  ['touch', cmd('TOUCH', 'line', 1, false, 0, 3)],
  ['flush_all', cmd('FLUSH_ALL', 'line', 0, false, 0, 0)],
  ['stats', cmd('STATS', 'stats', 0, false, 0, 0)],
  ['version', cmd('VERSION', 'line', 0, false, 0, 1)],
  ['verbosity', cmd('VERBOSITY', 'line', 0, false, 0, 0)],
  ['quit', cmd('QUIT', 'none', 0, false, 0, 1)],
]);

/** binary opcode → command name and quietness */
export const BINARY_OPCODES: ReadonlyMap<number, { readonly op: string; readonly quiet: boolean }> = new Map(
  (
    [
      [0x00, 'GET', false],
      [0x01, 'SET', false],
      [0x02, 'ADD', false],
      [0x03, 'REPLACE', false],
      [0x04, 'DELETE', false],
      [0x05, 'INCR', false],
      [0x06, 'DECR', false],
      [0x07, 'QUIT', false],
      [0x08, 'FLUSH_ALL', false],
      [0x09, 'GET', true],
      [0x0a, 'NOOP', false],
      [0x0b, 'VERSION', false],
      [0x0c, 'GET', false],
      [0x0d, 'GET', true],
      [0x0e, 'APPEND', false],
      [0x0f, 'PREPEND', false],
      [0x10, 'STATS', false],
      [0x11, 'SET', true],
      [0x12, 'ADD', true],
      [0x13, 'REPLACE', true],
      [0x14, 'DELETE', true],
      [0x15, 'INCR', true],
      [0x16, 'DECR', true],
      [0x17, 'QUIT', true],
      [0x18, 'FLUSH_ALL', true],
      [0x19, 'APPEND', true],
      [0x1a, 'PREPEND', true],
      [0x1b, 'VERBOSITY', false],
      [0x1c, 'TOUCH', false],
      [0x1d, 'GAT', false],
      [0x1e, 'GAT', true],
      [0x20, 'SASL_LIST_MECHS', false],
      [0x21, 'SASL_AUTH', false],
      [0x22, 'SASL_STEP', false],
    ] as const
  ).map(([code, op, quiet]) => [code, { op, quiet }]),
);

/** binary statuses that are errors, as the text protocol's error kinds */
export function binaryErrorType(status: number): string | undefined {
  switch (status) {
    case 0x0000: // no error
    case 0x0001: // key not found
    case 0x0002: // key exists
    case 0x0005: // item not stored
      return undefined;
    case 0x0081: // unknown command
      return 'ERROR';
    case 0x0004: // invalid arguments
    case 0x0006: // incr/decr on a non-numeric value
      return 'CLIENT_ERROR';
    default: // value too large, out of memory, auth, not supported, internal, busy, temporary failure
      return 'SERVER_ERROR';
  }
}

interface Progress {
  startNs: number;
  answer: Answer;
  values: number;
}

export interface McState {
  /** answers awaited for text commands, in order */
  readonly expect: Answer[];
  resp?: Progress;
  desync: boolean;
  desyncNs: number;
  lastResponseNs: number;
}

export function newMcState(): McState {
  return { expect: [], desync: false, desyncNs: 0, lastResponseNs: 0 };
}

/** end offset (after CRLF or LF) of the line at 0, or -1 need more, -2 invalid, -3 gap */
function lineEnd(buf: StreamBuffer): number {
  const run = buf.capturedRunEnd(0);
  if (run === 0) return -3;
  const lim = Math.min(run, MAX_LINE);
  const nl = buf.indexOf(0x0a, 0, lim);
  if (nl >= 0) return nl + 1;
  if (lim === MAX_LINE) return -2;
  return run < buf.length ? -3 : -1;
}

function lineText(buf: StreamBuffer, end: number): string {
  const b = buf.slice(0, end);
  if (b === null) return '';
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0x0a || b[e - 1] === 0x0d)) e--;
  return b.toString('latin1', 0, e);
}

function isUint(s: string | undefined): boolean {
  return s !== undefined && /^\d{1,20}$/.test(s);
}

function isInt(s: string | undefined): boolean {
  return s !== undefined && /^-?\d{1,20}$/.test(s);
}

/** Validate a text command line's fields; returns the command or undefined. */
export function textCommand(fields: readonly string[]): { c: TextCommand; noreply: boolean } | undefined {
  const c = TEXT_COMMANDS.get(fields[0]);
  if (c === undefined) return undefined;
  const noreply = fields.length > 1 && fields[fields.length - 1] === 'noreply' && c.answer === 'line';
  const n = fields.length - (noreply ? 1 : 0);
  if (c.fields > 0 && n !== c.fields) return undefined;
  if (c.key > 0 && n <= c.key) return undefined;
  if (c.bytes > 0 && !(isInt(fields[2]) && isInt(fields[3]) && isUint(fields[4]))) return undefined;
  if ((c.op === 'INCR' || c.op === 'DECR') && !isUint(fields[2])) return undefined;
  if ((c.op === 'TOUCH' || c.op === 'GAT') && !isInt(fields[c.op === 'GAT' ? 1 : 2])) return undefined;
  return { c, noreply };
}

function skipGap(buf: StreamBuffer): ParseResult<McFrame> {
  const end = buf.gapEnd(buf.capturedRunEnd(0));
  buf.consume(end > 0 ? end : buf.length);
  return { state: 'ignored' };
}

function u16(buf: StreamBuffer, off: number): number {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  return (a | b) < 0 ? -1 : (a << 8) | b;
}

function u32(buf: StreamBuffer, off: number): number {
  const a = buf.byteAt(off);
  const b = buf.byteAt(off + 1);
  const c = buf.byteAt(off + 2);
  const d = buf.byteAt(off + 3);
  return (a | b | c | d) < 0 ? -1 : a * 0x1000000 + ((b << 16) | (c << 8) | d);
}

/** binary header fields, or undefined when not captured / implausible */
function binaryHeader(buf: StreamBuffer): { opcode: number; keyLen: number; extLen: number; statusOrVb: number; bodyLen: number; opaque: number } | undefined {
  const opcode = buf.byteAt(1);
  const keyLen = u16(buf, 2);
  const extLen = buf.byteAt(4);
  const statusOrVb = u16(buf, 6);
  const bodyLen = u32(buf, 8);
  const opaque = u32(buf, 12);
  if (opcode < 0 || keyLen < 0 || extLen < 0 || statusOrVb < 0 || bodyLen < 0 || opaque < 0) return undefined;
  if (keyLen + extLen > bodyLen || bodyLen > MAX_BODY) return undefined;
  return { opcode, keyLen, extLen, statusOrVb, bodyLen, opaque };
}

function parseBinaryRequest(buf: StreamBuffer): ParseResult<McFrame> {
  if (buf.length < 24) return { state: 'needs-more-data' };
  const h = binaryHeader(buf);
  if (h === undefined) return buf.isGap(1) || buf.isGap(23) ? skipGap(buf) : { state: 'invalid' };
  const o = BINARY_OPCODES.get(h.opcode);
  if (o === undefined) return { state: 'invalid' };
  const end = 24 + h.bodyLen;
  if (end > buf.length) {
    if (h.bodyLen > 4096 && buf.length > 24 + 512) buf.forget(24 + 512, buf.length);
    return { state: 'needs-more-data' };
  }
  const keyFrom = 24 + h.extLen;
  const key = h.keyLen > 0 ? buf.slice(keyFrom, Math.min(keyFrom + h.keyLen, buf.capturedRunEnd(keyFrom))) : null;
  const f: McRequestFrame = {
    binary: true,
    command: o.op,
    keys: key === null || key.length === 0 ? [] : [key.toString('latin1')],
    keyCount: h.keyLen > 0 ? 1 : 0,
    quiet: o.quiet,
    opaque: h.opaque,
    truncated: key !== null && key.length < h.keyLen,
    startNs: buf.tsAt(0),
    endNs: buf.tsAt(end - 1),
  };
  buf.consume(end);
  return { state: 'success', frame: f };
}

function parseTextRequest(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  const le = lineEnd(buf);
  if (le === -1) return { state: 'needs-more-data' };
  if (le === -2) return { state: 'invalid' };
  if (le === -3) return skipGap(buf);
  const line = lineText(buf, le);
  if (line.length === 0) {
    buf.consume(le);
    return { state: 'ignored' };
  }
  const fields = line.split(' ').filter((f) => f.length > 0);
  const tc = textCommand(fields);
  if (tc === undefined) return { state: 'invalid' };
  const { c, noreply } = tc;
  if (c.answer === 'none') {
    buf.consume(le); // quit: the connection ends, no operation
    return { state: 'ignored' };
  }
  let end = le;
  if (c.bytes > 0) {
    end = le + Number(fields[c.bytes]) + 2;
    if (end > buf.length) {
      const n = end - le;
      if (n > 4096 && buf.length > le + 64) buf.forget(le, buf.length);
      return { state: 'needs-more-data' };
    }
  }
  const keys: string[] = [];
  let keyCount = 0;
  if (c.key > 0) {
    const last = c.multi ? fields.length : c.key + 1;
    for (let i = c.key; i < last; i++) {
      keyCount++;
      if (keys.length < MAX_KEYS) keys.push(fields[i]);
    }
  }
  if (!noreply) {
    if (st.expect.length >= MAX_EXPECTED) st.expect.shift(); // answers never seen must not pile up
    st.expect.push(c.answer);
  }
  const f: McRequestFrame = {
    binary: false,
    command: c.op,
    keys,
    keyCount,
    quiet: noreply,
    opaque: 0,
    truncated: false,
    startNs: buf.tsAt(0),
    endNs: buf.tsAt(end - 1),
  };
  buf.consume(end);
  return { state: 'success', frame: f };
}

function parseRequest(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  const b0 = buf.byteAt(0);
  if (b0 < 0) return skipGap(buf);
  if (b0 === 0x80) return parseBinaryRequest(buf);
  if (b0 === 0x0d || b0 === 0x0a) {
    buf.consume(1);
    return { state: 'ignored' };
  }
  return parseTextRequest(buf, st);
}

// ------------------------------------------------------------------ responses

function startDesync(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  st.desync = true;
  st.desyncNs = buf.tsAt(0);
  st.lastResponseNs = buf.tsAt(buf.length - 1);
  st.resp = undefined;
  buf.consume(buf.length);
  return { state: 'ignored' };
}

function parseBinaryResponse(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  if (buf.length < 24) return { state: 'needs-more-data' };
  const h = binaryHeader(buf);
  if (h === undefined) return buf.isGap(1) || buf.isGap(23) ? startDesync(buf, st) : { state: 'invalid' };
  const end = 24 + h.bodyLen;
  if (end > buf.length) {
    if (h.bodyLen > 4096 && buf.length > 24 + 512) buf.forget(24 + 512, buf.length);
    return { state: 'needs-more-data' };
  }
  const startNs = st.resp?.startNs ?? buf.tsAt(0);
  st.lastResponseNs = buf.tsAt(end - 1);
  if (h.opcode === 0x10 && h.keyLen > 0 && h.statusOrVb === 0) {
    // one STAT of a series; the series ends with an empty key
    if (st.resp === undefined) st.resp = { startNs, answer: 'stats', values: 0 };
    buf.consume(end);
    return { state: 'ignored' };
  }
  st.resp = undefined;
  const errorType = binaryErrorType(h.statusOrVb);
  let errorMessage: string | undefined;
  if (errorType !== undefined) {
    const from = 24 + h.extLen + h.keyLen;
    const b = end > from ? buf.slice(from, Math.min(end, buf.capturedRunEnd(from), from + 256)) : null;
    errorMessage = b !== null && b.length > 0 ? b.toString('latin1') : undefined;
  }
  const f: McResponseFrame = {
    binary: true,
    errorType,
    errorMessage,
    status: h.statusOrVb,
    opaque: h.opaque,
    values: h.opcode === 0x00 || h.opcode === 0x09 || h.opcode === 0x0c || h.opcode === 0x0d ? (h.statusOrVb === 0 ? 1 : 0) : 0,
    truncated: false,
    startNs,
    endNs: buf.tsAt(end - 1),
  };
  buf.consume(end);
  return { state: 'success', frame: f };
}

const ERRORS = new Set(['ERROR', 'CLIENT_ERROR', 'SERVER_ERROR']);

function textDone(buf: StreamBuffer, st: McState, p: Progress, end: number, line?: string): ParseResult<McFrame> {
  const token = line === undefined ? '' : line.split(' ', 1)[0];
  const isError = ERRORS.has(token);
  const f: McResponseFrame = {
    binary: false,
    errorType: isError ? token : undefined,
    errorMessage: isError ? line : undefined,
    status: 0,
    opaque: 0,
    values: p.values,
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

function parseTextResponse(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  const le = lineEnd(buf);
  if (le === -1) return { state: 'needs-more-data' };
  if (le === -2) return { state: 'invalid' };
  if (le === -3) return startDesync(buf, st);
  const line = lineText(buf, le);
  const sp = line.indexOf(' ');
  const token = sp < 0 ? line : line.slice(0, sp);
  let p = st.resp;
  if (p === undefined) {
    const answer: Answer = st.expect.length > 0 ? st.expect[0] : token === 'VALUE' ? 'retrieval' : token === 'STAT' ? 'stats' : 'line';
    p = { startNs: buf.tsAt(0), answer, values: 0 };
    st.resp = p;
  }
  if (ERRORS.has(token) || p.answer === 'line') return textDone(buf, st, p, le, line);
  if (token === 'END') return textDone(buf, st, p, le);
  if (p.answer === 'retrieval' && token === 'VALUE') {
    // VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n
    const f = line.split(' ');
    if (f.length < 4 || !isUint(f[3])) return { state: 'invalid' };
    const end = le + Number(f[3]) + 2;
    if (end > buf.length) {
      if (end - le > 4096 && buf.length > le + 64) buf.forget(le, buf.length);
      return { state: 'needs-more-data' };
    }
    p.values++;
    st.lastResponseNs = buf.tsAt(end - 1);
    buf.consume(end);
    return { state: 'ignored' };
  }
  if (p.answer === 'stats' && token === 'STAT') {
    st.lastResponseNs = buf.tsAt(le - 1);
    buf.consume(le);
    return { state: 'ignored' };
  }
  // an unexpected line: it ends this answer
  return textDone(buf, st, p, le, line);
}

function parseResponse(buf: StreamBuffer, st: McState): ParseResult<McFrame> {
  if (st.desync) {
    st.lastResponseNs = buf.tsAt(buf.length - 1);
    buf.consume(buf.length);
    return { state: 'ignored' };
  }
  const b0 = buf.byteAt(0);
  if (b0 < 0) return startDesync(buf, st);
  if (b0 === 0x81) return parseBinaryResponse(buf, st);
  return parseTextResponse(buf, st);
}

/** ProtocolParser.parseFrame for Memcached. */
export function parseMcFrame(type: MessageType, buf: StreamBuffer, state: McState): ParseResult<McFrame> {
  return type === 'request' ? parseRequest(buf, state) : parseResponse(buf, state);
}
