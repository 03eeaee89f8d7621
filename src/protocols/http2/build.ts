/**
 * Building HTTP/2 bytes for tests, benches and fixture generators (the agent only parses): a
 * frame, and a header block of HPACK literals without indexing (RFC 7541 §6.2.2), which a decoder
 * reads without any table state. Names and values up to 127 bytes (one-byte lengths, no Huffman).
 */
import { FRAME_HEADER } from './frame.ts';

/** one frame: 9-byte header (length, type, flags, stream id) and its payload */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** a header block of literals without indexing, new names */
export function literalBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.map(([n, v]) => Buffer.concat([Buffer.from([0x00, n.length]), Buffer.from(n, 'latin1'), Buffer.from([v.length]), Buffer.from(v, 'latin1')])));
}
