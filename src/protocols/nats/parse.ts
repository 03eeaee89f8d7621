/**
 * NATS frame parser: one control line, plus its payload for PUB/HPUB/MSG/HMSG.
 *
 * - Control lines are at most MAX_LINE bytes and must be captured; a line running into a gap
 *   or past MAX_LINE is `invalid` (the session resynchronises on the next line).
 * - Payloads may lie in gaps (only their size is used); HPUB/HMSG headers are read for
 *   `traceparent` when captured.
 * - `CONNECT` with a `protocol` newer than NATS_MAX_PROTO, or `INFO` with such a `proto`,
 *   stops the parser (`eos` with `unsupportedVersion`), on both directions.
 * - PING/PONG are consumed as `ignored`.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { NATS_MAX_PROTO } from './types.ts';
import type { NatsFrame, NatsOp } from './types.ts';

/** longest control line read (INFO/CONNECT carry JSON) */
export const MAX_LINE = 16 * 1024;
/** longest payload a control line may announce (NATS' default max_payload is 1 MiB; servers allow up to 64 MiB) */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

/** Per-connection state shared by parse and stitch. */
export interface NatsState {
  /** the peer speaks an unknown protocol version: both directions stop */
  unsupported: string | undefined;
  /** was `unsupported` already reported by one direction */
  unsupportedReported: boolean;
  /** CONNECT verbose: every client op is answered with +OK / -ERR */
  verbose: boolean;
  clientName: string | undefined;
  /** sid → subscription (bounded) */
  readonly subs: Map<string, { subject: string; queue?: string }>;
  /** client ops awaiting +OK/-ERR in verbose mode: the publish drafts, or null for other ops */
  readonly acks: (Pending | null)[];
  /** deliveries with a reply subject, waiting for the client to publish the reply (reply subject → draft) */
  readonly replies: Map<string, Pending>;
}

export interface Pending {
  readonly frame: NatsFrame;
  readonly operation: 'publish' | 'process';
}

export function newNatsState(): NatsState {
  return { unsupported: undefined, unsupportedReported: false, verbose: false, clientName: undefined, subs: new Map(), acks: [], replies: new Map() };
}

const NEEDS_MORE: ParseResult<NatsFrame> = Object.freeze({ state: 'needs-more-data' });
const INVALID: ParseResult<NatsFrame> = Object.freeze({ state: 'invalid' });
const IGNORED: ParseResult<NatsFrame> = Object.freeze({ state: 'ignored' });
const EOS: ParseResult<NatsFrame> = Object.freeze({ state: 'eos' });

const CLIENT_OPS: ReadonlySet<string> = new Set(['CONNECT', 'PUB', 'HPUB', 'SUB', 'UNSUB', 'PING', 'PONG']);
const SERVER_OPS: ReadonlySet<string> = new Set(['INFO', 'MSG', 'HMSG', '+OK', '-ERR', 'PING', 'PONG']);

const SIZE = /^\d{1,9}$/;

function size(s: string | undefined): number {
  if (s === undefined || !SIZE.test(s)) return -1;
  const n = Number(s);
  return n <= MAX_PAYLOAD ? n : -1;
}

