/**
 * MQTT packets to messaging records, frames of both directions taken in time order.
 * Request = what the client sends, response = what the server sends.
 *
 * - A client PUBLISH is a `publish`: at QoS 0 done when sent; at QoS 1 done at the PUBACK with
 *   its packet id; at QoS 2 done at the PUBCOMP with its packet id (PUBREC, PUBREL between).
 * - A server PUBLISH is a `process` of a delivered message: at QoS 0 done when read; at QoS 1
 *   done when the client's PUBACK goes out; at QoS 2 when the client's PUBCOMP goes out.
 * - Pairing is by packet id, per direction (ids of both sides are independent), never by order.
 *   A retransmitted PUBLISH (DUP) with a pending id keeps the first one's start.
 * - An MQTT 5 reason code >= 0x80 on PUBACK / PUBREC / PUBCOMP fails the operation
 *   (`error.type` = the code as `0x87`, message = its name).
 * - An ack with no PUBLISH waiting is counted as an error frame. On close, waiting operations are
 *   flushed with the time of their own last byte.
 */
import type { StitchResult } from '../common/contract.ts';
import { MAX_PENDING } from './parse.ts';
import type { MqttState, PendingPublish } from './parse.ts';
import { MqttType } from './types.ts';
import type { MqttFrame, MqttRecord } from './types.ts';

/** MQTT 5 reason codes >= 0x80 (section 2.4) */
const REASONS: ReadonlyMap<number, string> = new Map([
  [0x80, 'Unspecified error'],
  [0x81, 'Malformed Packet'],
  [0x82, 'Protocol Error'],
  [0x83, 'Implementation specific error'],
  [0x87, 'Not authorized'],
  [0x90, 'Topic Name invalid'],
  [0x91, 'Packet Identifier in use'],
  [0x92, 'Packet Identifier not found'],
  [0x97, 'Quota exceeded'],
  [0x99, 'Payload format invalid'],
]);

export function reasonType(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

function record(f: MqttFrame, operation: 'publish' | 'process', state: MqttState, endNs: number, reason?: number): MqttRecord {
  const failed = reason !== undefined && reason >= 0x80;
  return {
    category: 'messaging',
    system: 'mqtt',
    operation,
    destination: f.topic,
    clientId: state.clientId,
    bodySize: f.payloadSize,
    traceparent: f.traceparent,
    errorType: failed ? reasonType(reason) : undefined,
    errorMessage: failed ? (REASONS.get(reason) ?? 'error') : undefined,
    startNs: f.startNs,
    endNs: endNs > f.startNs ? endNs : f.startNs,
  };
}

function byTime(a: MqttFrame[], b: MqttFrame[]): { f: MqttFrame; fromClient: boolean }[] {
  const out: { f: MqttFrame; fromClient: boolean }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].startNs <= b[j].startNs)) out.push({ f: a[i++], fromClient: true });
    else out.push({ f: b[j++], fromClient: false });
  }
  return out;
}

function hold(map: Map<number, PendingPublish>, f: MqttFrame, operation: 'publish' | 'process', state: MqttState, records: MqttRecord[]): void {
  const id = f.packetId as number;
  if (map.has(id)) {
    if (f.dup === true) return; // a retransmission of the one waiting
    const prev = map.get(id)!;
    records.push(record(prev.frame, operation, state, prev.frame.endNs));
    map.delete(id);
  } else if (map.size >= MAX_PENDING) {
    const [k, oldest] = map.entries().next().value as [number, PendingPublish];
    map.delete(k);
    records.push(record(oldest.frame, operation, state, oldest.frame.endNs));
  }
  map.set(id, { frame: f });
}

/** ProtocolParser.stitch for MQTT. */
export function stitchMqtt(requests: MqttFrame[], responses: MqttFrame[], state: MqttState, closing: boolean): StitchResult<MqttRecord> {
  const records: MqttRecord[] = [];
  let errorCount = 0;
  for (const { f, fromClient } of byTime(requests, responses)) {
    // the map of PUBLISHes this packet may answer: acks from the server answer the client's
    const mine = fromClient ? state.outgoing : state.incoming;
    const theirs = fromClient ? state.incoming : state.outgoing;
    const op = fromClient ? 'publish' : 'process';
    const answeredOp = fromClient ? 'process' : 'publish';
    switch (f.type) {
      case MqttType.CONNECT:
        state.clientId = f.clientId;
        break;
      case MqttType.PUBLISH:
        if (f.qos === 0 || f.packetId === undefined) records.push(record(f, op, state, f.endNs));
        else hold(mine, f, op, state, records);
        break;
      case MqttType.PUBACK:
      case MqttType.PUBREC:
      case MqttType.PUBCOMP: {
        const p = f.packetId === undefined ? undefined : theirs.get(f.packetId);
        if (p === undefined) {
          errorCount++;
          break;
        }
        const qos = p.frame.qos ?? 0;
        const reason = f.reason ?? 0;
        // QoS 1 ends at PUBACK; QoS 2 at PUBCOMP, or at a PUBREC that refuses it
        const done = f.type === MqttType.PUBACK ? qos === 1 : f.type === MqttType.PUBCOMP ? qos === 2 : qos === 2 && reason >= 0x80;
        if (f.type === MqttType.PUBACK && qos !== 1) {
          errorCount++;
          break;
        }
        if (done) {
          theirs.delete(f.packetId as number);
          records.push(record(p.frame, answeredOp, state, f.endNs, reason));
        }
        break;
      }
      default:
        break; // CONNACK, PUBREL, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK
    }
  }
  requests.length = 0;
  responses.length = 0;
  if (closing) {
    for (const p of state.outgoing.values()) records.push(record(p.frame, 'publish', state, p.frame.endNs));
    for (const p of state.incoming.values()) records.push(record(p.frame, 'process', state, p.frame.endNs));
    state.outgoing.clear();
    state.incoming.clear();
    state.aliases.request.clear();
    state.aliases.response.clear();
  }
  records.sort((a, b) => a.startNs - b.startNs);
  return { records, errorCount };
}
