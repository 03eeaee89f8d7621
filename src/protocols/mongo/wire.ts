/**
 * Decoding one MongoDB message from its captured bytes (MongoDB Wire Protocol reference, the
 * OP_MSG and OP_COMPRESSED specifications): the 16-byte header, then by opcode the command and
 * what the agent reports of it. Works on a prefix: whatever was not captured is simply absent.
 */
import { asNumber, field, isDoc, readDocument, type BsonDoc, type BsonValue } from './bson.ts';
import { decompress } from './compress.ts';
import {
  COMPRESSORS,
  MSG_CHECKSUM_PRESENT,
  MSG_EXHAUST_ALLOWED,
  MSG_MORE_TO_COME,
  OP_COMPRESSED,
  OP_DELETE,
  OP_GET_MORE,
  OP_INSERT,
  OP_KILL_CURSORS,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  OP_UPDATE,
} from './types.ts';

export const HEADER_LEN = 16;
/** OP_QUERY flag bit: the server streams every batch */
const QUERY_EXHAUST = 1 << 6;
/** largest message accepted (maxMessageSizeBytes is 48 000 000) */
export const MAX_MESSAGE = 48_000_000;

export const REQUEST_OPCODES: ReadonlySet<number> = new Set([OP_MSG, OP_QUERY, OP_COMPRESSED, OP_UPDATE, OP_INSERT, OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS]);
export const RESPONSE_OPCODES: ReadonlySet<number> = new Set([OP_MSG, OP_REPLY, OP_COMPRESSED]);

export interface Header {
  readonly length: number;
  readonly requestId: number;
  readonly responseTo: number;
  readonly opCode: number;
}

export function readHeader(b: Buffer, off = 0): Header {
  return { length: b.readInt32LE(off), requestId: b.readInt32LE(off + 4), responseTo: b.readInt32LE(off + 8), opCode: b.readInt32LE(off + 12) };
}

/** commands whose first value names a collection */
const COLLECTION_COMMANDS = new Set([
  'find',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'aggregate',
  'count',
  'distinct',
  'mapReduce',
  'killCursors',
  'create',
  'drop',
  'createIndexes',
  'dropIndexes',
  'listIndexes',
  'collMod',
  'validate',
  'collStats',
  'geoSearch',
]);

/** what a request says */
export interface RequestInfo {
  opCode: number;
  noReply: boolean;
  exhaust: boolean;
  command?: string;
  collection?: string;
  database?: string;
  cursorId?: string;
  statement?: string;
  compressor?: string;
  truncated: boolean;
}

/** what a reply says */
export interface ResponseInfo {
  opCode: number;
  moreToCome: boolean;
  failed: boolean;
  code?: number;
  codeName?: string;
  errmsg?: string;
  cursorId?: string;
  cursorNs?: string;
  compressor?: string;
  truncated: boolean;
}

function cstring(b: Buffer, off: number): string | undefined {
  const e = b.indexOf(0, off);
  if (e < 0 || off >= b.length) return undefined;
  return b.toString('utf8', off, e);
}

