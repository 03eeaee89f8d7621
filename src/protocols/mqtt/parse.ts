/**
 * MQTT packet parser. A packet is a fixed header (type and flags, remaining length as a
 * varint of at most 4 bytes) and `remaining length` more bytes. Only the fields used are read,
 * and only when captured: payloads may lie in gaps (their size is known from the header).
 *
 * - CONNECT sets the protocol level of the connection (MQTT 5 packets carry properties) and the
 *   client identifier. A level above MQTT_MAX_LEVEL stops the parser on both directions (`eos`
 *   with `unsupportedVersion`), rather than mis-reading packets whose layout it does not know.
 * - MQTT 5 properties are skipped by their length; PUBLISH properties are scanned for a topic
 *   alias (resolved per direction) and a `traceparent` user property, the scan stopping at the
 *   first property identifier it does not know.
 * - Fixed-header flags the specification fixes (PUBREL, SUBSCRIBE, UNSUBSCRIBE: 0b0010; others
 *   0) and a PUBLISH with QoS 3 are `invalid`.
 */
import type { MessageType, ParseResult } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { readVarint } from './detect.ts';
import { MQTT_MAX_LEVEL, MqttType } from './types.ts';
import type { MqttFrame } from './types.ts';

/** bounds of the per-connection maps */
export const MAX_PENDING = 1024;
export const MAX_ALIASES = 1024;
/** the largest remaining length the varint encodes (256 MiB) */
export const MAX_REMAINING = 268_435_455;

export interface PendingPublish {
  readonly frame: MqttFrame;
}

export interface MqttState {
  /** CONNECT protocol level; 4 until a CONNECT is seen */
  level: number;
  unsupported: string | undefined;
  unsupportedReported: boolean;
  clientId: string | undefined;
  /** topic aliases (MQTT 5), per direction */
  readonly aliases: { readonly request: Map<number, string>; readonly response: Map<number, string> };
  /** QoS 1/2 PUBLISH sent by the client, by packet id */
  readonly outgoing: Map<number, PendingPublish>;
  /** QoS 1/2 PUBLISH sent by the server, by packet id */
  readonly incoming: Map<number, PendingPublish>;
}

export function newMqttState(): MqttState {
  return {
    level: 4,
    unsupported: undefined,
    unsupportedReported: false,
    clientId: undefined,
    aliases: { request: new Map(), response: new Map() },
    outgoing: new Map(),
    incoming: new Map(),
  };
}

const NEEDS_MORE: ParseResult<MqttFrame> = Object.freeze({ state: 'needs-more-data' });
const INVALID: ParseResult<MqttFrame> = Object.freeze({ state: 'invalid' });
const IGNORED: ParseResult<MqttFrame> = Object.freeze({ state: 'ignored' });
const EOS: ParseResult<MqttFrame> = Object.freeze({ state: 'eos' });

/** packet types each side may send */
const FROM_CLIENT = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]);
const FROM_SERVER = new Set([2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]);

/** MQTT 5 property identifiers and the size of their value: a byte count, or 'v' varint, 's' string, 'b' binary, 'p' string pair */
const PROPS: ReadonlyMap<number, number | 'v' | 's' | 'b' | 'p'> = new Map<number, number | 'v' | 's' | 'b' | 'p'>([
  [0x01, 1], [0x02, 4], [0x03, 's'], [0x08, 's'], [0x09, 'b'], [0x0b, 'v'], [0x11, 4], [0x12, 's'], [0x13, 2], [0x15, 's'],
  [0x16, 'b'], [0x17, 1], [0x18, 4], [0x19, 1], [0x1a, 's'], [0x1c, 's'], [0x1f, 's'], [0x21, 2], [0x22, 2], [0x23, 2],
  [0x24, 1], [0x25, 1], [0x26, 'p'], [0x27, 4], [0x28, 1], [0x29, 1], [0x2a, 1],
]);

interface PublishProps {
  alias?: number;
  traceparent?: string;
}

