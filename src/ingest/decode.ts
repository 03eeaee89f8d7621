/**
 * Walks one ring-buffer drain: the addon frames records as
 * [u32 length][record][pad to 8] (OBI_BATCH_* in bpf/abi/events.h). One call per drain; handlers per record type.
 * Decoders come from src/abi (generated from bpf/abi/events.h).
 */
import {
  OBI_BATCH_ALIGN,
  OBI_BATCH_LEN_BYTES,
  OBI_DATA_EVENT_SIZE,
  OBI_EVENT_HEADER_SIZE,
  OBI_STREAM_EVENT_SIZE,
  ObiEventType,
  decodeObiConnEvent,
  decodeObiDataEvent,
  decodeObiProcEvent,
  decodeObiStreamEvent,
  type ObiConnEvent,
  type ObiDataEvent,
  type ObiProcEvent,
  type ObiStreamEvent,
} from '../abi/events.ts';

export interface EventHandlers {
  /** payload is a view into the batch: copy what must outlive the call */
  data(ev: ObiDataEvent, payload: Buffer): void;
  conn(ev: ObiConnEvent): void;
  close(ev: ObiConnEvent): void;
  proc(ev: ObiProcEvent): void;
  /** `headers`: the ids the kernel gave an HTTP/2 client stream (before its write's data record) */
  stream?(ev: ObiStreamEvent): void;
}

export interface DecodeStats {
  records: number;
  /** records whose type or length made no sense (counted, skipped) */
  malformed: number;
  /** payload bytes that crossed a socket past the captured prefix (gaps) */
  bytesLost: number;
}

export function decodeBatch(batch: Buffer, h: EventHandlers, stats: DecodeStats): void {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let off = 0;
  const end = batch.byteLength;
  while (off + OBI_BATCH_LEN_BYTES <= end) {
    const len = v.getUint32(off, true);
    const rec = off + OBI_BATCH_LEN_BYTES;
    off = (rec + len + OBI_BATCH_ALIGN - 1) & ~(OBI_BATCH_ALIGN - 1);
    if (len < OBI_EVENT_HEADER_SIZE || rec + len > end) {
      stats.malformed++;
      if (rec + len > end) break;
      continue;
    }
    stats.records++;
    const type = v.getUint8(rec);
    switch (type) {
      case ObiEventType.OBI_EV_DATA: {
        if (len < OBI_DATA_EVENT_SIZE) {
          stats.malformed++;
          break;
        }
        const ev = decodeObiDataEvent(v, rec);
        const start = rec + OBI_DATA_EVENT_SIZE;
        const cap = Math.min(ev.captured, len - OBI_DATA_EVENT_SIZE);
        if (ev.len > cap) stats.bytesLost += ev.len - cap;
        h.data(ev, batch.subarray(start, start + cap));
        break;
      }
      case ObiEventType.OBI_EV_CONN:
        h.conn(decodeObiConnEvent(v, rec));
        break;
      case ObiEventType.OBI_EV_CLOSE:
        h.close(decodeObiConnEvent(v, rec));
        break;
      case ObiEventType.OBI_EV_STREAM:
        if (len < OBI_STREAM_EVENT_SIZE) stats.malformed++;
        else h.stream?.(decodeObiStreamEvent(v, rec));
        break;
      case ObiEventType.OBI_EV_EXEC:
      case ObiEventType.OBI_EV_EXIT:
      case ObiEventType.OBI_EV_FORK:
      case ObiEventType.OBI_EV_LISTEN:
      case ObiEventType.OBI_EV_THREAD:
        h.proc(decodeObiProcEvent(v, rec));
        break;
      default:
        stats.malformed++;
    }
  }
}

/** 16-byte address (IPv4 stored IPv4-mapped) → text; IPv6 compressed per RFC 5952. */
export function formatAddress(a: Uint8Array): string {
  let mapped = a[10] === 0xff && a[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (a[i] !== 0) mapped = false;
  if (mapped) return `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  // longest run of >= 2 zero words
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
