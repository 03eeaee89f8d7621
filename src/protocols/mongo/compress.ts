/**
 * OP_COMPRESSED bodies: zlib (node:zlib), zstd (node:zlib, Node >= 22.15), snappy (`snappyjs`,
 * pure JavaScript). Synchronous and bounded: input is the captured prefix (at most a few KiB),
 * output at most `MAX_INFLATED` bytes. A prefix of a zlib or zstd stream decodes to a prefix
 * of the message; Snappy cannot decode a prefix, so a truncated Snappy message is named from
 * its header only. Never throws: undefined when nothing could be decoded.
 */
import { constants, inflateSync, zstdDecompressSync } from 'node:zlib';
import { uncompress as snappyUncompress } from 'snappyjs';

/** bytes of decompressed message kept at most */
export const MAX_INFLATED = 64 * 1024;

/**
 * Decompress `data` (the compressed message, possibly only its first bytes: `complete` false)
 * with compressor `id` (0 noop, 1 snappy, 2 zlib, 3 zstd).
 */
export function decompress(id: number, data: Buffer, complete: boolean): Buffer | undefined {
  try {
    switch (id) {
      case 0:
        return data;
      case 1:
        if (!complete) return undefined;
        return Buffer.from(snappyUncompress(data, 16 * 1024 * 1024)).subarray(0, MAX_INFLATED);
      case 2: {
        const out = inflateSync(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 16 * MAX_INFLATED });
        return out.length === 0 ? undefined : out.subarray(0, MAX_INFLATED);
      }
      case 3: {
        const out = zstdDecompressSync(data, { finishFlush: constants.ZSTD_e_flush, maxOutputLength: 16 * MAX_INFLATED });
        return out.length === 0 ? undefined : out.subarray(0, MAX_INFLATED);
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
