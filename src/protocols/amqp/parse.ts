/**
 * AMQP 0-9-1 frame parser. A frame is `type(1) channel(2) size(4) payload(size) 0xCE`; the
 * client starts with the protocol header `AMQP 0 0 9 1`. Method frames are read for the
 * fields of the methods used (types.ts `M`); content header frames for the body size,
 * `message-id` and a `traceparent` in the headers table; body frames only for their size (their
 * payload may lie in gaps). Heartbeats are `ignored`.
 *
 * Versions: a protocol header of another version (AMQP 0-9, 0-8, 1.0, its SASL layer) or a
 * connection.start announcing other than 0-9 stops the parser on both directions (`eos` with
 * `unsupportedVersion`) rather than reading frames whose layout it does not know.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, M } from './types.ts';
import type { AmqpFrame } from './types.ts';

/** largest frame accepted (RabbitMQ's frame_max ceiling is 128 KiB by default, at most 2 GiB) */
export const MAX_FRAME = 64 * 1024 * 1024;
/** bytes of a content header / method payload read at most */
const MAX_READ = 4096;

/** Per-connection state shared by parse and stitch. */
export interface AmqpState {
  unsupported: string | undefined;
  unsupportedReported: boolean;
  readonly channels: Map<number, ChannelState>;
}

export interface Draft {
  readonly startNs: number;
  endNs: number;
  readonly exchange?: string;
  readonly routingKey?: string;
  readonly deliveryTag?: number;
  /** consumer tag or queue (get) it was delivered to */
  readonly queue?: string;
  bodySize?: number;
  remaining: number;
  messageId?: string;
  traceparent?: string;
  /** what completes it: publish, deliver (consume), get-ok, return */
  readonly kind: 'publish' | 'deliver' | 'get' | 'return';
  noAck?: boolean;
}

export interface ChannelState {
  confirm: boolean;
  publishSeq: number;
  /** content being assembled, per direction */
  sending: Draft | undefined;
  receiving: Draft | undefined;
  /** confirm mode: publishes waiting for the broker's ack/nack, by sequence number */
  readonly unconfirmed: Map<number, Draft>;
  /** deliveries waiting for the client's ack/nack/reject, by delivery tag */
  readonly unacked: Map<number, Draft>;
  /** consumer tag → queue, no-ack */
  readonly consumers: Map<string, { queue: string; noAck: boolean }>;
  /** basic.consume sent, consume-ok not yet seen */
  readonly consuming: { queue: string; tag: string; noAck: boolean }[];
  /** basic.get sent, get-ok/get-empty not yet seen */
  readonly getting: { queue: string; noAck: boolean; startNs: number }[];
  /** the last queue declared on the channel (an empty queue name means it) */
  lastQueue: string;
}

export function newAmqpState(): AmqpState {
  return { unsupported: undefined, unsupportedReported: false, channels: new Map() };
}

const NEEDS_MORE: ParseResult<AmqpFrame> = Object.freeze({ state: 'needs-more-data' });
const INVALID: ParseResult<AmqpFrame> = Object.freeze({ state: 'invalid' });
const IGNORED: ParseResult<AmqpFrame> = Object.freeze({ state: 'ignored' });
const EOS: ParseResult<AmqpFrame> = Object.freeze({ state: 'eos' });

