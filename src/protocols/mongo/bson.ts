/**
 * A bounded BSON reader for captured prefixes (bsonspec.org, version 1.1).
 *
 * The `bson` package decodes whole, valid documents and throws otherwise; the agent sees the
 * first bytes of a message (the capture prefix) and must read what is there: the first
 * elements of a command, a reply's `ok` / `code` / `cursor`. This reader walks the elements
 * present, stops quietly at the end of the captured bytes, never throws, and bounds what it
 * keeps: nesting depth, elements per document, string lengths and total elements.
 */

/** A value as kept: scalars as JS values, documents and arrays as ordered entries. */
export type BsonValue = string | number | boolean | null | bigint | BsonDoc | BsonOther;

/** An ordered document (or array, `array: true`); `truncated` when it did not end in the captured bytes or bounds were hit. */
export interface BsonDoc {
  readonly kind: 'doc';
  readonly array: boolean;
  readonly entries: Array<[string, BsonValue]>;
  truncated: boolean;
}

/** A value of a type the agent does not look into (ObjectId, binary, dates, regexes, ...). */
export interface BsonOther {
  readonly kind: 'other';
  /** BSON element type byte */
  readonly type: number;
}

export interface BsonLimits {
  /** nesting depth kept (1 = top-level scalars only; deeper documents are empty and truncated) */
  readonly depth: number;
  /** elements kept per document */
  readonly entries: number;
  /** characters kept of a string */
  readonly stringChars: number;
  /** elements kept in all */
  readonly total: number;
}

export const DEFAULT_BSON_LIMITS: BsonLimits = Object.freeze({ depth: 7, entries: 48, stringChars: 256, total: 512 });

/** fixed value sizes by type; -1: variable; undefined: not a BSON type */
const FIXED: Record<number, number> = {
  0x01: 8, // double
  0x06: 0, // undefined
  0x07: 12, // ObjectId
  0x08: 1, // bool
  0x09: 8, // UTC datetime
  0x0a: 0, // null
  0x10: 4, // int32
  0x11: 8, // timestamp
  0x12: 8, // int64
  0x13: 16, // decimal128
  0xff: 0, // min key
  0x7f: 0, // max key
};

interface Budget {
  left: number;
}

/**
 * Read the document starting at `off` in `b` (whose bytes past `b.length` were not captured).
 * Returns undefined when not even the length prefix is there or it is impossible.
 */
export function readDocument(b: Buffer, off = 0, limits: BsonLimits = DEFAULT_BSON_LIMITS): BsonDoc | undefined {
  if (off < 0 || off + 4 > b.length) return undefined;
  const len = b.readInt32LE(off);
  if (len < 5) return undefined;
  return readDoc(b, off, len, false, limits, 1, { left: limits.total });
}

function cstringEnd(b: Buffer, from: number, to: number): number {
  const i = b.indexOf(0, from);
  return i < 0 || i >= to ? -1 : i;
}