function str(v: BsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function cursorString(v: BsonValue | undefined): string | undefined {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return undefined;
}

/** split `db.collection` */
function splitNs(ns: string): [string, string | undefined] {
  const dot = ns.indexOf('.');
  return dot < 0 ? [ns, undefined] : [ns.slice(0, dot), ns.slice(dot + 1)];
}

// ------------------------------------------------------------------ masking (db.query.text)

const STATEMENT_MAX = 1024;
/** driver housekeeping fields left out of the query text */
const HOUSEKEEPING = new Set(['lsid', 'txnNumber', 'autocommit', 'startTransaction', 'readConcern', 'writeConcern', 'apiVersion', 'apiStrict', 'apiDeprecationErrors']);

function maskValue(v: BsonValue, depth: number): string {
  if (v === null) return 'null';
  if (isDoc(v)) return maskDoc(v, depth + 1, false);
  return '"?"';
}

function maskDoc(d: BsonDoc, depth: number, top: boolean): string {
  const parts: string[] = [];
  if (d.array) {
    // arrays of scalars collapse to one placeholder: the number of values is data too
    if (d.entries.every(([, v]) => !isDoc(v))) return d.entries.length === 0 ? '[]' : '["?"]';
    for (const [, v] of d.entries) parts.push(maskValue(v, depth));
    if (d.truncated) parts.push('…');
    return `[${parts.join(',')}]`;
  }
  d.entries.forEach(([k, v], i) => {
    if (top && (k.startsWith('$') || HOUSEKEEPING.has(k))) return;
    // the command's own value and getMore's `collection` name a collection: kept when strings
    const shown = top && (i === 0 || k === 'collection') && typeof v === 'string' ? JSON.stringify(v) : maskValue(v, depth);
    parts.push(`${JSON.stringify(k)}:${shown}`);
  });
  if (d.truncated) parts.push('…');
  return `{${parts.join(',')}}`;
}

/** the command with every value masked (`{"find":"users","filter":{"name":"?"}}`), document sequences folded in */
export function maskedStatement(body: BsonDoc, sequences: ReadonlyArray<[string, BsonDoc[]]> = []): string {
  let s = maskDoc(body, 1, true);
  if (sequences.length > 0) {
    const extra = sequences.map(([id, docs]) => `${JSON.stringify(id)}:[${docs.map((d) => maskDoc(d, 2, false)).join(',')}]`).join(',');
    s = s === '{}' ? `{${extra}}` : `${s.slice(0, -1)},${extra}}`;
  }
  return s.length > STATEMENT_MAX ? `${s.slice(0, STATEMENT_MAX - 1)}…` : s;
}

// ------------------------------------------------------------------ commands

function commandInfo(info: RequestInfo, doc: BsonDoc | undefined): void {
  if (doc === undefined || doc.entries.length === 0) return;
  let cmd = doc;
  // OP_QUERY commands of old drivers may be wrapped: { $query: {...}, $readPreference: ... }
  const q = field(doc, '$query') ?? field(doc, 'query');
  if (doc.entries[0][0] === '$query' && isDoc(q)) cmd = q;
  if (cmd.entries.length === 0) return;
  const [name, value] = cmd.entries[0];
  info.command = name;
  if (name === 'getMore') {
    info.cursorId = cursorString(value);
    info.collection = str(field(cmd, 'collection'));
  } else if (COLLECTION_COMMANDS.has(name) && typeof value === 'string') {
    info.collection = value;
  }
  const db = str(field(cmd, '$db'));
  if (db !== undefined) info.database = db;
}

/** OP_MSG sections from `off` to `end`: the body and the document sequences (first documents only) */
function msgSections(b: Buffer, off: number, end: number): { body?: BsonDoc; sequences: Array<[string, BsonDoc[]]>; truncated: boolean } {
  const sequences: Array<[string, BsonDoc[]]> = [];
  let body: BsonDoc | undefined;
  let p = off;
  let truncated = false;
  const stop = Math.min(end, b.length);
  while (p < stop && sequences.length < 4) {
    const kind = b[p];
    if (kind === 0) {
      body = readDocument(b, p + 1);
      if (body === undefined || p + 5 > stop) return { body, sequences, truncated: true };
      const n = b.readInt32LE(p + 1);
      if (body.truncated) truncated = true;
      p += 1 + n;
    } else if (kind === 1) {
      if (p + 5 > stop) return { body, sequences, truncated: true };
      const size = b.readInt32LE(p + 1);
      if (size < 5) return { body, sequences, truncated: true };
      const id = cstring(b, p + 5);
      if (id === undefined) return { body, sequences, truncated: true };
      const docs: BsonDoc[] = [];
      let q = p + 5 + Buffer.byteLength(id) + 1;
      const seqEnd = p + 1 + size;
      while (q < seqEnd && q < stop && docs.length < 3) {
        const d = readDocument(b, q);
        if (d === undefined) break;
        docs.push(d);
        q += b.readInt32LE(q);
      }
      sequences.push([id, docs]);
      p = seqEnd;
    } else {
      return { body, sequences, truncated: true };
    }
  }
  if (p < end) truncated = true;
  return { body, sequences, truncated };
}

/**
 * Decode a request whose header is `h` and whose captured bytes (header included) are `b`
 * (`b.length < h.length` when truncated).
 */
export function decodeRequest(h: Header, b: Buffer, depth = 0): RequestInfo {
  const info: RequestInfo = { opCode: h.opCode, noReply: false, exhaust: false, truncated: b.length < h.length };
  const end = h.length;
  const o = HEADER_LEN;
  if (b.length < o + 4) {
    info.truncated = true;
    return info;
  }
  switch (h.opCode) {
    case OP_MSG: {
      const flags = b.readUInt32LE(o);
      info.noReply = (flags & MSG_MORE_TO_COME) !== 0;
      info.exhaust = (flags & MSG_EXHAUST_ALLOWED) !== 0;
      const s = msgSections(b, o + 4, end - ((flags & MSG_CHECKSUM_PRESENT) !== 0 ? 4 : 0));
      if (s.truncated) info.truncated = true;
      commandInfo(info, s.body);
      if (s.body !== undefined) info.statement = maskedStatement(s.body, s.sequences);
      break;
    }
    case OP_QUERY: {
      info.exhaust = (b.readInt32LE(o) & QUERY_EXHAUST) !== 0;
      const ns = cstring(b, o + 4);
      if (ns === undefined) {
        info.truncated = true;
        break;
      }
      const [db, coll] = splitNs(ns);
      info.database = db;
      const doc = readDocument(b, o + 4 + Buffer.byteLength(ns) + 1 + 8);
      if (doc === undefined || doc.truncated) info.truncated = true;
      if (coll === '$cmd') {
        commandInfo(info, doc);
        info.database = db;
        if (doc !== undefined) info.statement = maskedStatement(doc);
      } else {
        info.command = 'find';
        info.collection = coll;
        if (doc !== undefined && coll !== undefined) {
          const filter = field(doc, '$query');
          info.statement = `{"find":${JSON.stringify(coll)},"filter":${maskDoc(isDoc(filter) ? filter : doc, 2, false)}}`;
        }
      }
      break;
    }
    case OP_INSERT:
    case OP_UPDATE:
    case OP_DELETE:
    case OP_GET_MORE: {
      const ns = cstring(b, o + 4);
      info.command = h.opCode === OP_INSERT ? 'insert' : h.opCode === OP_UPDATE ? 'update' : h.opCode === OP_DELETE ? 'delete' : 'getMore';
      info.noReply = h.opCode !== OP_GET_MORE;
      if (ns === undefined) {
        info.truncated = true;
        break;
      }
      [info.database, info.collection] = splitNs(ns);
      if (h.opCode === OP_GET_MORE) {
        const c = o + 4 + Buffer.byteLength(ns) + 1 + 4;
        if (c + 8 <= b.length) info.cursorId = b.readBigInt64LE(c).toString();
      }
      break;
    }
    case OP_KILL_CURSORS:
      info.command = 'killCursors';
      info.noReply = true;
      break;
    case OP_COMPRESSED: {
      if (b.length < o + 9) {
        info.truncated = true;
        break;
      }
      const original = b.readInt32LE(o);
      const size = b.readInt32LE(o + 4);
      const id = b[o + 8];
      info.opCode = original;
      info.compressor = COMPRESSORS[id] ?? String(id);
      const inner = depth === 0 && original !== OP_COMPRESSED ? decompress(id, b.subarray(o + 9), b.length >= end) : undefined;
      if (inner === undefined || !(size >= 0 && size <= MAX_MESSAGE)) {
        info.truncated = true;
        // the original opcode still tells whether a reply is expected for the legacy writes
        info.noReply = original === OP_INSERT || original === OP_UPDATE || original === OP_DELETE || original === OP_KILL_CURSORS;
        if (original === OP_MSG && b.length >= o + 13) info.noReply = false;
        break;
      }
      const whole = Buffer.concat([b.subarray(0, HEADER_LEN), inner]);
      const r = decodeRequest({ ...h, length: HEADER_LEN + size, opCode: original }, whole, depth + 1);
      r.compressor = info.compressor;
      if (inner.length < size) r.truncated = true;
      return r;
    }
  }
  return info;
}

function replyInfo(info: ResponseInfo, doc: BsonDoc | undefined): void {
  if (doc === undefined) return;
  const ok = asNumber(field(doc, 'ok'));
  const err = field(doc, '$err');
  if (ok === 0 || typeof err === 'string') info.failed = true;
  const code = asNumber(field(doc, 'code'));
  if (info.failed) {
    info.code = code;
    info.codeName = str(field(doc, 'codeName'));
    info.errmsg = str(field(doc, 'errmsg')) ?? str(err);
  }
  // write errors come with ok: 1
  const we = field(doc, 'writeErrors');
  const first = isDoc(we) ? we.entries[0]?.[1] : undefined;
  const wce = field(doc, 'writeConcernError');
  const e = isDoc(first) ? first : isDoc(wce) ? wce : undefined;
  if (!info.failed && e !== undefined) {
    info.failed = true;
    info.code = asNumber(field(e, 'code'));
    info.codeName = str(field(e, 'codeName'));
    info.errmsg = str(field(e, 'errmsg'));
  }
  const cursor = field(doc, 'cursor');
  if (isDoc(cursor)) {
    const id = cursorString(field(cursor, 'id'));
    if (id !== undefined && id !== '0') info.cursorId = id;
    info.cursorNs = str(field(cursor, 'ns'));
  }
}

/** Decode a reply (see decodeRequest). */
export function decodeResponse(h: Header, b: Buffer, depth = 0): ResponseInfo {
  const info: ResponseInfo = { opCode: h.opCode, moreToCome: false, failed: false, truncated: b.length < h.length };
  const o = HEADER_LEN;
  if (b.length < o + 4) {
    info.truncated = true;
    return info;
  }
  switch (h.opCode) {
    case OP_MSG: {
      const flags = b.readUInt32LE(o);
      info.moreToCome = (flags & MSG_MORE_TO_COME) !== 0;
      const s = msgSections(b, o + 4, h.length - ((flags & MSG_CHECKSUM_PRESENT) !== 0 ? 4 : 0));
      if (s.truncated) info.truncated = true;
      replyInfo(info, s.body);
      break;
    }
    case OP_REPLY: {
      const flags = b.readInt32LE(o);
      if ((flags & 2) !== 0) info.failed = true; // QueryFailure
      if (b.length >= o + 12) {
        const id = b.readBigInt64LE(o + 4);
        if (id !== 0n) info.cursorId = id.toString();
      }
      const doc = readDocument(b, o + 20);
      if (doc === undefined || doc.truncated) info.truncated = true;
      replyInfo(info, doc);
      break;
    }
    case OP_COMPRESSED: {
      if (b.length < o + 9) {
        info.truncated = true;
        break;
      }
      const original = b.readInt32LE(o);
      const size = b.readInt32LE(o + 4);
      const id = b[o + 8];
      info.opCode = original;
      info.compressor = COMPRESSORS[id] ?? String(id);
      const inner = depth === 0 && original !== OP_COMPRESSED ? decompress(id, b.subarray(o + 9), b.length >= h.length) : undefined;
      if (inner === undefined || !(size >= 0 && size <= MAX_MESSAGE)) {
        info.truncated = true;
        break;
      }
      const whole = Buffer.concat([b.subarray(0, HEADER_LEN), inner]);
      const r = decodeResponse({ ...h, length: HEADER_LEN + size, opCode: original }, whole, depth + 1);
      r.compressor = info.compressor;
      if (inner.length < size) r.truncated = true;
      return r;
    }
  }
  return info;
}
