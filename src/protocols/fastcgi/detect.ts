/**
 * FastCGI detection from the first bytes of one direction, and resynchronisation.
 *
 * Request: a BEGIN_REQUEST record header (version 1, type 1, a request id, content length 8)
 * and, when captured, its body (role 1..3, reserved bytes zero): what the kernel's unix-socket gate
 * checks too (bpf/probes/sock_io.h). Response (a connection seen from its middle): a STDOUT or
 * STDERR header of version 1 whose content, when captured, starts like a CGI header line.
 */
import type { MessageType } from '../common/contract.ts';
import type { StreamBuffer } from '../common/stream.ts';
import { FCGI_BEGIN_REQUEST, FCGI_HEADER_LEN, FCGI_STDERR, FCGI_STDOUT } from './types.ts';

const REQUEST_TYPES = new Set([1, 2, 4, 5, 8, 9]);
const RESPONSE_TYPES = new Set([3, 6, 7, 10, 11]);

/** is `t` a record type of `type`'s direction? */
export function typeOfDirection(type: MessageType, t: number): boolean {
  return type === 'request' ? REQUEST_TYPES.has(t) : RESPONSE_TYPES.has(t);
}

function isBegin(b: Buffer): boolean {
  if (b.length < FCGI_HEADER_LEN || b[0] !== 1 || b[1] !== FCGI_BEGIN_REQUEST) return false;
  if (b.readUInt16BE(2) === 0 || b.readUInt16BE(4) !== 8) return false;
  if (b.length < 16) return true;
  const role = b.readUInt16BE(8);
  if (role < 1 || role > 3) return false;
  for (let i = 11; i < 16; i++) if (b[i] !== 0) return false;
  return true;
}

function isOutput(b: Buffer): boolean {
  if (b.length < FCGI_HEADER_LEN || b[0] !== 1 || (b[1] !== FCGI_STDOUT && b[1] !== FCGI_STDERR)) return false;
  if (b.readUInt16BE(2) === 0 || b.readUInt16BE(4) === 0) return false;
  if (b.length === FCGI_HEADER_LEN) return false; // too little to tell from other binary protocols
  const c = b[FCGI_HEADER_LEN];
  // a CGI header name starts with a letter (STDOUT); STDERR is text
  return b[1] === FCGI_STDOUT ? (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) : c >= 0x20 && c < 0x7f;
}

export function detectFastCgi(head: Buffer, type: MessageType): boolean {
  return type === 'request' ? isBegin(head) : isOutput(head);
}

/** where a record of `type`'s direction may start at or after `from` (-1: none in the captured bytes) */
export function findFcgiFrameBoundary(type: MessageType, buf: StreamBuffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const v = buf.byteAt(i);
    if (v !== 1) continue;
    const t = buf.byteAt(i + 1);
    if (t === -1) {
      if (i + 1 >= buf.length) return i; // a header cut at the end may continue
      continue;
    }
    if (type === 'request' ? t === FCGI_BEGIN_REQUEST : t === FCGI_STDOUT) {
      const hi = buf.byteAt(i + 2);
      const lo = buf.byteAt(i + 3);
      if (hi === -1 || lo === -1 || hi !== 0 || lo !== 0) return i;
    }
  }
  return -1;
}
