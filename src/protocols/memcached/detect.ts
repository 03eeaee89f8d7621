/**
 * Memcached detection from the first bytes of one direction, and resynchronisation.
 *
 * Text: a complete first line that is a valid command (`get k`, `set k 0 60 5`, `delete k
 * noreply`, ...: field counts and numbers checked), or a distinctive answer line (`VALUE k f n`,
 * `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`, `DELETED`, `TOUCHED`, `END`, `STAT x y`,
 * `VERSION x`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`; not the generic `OK` / `ERROR`).
 * Binary: a 24-byte header with magic 0x80 (request) / 0x81 (answer), a known opcode, data type 0
 * and consistent lengths.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { BINARY_OPCODES, textCommand } from './parse.ts';

function firstLine(b: Buffer): string | undefined {
  const nl = b.indexOf('\r\n');
  if (nl <= 0 || nl > 1024) return undefined;
  const s = b.toString('latin1', 0, nl);
  return /^[\x21-\x7e][\x20-\x7e]*$/.test(s) ? s : undefined;
}

function isBinary(b: Buffer, magic: number): boolean {
  if (b.length < 24 || b[0] !== magic || b[5] !== 0) return false;
  if (!BINARY_OPCODES.has(b[1])) return false;
  const keyLen = b.readUInt16BE(2);
  const extLen = b[4];
  const bodyLen = b.readUInt32BE(8);
  if (keyLen + extLen > bodyLen || bodyLen > 1 << 24) return false;
  if (magic === 0x80 && b.readUInt16BE(6) !== 0) return false; // vbucket 0 outside clusters
  return 24 + bodyLen === b.length || (24 + bodyLen < b.length ? b[24 + bodyLen] === magic : b.length >= 64);
}

const ANSWERS = /^(STORED|NOT_STORED|EXISTS|NOT_FOUND|DELETED|TOUCHED|END|VALUE \S{1,250} \d+ \d+( \d+)?|STAT \S+ .*|VERSION \S+|CLIENT_ERROR .*|SERVER_ERROR .*)$/;

export function detectMemcached(head: Buffer, type: MessageType): boolean {
  if (type === 'request') {
    if (isBinary(head, 0x80)) return true;
    const line = firstLine(head);
    return line !== undefined && textCommand(line.split(' ')) !== undefined;
  }
  if (isBinary(head, 0x81)) return true;
  const line = firstLine(head);
  return line !== undefined && ANSWERS.test(line);
}

/** next offset >= from just after a line end (text), or of a magic byte (binary) */
export function findMcFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  const magic = type === 'request' ? 0x80 : 0x81;
  const len = buf.length;
  for (let i = Math.max(from, 1); i < len; i++) {
    const c = buf.byteAt(i);
    if (c === magic) return i;
    if (c === 0x0a) return i + 1 <= len ? i + 1 : -1;
  }
  return -1;
}
