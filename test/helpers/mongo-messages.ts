/**
 * Building MongoDB messages for the parser's tests (src/protocols/mongo/*.test.ts).
 * Documents are serialised with the `bson` package.
 */
import { deflateSync, zstdCompressSync } from 'node:zlib';
import { BSON, type Document } from 'bson';
import { compress as snappyCompress } from 'snappyjs';

export function header(len: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** an OP_MSG with a body section and optional document sequences */
export function opMsg(requestId: number, responseTo: number, body: Document, flags = 0, sequences: Array<[string, Document[]]> = []): Buffer {
  const f = Buffer.alloc(4);
  f.writeUInt32LE(flags, 0);
  const parts: Buffer[] = [f, Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  for (const [id, docs] of sequences) {
    const payload = Buffer.concat([Buffer.from(`${id}\0`), ...docs.map((d) => Buffer.from(BSON.serialize(d)))]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  const b = Buffer.concat(parts);
  return Buffer.concat([header(16 + b.length, requestId, responseTo, 2013), b]);
}

/** the same message in OP_COMPRESSED with compressor `id` (0 noop, 1 snappy, 2 zlib, 3 zstd) */
export function compressed(msg: Buffer, id: number): Buffer {
  const body = msg.subarray(16);
  const z = id === 1 ? Buffer.from(snappyCompress(body)) : id === 2 ? deflateSync(body) : id === 3 ? zstdCompressSync(body) : body;
  const c = Buffer.alloc(9);
  c.writeInt32LE(msg.readInt32LE(12), 0);
  c.writeInt32LE(body.length, 4);
  c.writeUInt8(id, 8);
  return Buffer.concat([header(25 + z.length, msg.readInt32LE(4), msg.readInt32LE(8), 2012), c, z]);
}
