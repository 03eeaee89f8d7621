/**
 * HPACK header-block decoding (RFC 7541): one decoder per connection and direction, holding the
 * dynamic table its peer's encoder fills.
 *
 * A table may be *unknown*: the connection predates the agent, or a header block was lost (a
 * capture gap, a resynchronisation). Then the decoder keeps the entries inserted since and
 * resolves only references it can prove: static entries, literals, and dynamic entries inserted
 * since the table became unknown. Any other reference yields no field (never a guess) and the
 * block is reported `partial`. The table becomes known again when it provably holds only
 * entries seen since (a size update evicting everything older, or entries seen since filling
 * more than the largest size the encoder may use).
 *
 * Never throws; memory is bounded by the table size cap.
 */
import { huffmanDecode } from './huffman.ts';

/** RFC 7541 Appendix A, index 1..61 */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = 61;

/** SETTINGS_HEADER_TABLE_SIZE default (RFC 7540 §6.5.2) */
export const DEFAULT_TABLE_SIZE = 4096;
/** largest table size honoured; a larger setting is capped (memory bound), counted as a loss of certainty */
export const MAX_TABLE_SIZE = 64 * 1024;
/** longest decoded string kept */
const MAX_STRING = 16 * 1024;
/** fields returned per block (the rest still update the table) */
const MAX_FIELDS = 128;

interface Entry {
  readonly name: string;
  readonly value: string;
  readonly size: number;
}

export type HeaderField = readonly [name: string, value: string];

export interface DecodeResult {
  /** `ok`: every field decoded; `partial`: some references could not be resolved (unknown table); `error`: malformed (table now unknown) */
  readonly status: 'ok' | 'partial' | 'error';
  readonly fields: HeaderField[];
  /** why, when `error` */
  readonly error?: 'index' | 'integer' | 'string' | 'huffman' | 'size-update';
}

export class HpackDecoder {
  /** newest first */
  private _entries: Entry[] = [];
  private _size = 0;
  /** the encoder's current maximum table size, as last set by a size update (or the setting) */
  private _max = DEFAULT_TABLE_SIZE;
  /** the decoding side's SETTINGS_HEADER_TABLE_SIZE: the encoder's maximum may not exceed it */
  private _limit = DEFAULT_TABLE_SIZE;
  /** older entries than `_entries` may exist and are not known */
  private _unknown: boolean;
  /** a proven upper bound on the encoder's table size while unknown (Infinity: none) */
  private _bound = Infinity;
  /** bytes inserted since the table became unknown */
  private _inserted = 0;

  constructor(unknown = false) {
    this._unknown = unknown;
  }

  get unknown(): boolean {
    return this._unknown;
  }
  get size(): number {
    return this._size;
  }
  get entryCount(): number {
    return this._entries.length;
  }

  /** forget what the table holds (a header block was lost) */
  markUnknown(): void {
    this._unknown = true;
    this._bound = Infinity;
    this._inserted = 0;
  }

  /** the decoding side announced SETTINGS_HEADER_TABLE_SIZE = n (applies once acknowledged; taken at once) */
  setLimit(n: number): void {
    this._limit = Math.min(n, MAX_TABLE_SIZE);
    if (n > MAX_TABLE_SIZE && !this._unknown) this.markUnknown(); // we cannot follow a larger table
    if (this._unknown) this._bound = Math.min(this._bound, n);
    this._setMax(this._limit); // an encoder using less says so with a size update
    this._checkKnown();
  }

  decode(block: Uint8Array): DecodeResult {
    const fields: HeaderField[] = [];
    let partial = false;
    let p = 0;
    const n = block.length;
    let headerSeen = false;
    while (p < n) {
      const b = block[p];
      if (b & 0x80) {
        // indexed field
        const r = readInt(block, p, 7);
        if (r === undefined) return this._fail(fields, 'integer');
        p = r.next;
        headerSeen = true;
        const e = this._lookup(r.value);
        if (e === 'bad') return this._fail(fields, 'index');
        if (e === 'unknown') partial = true;
        else if (fields.length < MAX_FIELDS) fields.push([e.name, e.value]);
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // dynamic table size update (only before the first field)
        const r = readInt(block, p, 5);
        if (r === undefined) return this._fail(fields, 'integer');
        p = r.next;
        if (headerSeen || r.value > this._limit) return this._fail(fields, 'size-update');
        this._setMax(r.value);
        if (this._unknown) this._bound = Math.min(this._bound, r.value);
        this._checkKnown();
        continue;
      }
      // literal: with incremental indexing (01), without (0000), never indexed (0001)
      const indexing = (b & 0xc0) === 0x40;
      const prefix = indexing ? 6 : 4;
      const r = readInt(block, p, prefix);
      if (r === undefined) return this._fail(fields, 'integer');
      p = r.next;
      headerSeen = true;
      let name: string | undefined;
      let nameSize = 0;
      if (r.value === 0) {
        const s = readString(block, p);
        if (s.error !== undefined) return this._fail(fields, s.error);
        p = s.next;
        name = s.value;
        nameSize = s.size;
      } else {
        const e = this._lookup(r.value);
        if (e === 'bad') return this._fail(fields, 'index');
        if (e !== 'unknown') {
          name = e.name;
          nameSize = Buffer.byteLength(e.name, 'latin1');
        }
      }
      const v = readString(block, p);
      if (v.error !== undefined) return this._fail(fields, v.error);
      p = v.next;
      if (name === undefined) {
        partial = true;
        // the entry still occupies the table: insert a placeholder of unknown size → the table is unknown past it
        if (indexing) this._insertUnknownName(v.size);
        continue;
      }
      if (indexing) this._insert(name, v.value, nameSize + v.size);
      if (fields.length < MAX_FIELDS) fields.push([name, v.value]);
    }
    return { status: partial ? 'partial' : 'ok', fields };
  }