/** scan a captured MQTT 5 property block for the topic alias and a traceparent user property */
export function scanProperties(p: Buffer): PublishProps {
  const out: PublishProps = {};
  let i = 0;
  const str = (at: number): { s: string; end: number } | undefined => {
    if (at + 2 > p.length) return undefined;
    const n = p.readUInt16BE(at);
    if (at + 2 + n > p.length) return undefined;
    return { s: p.toString('utf8', at + 2, at + 2 + n), end: at + 2 + n };
  };
  while (i < p.length) {
    const id = p[i++];
    const kind = PROPS.get(id);
    if (kind === undefined) return out; // unknown identifier: stop, never guess
    if (typeof kind === 'number') {
      if (i + kind > p.length) return out;
      if (id === 0x23) out.alias = p.readUInt16BE(i);
      i += kind;
    } else if (kind === 'v') {
      const v = readVarint({ byteAt: (k: number) => (k < p.length ? p[k] : -1) }, i, p.length);
      if (v === undefined) return out;
      i = v.end;
    } else if (kind === 's' || kind === 'b') {
      const s = str(i);
      if (s === undefined) return out;
      i = s.end;
    } else {
      const k = str(i);
      if (k === undefined) return out;
      const v = str(k.end);
      if (v === undefined) return out;
      if (k.s.toLowerCase() === 'traceparent') out.traceparent = v.s;
      i = v.end;
    }
  }
  return out;
}

function u16(buf: StreamBuffer, at: number): number {
  const hi = buf.byteAt(at);
  const lo = buf.byteAt(at + 1);
  return hi < 0 || lo < 0 ? -1 : (hi << 8) | lo;
}

/** a length-prefixed string at `at` (captured), or undefined */
function str(buf: StreamBuffer, at: number, end: number): { s: string; end: number } | undefined {
  const n = u16(buf, at);
  if (n < 0 || at + 2 + n > end) return undefined;
  const b = buf.slice(at + 2, at + 2 + n);
  return b === null ? undefined : { s: b.toString('utf8'), end: at + 2 + n };
}

