/**
 * MQTT detection: a client's CONNECT packet (`0x10`, remaining length, protocol name `MQTT`
 * with level 4 or 5, or `MQIsdp` with level 3; any later level is accepted too, so that the
 * parser can report it). Other packets are too short and binary to claim a connection.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';

/** offset after a remaining-length varint starting at `i`, and its value; undefined if malformed or cut */
export function readVarint(b: { byteAt(i: number): number }, i: number, limit: number): { value: number; end: number } | undefined {
  let value = 0;
  let mult = 1;
  for (let k = 0; k < 4; k++) {
    if (i + k >= limit) return undefined;
    const c = b.byteAt(i + k);
    if (c < 0) return undefined;
    value += (c & 0x7f) * mult;
    if ((c & 0x80) === 0) return { value, end: i + k + 1 };
    mult *= 128;
  }
  return undefined;
}

const bufAt = (b: Buffer) => ({ byteAt: (i: number) => (i < b.length ? b[i] : -1) });

export function isMqttConnect(b: Buffer): boolean {
  if (b.length < 10 || b[0] !== 0x10) return false;
  const v = readVarint(bufAt(b), 1, b.length);
  if (v === undefined || v.value < 10) return false;
  const i = v.end;
  if (i + 2 > b.length) return false;
  const n = b.readUInt16BE(i);
  if (i + 2 + n + 1 > b.length) return false;
  const name = b.toString('latin1', i + 2, i + 2 + n);
  const level = b[i + 2 + n];
  if (name === 'MQTT') return level >= 4;
  if (name === 'MQIsdp') return level === 3;
  return false;
}

export function detectMqtt(head: Buffer, type: MessageType): boolean {
  return type === 'request' && isMqttConnect(head);
}

/**
 * MQTT has no resynchronisation marker: after an invalid packet the rest of the captured run
 * is skipped (the session's default), so this finds nothing.
 */
export function findMqttFrameBoundary(_type: MessageType, _buf: StreamBuffer, _from: number): number {
  return -1;
}