/** A bounds-checked reader of AMQP field types over a captured payload; `ok` turns false past the end. */
export class FieldReader {
  ok = true;
  private _i: number;
  private _bits = 0;
  private _bit = 8;
  private readonly _b: Buffer;
  constructor(b: Buffer, start = 0) {
    this._b = b;
    this._i = start;
  }
  private _need(n: number): boolean {
    this._bit = 8;
    if (!this.ok || this._i + n > this._b.length) {
      this.ok = false;
      return false;
    }
    return true;
  }
  octet(): number {
    if (!this._need(1)) return 0;
    return this._b[this._i++];
  }
  short(): number {
    if (!this._need(2)) return 0;
    const v = this._b.readUInt16BE(this._i);
    this._i += 2;
    return v;
  }
  long(): number {
    if (!this._need(4)) return 0;
    const v = this._b.readUInt32BE(this._i);
    this._i += 4;
    return v;
  }
  longlong(): number {
    if (!this._need(8)) return 0;
    const v = Number(this._b.readBigUInt64BE(this._i));
    this._i += 8;
    return v;
  }
  shortstr(): string {
    const n = this.octet();
    if (!this._need(n)) return '';
    const s = this._b.toString('utf8', this._i, this._i + n);
    this._i += n;
    return s;
  }
  skip(n: number): void {
    if (this._need(n)) this._i += n;
  }
  longstr(): string {
    const n = this.long();
    if (!this._need(n)) return '';
    const s = this._b.toString('utf8', this._i, this._i + n);
    this._i += n;
    return s;
  }
  /** consecutive bit fields share octets */
  bit(): boolean {
    if (this._bit >= 8) {
      if (!this.ok || this._i >= this._b.length) {
        this.ok = false;
        return false;
      }
      this._bits = this._b[this._i++];
      this._bit = 0;
    }
    return ((this._bits >> this._bit++) & 1) === 1;
  }
  /** a field table: returns the value of `key` when it is a string, skipping the rest; stops (ok=false) at an unknown type */
  table(key?: string): string | undefined {
    const n = this.long();
    if (!this._need(n)) return undefined;
    const end = this._i + n;
    let found: string | undefined;
    while (this.ok && this._i < end) {
      const name = this.shortstr();
      const v = this._value();
      if (key !== undefined && name.toLowerCase() === key && typeof v === 'string') found = v;
    }
    this._i = end;
    this._bit = 8;
    return found;
  }
  /** one field value (RabbitMQ's field types); strings returned, others skipped */
  private _value(): string | undefined {
    const t = this.octet();
    switch (String.fromCharCode(t)) {
      case 't': case 'b': case 'B':
        this.skip(1); return undefined;
      case 's': case 'u':
        this.skip(2); return undefined;
      case 'I': case 'i': case 'f':
        this.skip(4); return undefined;
      case 'l': case 'L': case 'd': case 'T':
        this.skip(8); return undefined;
      case 'D':
        this.skip(5); return undefined;
      case 'S': case 'x':
        return this.longstr();
      case 'A': {
        const n = this.long();
        this.skip(n);
        return undefined;
      }
      case 'F': {
        const n = this.long();
        this.skip(n);
        return undefined;
      }
      case 'V':
        return undefined;
      default:
        this.ok = false;
        return undefined;
    }
  }
}

function methodFields(id: number, r: FieldReader): Partial<AmqpFrame> {
  switch (id) {
    case M.CONNECTION_START:
      return {};
    case M.CONNECTION_CLOSE:
    case M.CHANNEL_CLOSE:
      return { replyCode: r.short(), replyText: r.shortstr() };
    case M.EXCHANGE_DECLARE:
      r.short();
      return { exchange: r.shortstr() };
    case M.QUEUE_DECLARE:
      r.short();
      return { queue: r.shortstr() };
    case M.QUEUE_DECLARE_OK:
      return { queue: r.shortstr() };
    case M.BASIC_CONSUME: {
      r.short();
      const queue = r.shortstr();
      const consumerTag = r.shortstr();
      r.bit(); // no-local
      const noAck = r.bit();
      return { queue, consumerTag, noAck };
    }
    case M.BASIC_CONSUME_OK:
      return { consumerTag: r.shortstr() };
    case M.BASIC_PUBLISH:
      r.short();
      return { exchange: r.shortstr(), routingKey: r.shortstr() };
    case M.BASIC_RETURN:
      return { replyCode: r.short(), replyText: r.shortstr(), exchange: r.shortstr(), routingKey: r.shortstr() };
    case M.BASIC_DELIVER: {
      const consumerTag = r.shortstr();
      const deliveryTag = r.longlong();
      r.bit(); // redelivered
      return { consumerTag, deliveryTag, exchange: r.shortstr(), routingKey: r.shortstr() };
    }
    case M.BASIC_GET: {
      r.short();
      const queue = r.shortstr();
      return { queue, noAck: r.bit() };
    }
    case M.BASIC_GET_OK: {
      const deliveryTag = r.longlong();
      r.bit();
      return { deliveryTag, exchange: r.shortstr(), routingKey: r.shortstr() };
    }
    case M.BASIC_ACK:
    case M.BASIC_NACK:
      return { deliveryTag: r.longlong(), multiple: r.bit() };
    case M.BASIC_REJECT:
      return { deliveryTag: r.longlong() };
    default:
      return {};
  }
}

/** the fields of a content header frame payload */
function headerFields(r: FieldReader): Partial<AmqpFrame> {
  r.short(); // class
  r.short(); // weight
  const bodySize = r.longlong();
  if (!r.ok) return {};
  // property flags: 15 bits per word, bit 0 = another word follows
  const flags: number[] = [];
  for (let k = 0; k < 4; k++) {
    const w = r.short();
    flags.push(w);
    if ((w & 1) === 0 || !r.ok) break;
  }
  const has = (bit: number): boolean => (flags[0] & (1 << bit)) !== 0;
  let traceparent: string | undefined;
  let messageId: string | undefined;
  if (has(15)) r.shortstr(); // content-type
  if (has(14)) r.shortstr(); // content-encoding
  if (has(13)) traceparent = r.table('traceparent'); // headers
  if (has(12)) r.octet(); // delivery-mode
  if (has(11)) r.octet(); // priority
  if (has(10)) r.shortstr(); // correlation-id
  if (has(9)) r.shortstr(); // reply-to
  if (has(8)) r.shortstr(); // expiration
  if (has(7)) {
    const id = r.shortstr(); // message-id
    if (r.ok) messageId = id;
  }
  return { bodySize, traceparent, messageId };
}