function parseJson(json: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `traceparent` value in a NATS header block (`NATS/1.0\r\nKey: value\r\n...\r\n\r\n`) */
export function headerTraceparent(block: Buffer): string | undefined {
  const text = block.toString('latin1');
  if (!text.startsWith('NATS/')) return undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'traceparent') return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** ProtocolParser.parseFrame for NATS. */
export function parseNatsFrame(type: MessageType, buf: StreamBuffer, state: NatsState): ParseResult<NatsFrame> {
  if (state.unsupported !== undefined) {
    if (state.unsupportedReported) return EOS;
    state.unsupportedReported = true;
    return { state: 'eos', unsupportedVersion: state.unsupported };
  }
  const len = buf.length;
  if (len === 0) return NEEDS_MORE;
  if (buf.isGap(0)) return INVALID;
  const limit = len < MAX_LINE ? len : MAX_LINE;
  const cr = buf.indexOf(0x0a, 0, limit);
  if (cr < 0) {
    // no line end yet: wait unless the line already ran into a gap or past the limit
    if (len >= MAX_LINE || buf.capturedRunEnd(0) < len) return INVALID;
    // the verb so far must be a known one
    const head = buf.slice(0, Math.min(len, 8));
    if (head !== null && !plausibleVerb(head.toString('latin1').toUpperCase(), type)) return INVALID;
    return NEEDS_MORE;
  }
  if (cr < 1 || buf.byteAt(cr - 1) !== 0x0d) return INVALID;
  const lineBuf = buf.slice(0, cr - 1);
  if (lineBuf === null) return INVALID;
  const line = lineBuf.toString('latin1');
  const sp = line.search(/[ \t]/);
  const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
  if (!(type === 'request' ? CLIENT_OPS : SERVER_OPS).has(verb)) return INVALID;
  const lineEnd = cr + 1;
  const startNs = buf.tsAt(0);

  switch (verb) {
    case 'PING':
    case 'PONG':
      if (sp >= 0 && line.slice(sp).trim().length > 0) return INVALID;
      buf.consume(lineEnd);
      return IGNORED;
    case '+OK':
    case '-ERR': {
      const frame: NatsFrame = {
        op: verb === '+OK' ? 'OK' : 'ERR',
        error: verb === '-ERR' ? line.slice(4).trim().replace(/^'(.*)'$/, '$1') : undefined,
        startNs,
        endNs: buf.tsAt(lineEnd - 1),
      };
      buf.consume(lineEnd);
      return { state: 'success', frame };
    }
    case 'INFO':
    case 'CONNECT': {
      const obj = parseJson(line.slice(verb.length).trim());
      if (obj === undefined) return INVALID;
      const v = verb === 'INFO' ? obj.proto : obj.protocol;
      if (typeof v === 'number' && v > NATS_MAX_PROTO) {
        state.unsupported = `${verb === 'INFO' ? 'proto' : 'protocol'} ${v}`;
        state.unsupportedReported = true;
        buf.consume(lineEnd);
        return { state: 'eos', unsupportedVersion: state.unsupported };
      }
      const frame: NatsFrame = {
        op: verb as NatsOp,
        verbose: obj.verbose === true,
        name: typeof obj.name === 'string' ? obj.name : undefined,
        startNs,
        endNs: buf.tsAt(lineEnd - 1),
      };
      buf.consume(lineEnd);
      return { state: 'success', frame };
    }
    default:
      break;
  }

  const f = line.split(/[ \t]+/).filter((x) => x.length > 0);
  let subject: string | undefined;
  let reply: string | undefined;
  let sid: string | undefined;
  let queue: string | undefined;
  let hdr = 0;
  let total = -1;
  switch (verb) {
    case 'SUB':
      if (f.length !== 3 && f.length !== 4) return INVALID;
      subject = f[1];
      queue = f.length === 4 ? f[2] : undefined;
      sid = f[f.length - 1];
      buf.consume(lineEnd); // a control line lies in one segment in practice: its start time is its time
      return { state: 'success', frame: { op: 'SUB', subject, queue, sid, startNs, endNs: startNs } };
    case 'UNSUB':
      if (f.length !== 2 && f.length !== 3) return INVALID;
      buf.consume(lineEnd);
      return { state: 'success', frame: { op: 'UNSUB', sid: f[1], startNs, endNs: startNs } };
    case 'PUB':
      if (f.length !== 3 && f.length !== 4) return INVALID;
      subject = f[1];
      reply = f.length === 4 ? f[2] : undefined;
      total = size(f[f.length - 1]);
      break;
    case 'HPUB':
      if (f.length !== 4 && f.length !== 5) return INVALID;
      subject = f[1];
      reply = f.length === 5 ? f[2] : undefined;
      hdr = size(f[f.length - 2]);
      total = size(f[f.length - 1]);
      break;
    case 'MSG':
      if (f.length !== 4 && f.length !== 5) return INVALID;
      subject = f[1];
      sid = f[2];
      reply = f.length === 5 ? f[3] : undefined;
      total = size(f[f.length - 1]);
      break;
    case 'HMSG':
      if (f.length !== 5 && f.length !== 6) return INVALID;
      subject = f[1];
      sid = f[2];
      reply = f.length === 6 ? f[3] : undefined;
      hdr = size(f[f.length - 2]);
      total = size(f[f.length - 1]);
      break;
    default:
      return INVALID;
  }
  if (total < 0 || hdr < 0 || hdr > total) return INVALID;
  const end = lineEnd + total + 2;
  if (len < end) {
    // release payload bytes already buffered past the headers: only the size matters
    const keep = lineEnd + hdr;
    if (len > keep) buf.forget(keep, len);
    return NEEDS_MORE;
  }
  // the payload must end with CRLF (unknown when it lies in a gap)
  const c1 = buf.byteAt(end - 2);
  const c2 = buf.byteAt(end - 1);
  if ((c1 >= 0 && c1 !== 0x0d) || (c2 >= 0 && c2 !== 0x0a)) return INVALID;
  let traceparent: string | undefined;
  if (hdr > 0) {
    const block = buf.slice(lineEnd, lineEnd + hdr);
    if (block !== null) traceparent = headerTraceparent(block);
  }
  const frame: NatsFrame = {
    op: verb as NatsOp,
    subject,
    reply,
    sid,
    payloadSize: total - hdr,
    headerSize: hdr,
    traceparent,
    startNs,
    endNs: buf.tsAt(end - 1),
  };
  buf.consume(end);
  return { state: 'success', frame };
}

const VERBS_REQ = ['CONNECT', 'PUB', 'HPUB', 'SUB', 'UNSUB', 'PING', 'PONG'];
const VERBS_RESP = ['INFO', 'MSG', 'HMSG', '+OK', '-ERR', 'PING', 'PONG'];

/** could `head` (upper case, no line end yet) begin a control line of this direction? */
function plausibleVerb(head: string, type: MessageType): boolean {
  const verbs = type === 'request' ? VERBS_REQ : VERBS_RESP;
  const sp = head.search(/[ \t\r]/);
  const word = sp < 0 ? head : head.slice(0, sp);
  return verbs.some((v) => (sp < 0 ? v.startsWith(word) : v === word));
}