  private _fail(fields: HeaderField[], error: NonNullable<DecodeResult['error']>): DecodeResult {
    this.markUnknown();
    return { status: 'error', fields, error };
  }

  /** entry at HPACK index i; 'unknown' for an index into the unknown part of the table; 'bad' when out of range */
  private _lookup(i: number): Entry | 'unknown' | 'bad' {
    if (i <= 0) return 'bad';
    if (i <= STATIC_COUNT) {
      const s = STATIC_TABLE[i];
      return { name: s[0], value: s[1], size: 0 };
    }
    const d = i - STATIC_COUNT - 1;
    if (d < this._entries.length) return this._entries[d];
    if (this._unknown) return d < MAX_TABLE_SIZE / 32 ? 'unknown' : 'bad';
    return 'bad';
  }

  private _insert(name: string, value: string, rawSize: number): void {
    const size = rawSize + 32;
    if (size > this._max) {
      // an entry larger than the table empties it (RFC 7541 §4.4): everything is known again
      this._entries = [];
      this._size = 0;
      this._unknown = false;
      this._bound = Infinity;
      return;
    }
    while (this._size + size > this._max && this._entries.length > 0) {
      const old = this._entries.pop()!;
      this._size -= old.size;
    }
    this._entries.unshift({ name, value, size });
    this._size += size;
    this._inserted += size;
    this._checkKnown();
  }

  /** a literal with an unresolvable name was inserted: all we know is gone behind it */
  private _insertUnknownName(_valueSize: number): void {
    this._entries = [];
    this._size = 0;
    this.markUnknown();
  }

  private _setMax(m: number): void {
    this._max = m;
    while (this._size > m && this._entries.length > 0) {
      const old = this._entries.pop()!;
      this._size -= old.size;
    }
    if (m === 0) {
      this._unknown = false;
      this._bound = Infinity;
    }
  }

  /** while unknown: known entries alone exceed what the encoder may hold → nothing older survives */
  private _checkKnown(): void {
    if (!this._unknown) return;
    // the encoder evicts the oldest first: once more than it can hold was inserted since, nothing older is left
    if (this._inserted > this._bound || this._bound === 0) {
      this._unknown = false;
      this._bound = Infinity;
    }
  }
}

/** RFC 7541 §5.1 integer with an N-bit prefix at block[p]; undefined when truncated or over 2^28 */
export function readInt(block: Uint8Array, p: number, prefix: number): { value: number; next: number } | undefined {
  const mask = (1 << prefix) - 1;
  let v = block[p] & mask;
  p++;
  if (v < mask) return { value: v, next: p };
  let shift = 0;
  for (;;) {
    if (p >= block.length || shift > 21) return undefined;
    const b = block[p++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value: v, next: p };
  }
}

interface StringResult {
  readonly value: string;
  /** octets of the decoded string (the entry size counts these) */
  readonly size: number;
  readonly next: number;
  readonly error?: 'integer' | 'string' | 'huffman';
}

const BAD_INT: StringResult = { value: '', size: 0, next: 0, error: 'integer' };
const BAD_STRING: StringResult = { value: '', size: 0, next: 0, error: 'string' };
const BAD_HUFFMAN: StringResult = { value: '', size: 0, next: 0, error: 'huffman' };

function readString(block: Uint8Array, p: number): StringResult {
  if (p >= block.length) return BAD_STRING;
  const huff = (block[p] & 0x80) !== 0;
  const r = readInt(block, p, 7);
  if (r === undefined) return BAD_INT;
  const end = r.next + r.value;
  if (end > block.length) return BAD_STRING;
  if (huff) {
    const s = huffmanDecode(block, r.next, end, MAX_TABLE_SIZE);
    if (s === undefined) return BAD_HUFFMAN;
    return { value: s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s, size: s.length, next: end };
  }
  const len = end - r.next;
  const s = Buffer.from(block.buffer, block.byteOffset + r.next, Math.min(len, MAX_STRING)).toString('latin1');
  return { value: s, size: len, next: end };
}