/** ProtocolParser.parseFrame for AMQP 0-9-1. */
export function parseAmqpFrame(type: MessageType, buf: StreamBuffer, state: AmqpState): ParseResult<AmqpFrame> {
  if (state.unsupported !== undefined) {
    if (state.unsupportedReported) return EOS;
    state.unsupportedReported = true;
    return { state: 'eos', unsupportedVersion: state.unsupported };
  }
  const len = buf.length;
  if (len === 0) return NEEDS_MORE;
  const t = buf.byteAt(0);
  if (t < 0) return INVALID;
  if (t === 0x41) {
    // `AMQP` protocol header: the client's, or the server's answer to a version it refuses
    if (len < 8) {
      const head = buf.slice(0, len);
      return head !== null && Buffer.from('AMQP').subarray(0, Math.min(4, len)).equals(head.subarray(0, Math.min(4, len))) ? NEEDS_MORE : INVALID;
    }
    const h = buf.slice(0, 8);
    if (h === null || h.toString('latin1', 0, 4) !== 'AMQP') return INVALID;
    buf.consume(8);
    if (type === 'response') return IGNORED;
    if (h[4] === 0 && h[5] === 0 && h[6] === 9 && h[7] === 1) return IGNORED;
    state.unsupported = h[4] === 0 && h[5] === 1 ? `AMQP ${h[5]}.${h[6]}.${h[7]}` : h[4] === 3 ? `AMQP ${h[5]}.${h[6]}.${h[7]} (SASL)` : `AMQP ${h[6]}-${h[7]} (${h[4]}.${h[5]}.${h[6]}.${h[7]})`;
    state.unsupportedReported = true;
    return { state: 'eos', unsupportedVersion: state.unsupported };
  }
  if (t !== FRAME_METHOD && t !== FRAME_HEADER && t !== FRAME_BODY && t !== FRAME_HEARTBEAT) return INVALID;
  if (len < 7) {
    for (let k = 1; k < len; k++) if (buf.byteAt(k) < 0) return INVALID;
    return NEEDS_MORE;
  }
  const hdr = buf.slice(0, 7);
  if (hdr === null) return INVALID;
  const channel = hdr.readUInt16BE(1);
  const size = hdr.readUInt32BE(3);
  if (size > MAX_FRAME) return INVALID;
  if (t === FRAME_HEARTBEAT && (size !== 0 || channel !== 0)) return INVALID;
  const end = 7 + size + 1;
  if (len < end) {
    if (t === FRAME_BODY && len > 7) buf.forget(7, len); // only the size of a body counts
    return NEEDS_MORE;
  }
  const fe = buf.byteAt(end - 1);
  if (fe >= 0 && fe !== FRAME_END) return INVALID;
  const startNs = buf.tsAt(0);
  const endNs = buf.tsAt(end - 1);
  if (t === FRAME_HEARTBEAT) {
    buf.consume(end);
    return IGNORED;
  }
  if (t === FRAME_BODY) {
    buf.consume(end);
    return { state: 'success', frame: { type: t, channel, size, startNs, endNs } };
  }
  // method and header frames: read the captured part of the payload
  const avail = Math.min(buf.capturedRunEnd(7), 7 + size, 7 + MAX_READ);
  const payload = avail > 7 ? buf.slice(7, avail) : null;
  if (payload === null || payload.length < 4) {
    if (t === FRAME_METHOD) return INVALID; // a method frame must be readable
    buf.consume(end);
    return { state: 'success', frame: { type: t, channel, startNs, endNs } };
  }
  let frame: AmqpFrame;
  if (t === FRAME_METHOD) {
    const method = payload.readUInt32BE(0);
    const r = new FieldReader(payload, 4);
    if (method === M.CONNECTION_START) {
      const major = r.octet();
      const minor = r.octet();
      if (r.ok && !(major === 0 && minor === 9)) {
        state.unsupported = `AMQP ${major}-${minor} (connection.start)`;
        state.unsupportedReported = true;
        buf.consume(end);
        return { state: 'eos', unsupportedVersion: state.unsupported };
      }
    }
    const fields = methodFields(method, r);
    frame = { type: t, channel, method, ...fields, startNs, endNs };
  } else {
    frame = { type: t, channel, ...headerFields(new FieldReader(payload)), startNs, endNs };
  }
  buf.consume(end);
  return { state: 'success', frame };
}