function readDoc(b: Buffer, off: number, len: number, array: boolean, limits: BsonLimits, depth: number, budget: Budget): BsonDoc {
  const doc: BsonDoc = { kind: 'doc', array, entries: [], truncated: false };
  const declaredEnd = off + len;
  const end = Math.min(declaredEnd, b.length);
  let p = off + 4;
  for (;;) {
    if (p >= end) {
      doc.truncated = true; // the terminating zero was not captured
      return doc;
    }
    const t = b[p];
    if (t === 0) return doc;
    const ne = cstringEnd(b, p + 1, end);
    if (ne < 0) {
      doc.truncated = true;
      return doc;
    }
    const name = b.toString('utf8', p + 1, ne);
    const v = ne + 1;
    let size: number; // bytes of the value
    let value: BsonValue | undefined;
    const fixed = FIXED[t];
    if (fixed !== undefined) {
      size = fixed;
      if (v + size > end) {
        doc.truncated = true;
        return doc;
      }
      switch (t) {
        case 0x01:
          value = b.readDoubleLE(v);
          break;
        case 0x08:
          value = b[v] !== 0;
          break;
        case 0x0a:
        case 0x06:
          value = null;
          break;
        case 0x10:
          value = b.readInt32LE(v);
          break;
        case 0x12:
          value = b.readBigInt64LE(v);
          break;
        default:
          value = { kind: 'other', type: t };
      }
    } else if (t === 0x02 || t === 0x0d || t === 0x0e) {
      // string, JS code, symbol: int32 length (with the trailing zero), bytes, 0
      if (v + 4 > end) {
        doc.truncated = true;
        return doc;
      }
      const n = b.readInt32LE(v);
      if (n < 1 || v + 4 + n > declaredEnd) {
        doc.truncated = true;
        return doc;
      }
      size = 4 + n;
      const sEnd = Math.min(v + 4 + n - 1, end, v + 4 + limits.stringChars * 4);
      const s = b.toString('utf8', v + 4, sEnd);
      value = t === 0x02 ? (s.length > limits.stringChars ? s.slice(0, limits.stringChars) : s) : { kind: 'other', type: t };
      if (v + size > end && t === 0x02) {
        doc.entries.push([name, value]);
        doc.truncated = true;
        return doc;
      }
    } else if (t === 0x03 || t === 0x04) {
      if (v + 4 > end) {
        doc.truncated = true;
        return doc;
      }
      const n = b.readInt32LE(v);
      if (n < 5 || v + n > declaredEnd) {
        doc.truncated = true;
        return doc;
      }
      size = n;
      if (depth >= limits.depth || budget.left <= 0) value = { kind: 'doc', array: t === 0x04, entries: [], truncated: true };
      else value = readDoc(b, v, n, t === 0x04, limits, depth + 1, budget);
    } else if (t === 0x05) {
      // binary: int32 length, subtype, bytes
      if (v + 4 > end) {
        doc.truncated = true;
        return doc;
      }
      const n = b.readInt32LE(v);
      if (n < 0 || v + 5 + n > declaredEnd) {
        doc.truncated = true;
        return doc;
      }
      size = 5 + n;
      value = { kind: 'other', type: t };
    } else if (t === 0x0b) {
      // regex: two cstrings
      const e1 = cstringEnd(b, v, end);
      const e2 = e1 < 0 ? -1 : cstringEnd(b, e1 + 1, end);
      if (e2 < 0) {
        doc.truncated = true;
        return doc;
      }
      size = e2 + 1 - v;
      value = { kind: 'other', type: t };
    } else if (t === 0x0c || t === 0x0f) {
      // DBPointer (string + 12 bytes), code with scope (int32 total length)
      if (v + 4 > end) {
        doc.truncated = true;
        return doc;
      }
      const n = b.readInt32LE(v);
      size = t === 0x0c ? 4 + n + 12 : n;
      if (n < 1 || v + size > declaredEnd) {
        doc.truncated = true;
        return doc;
      }
      value = { kind: 'other', type: t };
    } else {
      doc.truncated = true; // not a BSON type: stop here
      return doc;
    }
    if (doc.entries.length < limits.entries && budget.left > 0) {
      doc.entries.push([name, value]);
      budget.left--;
    } else doc.truncated = true;
    p = v + size;
  }
}

/** the value of the first element named `name` */
export function field(doc: BsonDoc | undefined, name: string): BsonValue | undefined {
  if (doc === undefined) return undefined;
  for (const [k, v] of doc.entries) if (k === name) return v;
  return undefined;
}

export function isDoc(v: BsonValue | undefined): v is BsonDoc {
  return typeof v === 'object' && v !== null && (v as BsonDoc).kind === 'doc';
}

/** a numeric value (double, int32, int64) as a number; undefined otherwise */
export function asNumber(v: BsonValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}