/** ProtocolParser.parseFrame for MQTT. */
export function parseMqttFrame(type: MessageType, buf: StreamBuffer, state: MqttState): ParseResult<MqttFrame> {
  if (state.unsupported !== undefined) {
    if (state.unsupportedReported) return EOS;
    state.unsupportedReported = true;
    return { state: 'eos', unsupportedVersion: state.unsupported };
  }
  const len = buf.length;
  if (len < 2) return len === 1 && buf.isGap(0) ? INVALID : NEEDS_MORE;
  const b0 = buf.byteAt(0);
  if (b0 < 0) return INVALID;
  const t = b0 >> 4;
  const flags = b0 & 0x0f;
  if (!(type === 'request' ? FROM_CLIENT : FROM_SERVER).has(t)) return INVALID;
  if (t === MqttType.PUBREL || t === MqttType.SUBSCRIBE || t === MqttType.UNSUBSCRIBE ? flags !== 2 : t !== MqttType.PUBLISH && flags !== 0) return INVALID;
  if (t === MqttType.PUBLISH && (flags & 0x06) === 0x06) return INVALID;
  const v = readVarint(buf, 1, len);
  if (v === undefined) {
    // cut inside the varint (wait), or malformed / in a gap (invalid)
    for (let k = 1; k < len && k < 5; k++) {
      const c = buf.byteAt(k);
      if (c < 0) return INVALID;
      if ((c & 0x80) === 0) return INVALID;
    }
    return len >= 5 ? INVALID : NEEDS_MORE;
  }
  const rl = v.value;
  if (rl > MAX_REMAINING) return INVALID;
  const body = v.end;
  const end = body + rl;
  if (len < end) {
    if (t === MqttType.PUBLISH) {
      // keep the topic and properties (a bounded prefix); the payload only counts
      const keep = body + Math.min(rl, 1024);
      if (len > keep) buf.forget(keep, len);
    }
    return NEEDS_MORE;
  }
  const startNs = buf.tsAt(0);
  const endNs = buf.tsAt(end - 1);
  const v5 = state.level >= 5;
  let frame: MqttFrame | undefined;
  switch (t) {
    case MqttType.CONNECT: {
      const name = str(buf, body, end);
      if (name === undefined || (name.s !== 'MQTT' && name.s !== 'MQIsdp')) return INVALID;
      const level = buf.byteAt(name.end);
      if (level < 0) return INVALID;
      if (level > MQTT_MAX_LEVEL) {
        state.unsupported = `MQTT level ${level}`;
        state.unsupportedReported = true;
        buf.consume(end);
        return { state: 'eos', unsupportedVersion: state.unsupported };
      }
      if (level < 3) return INVALID;
      state.level = level;
      // flags (1), keep alive (2), [properties], client id
      let p = name.end + 4;
      if (level >= 5) {
        const pl = readVarint(buf, p, end);
        p = pl === undefined ? -1 : pl.end + pl.value;
      }
      const id = p >= 0 ? str(buf, p, end) : undefined;
      frame = { type: t, clientId: id?.s, startNs, endNs };
      break;
    }
    case MqttType.CONNACK:
      if (rl < 2) return INVALID;
      frame = { type: t, reason: Math.max(0, buf.byteAt(body + 1)), startNs, endNs };
      break;
    case MqttType.PUBLISH: {
      const qos = (flags >> 1) & 3;
      const topicLen = u16(buf, body);
      if (topicLen >= 0 && body + 2 + topicLen + (qos > 0 ? 2 : 0) > end) return INVALID;
      let topic: string | undefined;
      let packetId: number | undefined;
      let traceparent: string | undefined;
      let payloadStart = -1;
      if (topicLen >= 0) {
        const tb = buf.slice(body + 2, body + 2 + topicLen);
        topic = tb === null || topicLen === 0 ? undefined : tb.toString('utf8');
        let p = body + 2 + topicLen;
        if (qos > 0) {
          const id = u16(buf, p);
          packetId = id >= 0 ? id : undefined;
          p += 2;
        }
        payloadStart = p;
        if (v5) {
          const pl = readVarint(buf, p, end);
          if (pl === undefined || pl.end + pl.value > end) {
            payloadStart = -1;
          } else {
            payloadStart = pl.end + pl.value;
            const block = buf.slice(pl.end, pl.end + pl.value);
            if (block !== null) {
              const props = scanProperties(block);
              traceparent = props.traceparent;
              if (props.alias !== undefined) {
                const aliases = state.aliases[type];
                if (topic !== undefined) {
                  if (aliases.size < MAX_ALIASES || aliases.has(props.alias)) aliases.set(props.alias, topic);
                } else topic = aliases.get(props.alias);
              }
            }
          }
        }
      }
      frame = {
        type: t,
        qos,
        dup: (flags & 0x08) !== 0,
        topic,
        packetId,
        traceparent,
        payloadSize: payloadStart >= 0 ? end - payloadStart : undefined,
        startNs,
        endNs,
      };
      break;
    }
    case MqttType.PUBACK:
    case MqttType.PUBREC:
    case MqttType.PUBREL:
    case MqttType.PUBCOMP: {
      if (rl < 2 || (!v5 && rl !== 2)) return INVALID;
      const id = u16(buf, body);
      const reason = rl > 2 ? buf.byteAt(body + 2) : 0;
      frame = { type: t, packetId: id >= 0 ? id : undefined, reason: reason < 0 ? 0 : reason, startNs, endNs };
      break;
    }
    case MqttType.SUBSCRIBE:
    case MqttType.UNSUBSCRIBE:
    case MqttType.SUBACK:
    case MqttType.UNSUBACK: {
      if (rl < 2) return INVALID;
      const id = u16(buf, body);
      frame = { type: t, packetId: id >= 0 ? id : undefined, startNs, endNs };
      break;
    }
    case MqttType.PINGREQ:
    case MqttType.PINGRESP:
      if (rl !== 0) return INVALID;
      buf.consume(end);
      return IGNORED;
    default:
      // DISCONNECT, AUTH
      buf.consume(end);
      return IGNORED;
  }
  buf.consume(end);
  return { state: 'success', frame };
}
