/**
 * Kafka frame builders for parser fixtures and tests, written from the protocol guide and the
 * message JSON definitions (clients/src/main/resources/common/message): primitive types
 * (compact strings and arrays, tagged fields, varints), record batches (magic 2), request and
 * response headers (v0-v2), and the bodies the parser decodes: Produce (v3-v13), Fetch
 * responses (v4-v18), Metadata responses (v0-v13), ApiVersions (v0-v4). Test support only.
 */

export class Enc {
  private readonly _parts: Buffer[] = [];
  readonly flex: boolean;
  constructor(flex = false) {
    this.flex = flex;
  }
  private _push(b: Buffer): this {
    this._parts.push(b);
    return this;
  }
  i8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    return this._push(b);
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    return this._push(b);
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this._push(b);
  }
  i64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    return this._push(b);
  }
  uvarint(v: number): this {
    const out: number[] = [];
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) b |= 0x80;
      out.push(b);
    } while (v > 0);
    return this._push(Buffer.from(out));
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  /** STRING / NULLABLE_STRING, compact in flexible versions */
  str(s: string | null): this {
    if (s === null) return this.flex ? this.uvarint(0) : this.i16(-1);
    const b = Buffer.from(s, 'utf8');
    if (this.flex) this.uvarint(b.length + 1);
    else this.i16(b.length);
    return this._push(b);
  }
  /** BYTES / RECORDS, compact in flexible versions */
  bytes(b: Buffer | null): this {
    if (b === null) return this.flex ? this.uvarint(0) : this.i32(-1);
    if (this.flex) this.uvarint(b.length + 1);
    else this.i32(b.length);
    return this._push(b);
  }
  uuid(b: Buffer): this {
    return this._push(b);
  }
  raw(b: Buffer): this {
    return this._push(b);
  }
  /** an empty tagged-field section (flexible versions only) */
  tags(fields: [number, Buffer][] = []): this {
    if (!this.flex) return this;
    this.uvarint(fields.length);
    for (const [tag, data] of fields) this.uvarint(tag).uvarint(data.length)._push(data);
    return this;
  }
  array<T>(items: readonly T[] | null, each: (e: this, item: T) => void): this {
    if (items === null) return this.flex ? this.uvarint(0) : this.i32(-1);
    if (this.flex) this.uvarint(items.length + 1);
    else this.i32(items.length);
    for (const it of items) each(this, it);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this._parts);
  }
}

export interface TestRecord {
  key?: string;
  value?: string;
  headers?: [string, string][];
}

/** one record batch (magic 2); `codec` sets the compression bits (the records are then opaque bytes) */
export function recordBatch(baseOffset: number, records: TestRecord[], opts: { codec?: number; control?: boolean; opaque?: Buffer } = {}): Buffer {
  const recs = new Enc();
  records.forEach((r, i) => {
    const body = new Enc().i8(0).varint(0).varint(i);
    const key = r.key === undefined ? null : Buffer.from(r.key);
    const value = r.value === undefined ? null : Buffer.from(r.value);
    if (key === null) body.varint(-1);
    else body.varint(key.length).raw(key);
    if (value === null) body.varint(-1);
    else body.varint(value.length).raw(value);
    const hs = r.headers ?? [];
    body.varint(hs.length);
    for (const [k, v] of hs) body.varint(Buffer.byteLength(k)).raw(Buffer.from(k)).varint(Buffer.byteLength(v)).raw(Buffer.from(v));
    const b = body.done();
    recs.varint(b.length).raw(b);
  });
  const payload = opts.codec !== undefined ? (opts.opaque ?? Buffer.from('compressed-records-opaque')) : recs.done();
  const attrs = (opts.codec ?? 0) | (opts.control === true ? 0x20 : 0);
  const after = new Enc()
    .i32(0) // partition leader epoch
    .i8(2) // magic
    .i32(0) // crc (not checked by the parser)
    .i16(attrs)
    .i32(records.length - 1)
    .i64(1_700_000_000_000)
    .i64(1_700_000_000_000)
    .i64(-1)
    .i16(-1)
    .i32(-1)
    .i32(records.length)
    .raw(payload)
    .done();
  return new Enc().i64(baseOffset).i32(after.length).raw(after).done();
}

/** a legacy message set (magic 0 or 1) of one entry per value; `codec` marks a compressed wrapper */
export function messageSet(baseOffset: number, values: string[], magic: 0 | 1 = 1, codec = 0): Buffer {
  return Buffer.concat(
    values.map((v, i) => {
      const m = new Enc().i32(0).i8(magic).i8(codec);
      if (magic === 1) m.i64(1_700_000_000_000);
      m.i32(-1).i32(Buffer.byteLength(v)).raw(Buffer.from(v));
      const body = m.done();
      return new Enc().i64(baseOffset + i).i32(body.length).raw(body).done();
    }),
  );
}

/** FLEXIBLE_FROM of the APIs built here */
const FLEX: Record<number, number> = { 0: 9, 1: 12, 3: 9, 18: 3 };

export function flexible(apiKey: number, version: number): boolean {
  return FLEX[apiKey] !== undefined && version >= FLEX[apiKey];
}

/** a whole request frame: size, header (v1, or v2 when flexible), body */
export function requestFrame(apiKey: number, version: number, correlationId: number, clientId: string | null, body: Buffer): Buffer {
  const h = new Enc().i16(apiKey).i16(version).i32(correlationId);
  h.i16(clientId === null ? -1 : Buffer.byteLength(clientId));
  if (clientId !== null) h.raw(Buffer.from(clientId));
  if (flexible(apiKey, version)) h.uvarint(0);
  const hb = h.done();
  return new Enc().i32(hb.length + body.length).raw(hb).raw(body).done();
}

/** a whole response frame: size, header (v1 when flexible, except ApiVersions: always v0), body */
export function responseFrame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const h = new Enc().i32(correlationId);
  if (flexible(apiKey, version) && apiKey !== 18) h.uvarint(0);
  const hb = h.done();
  return new Enc().i32(hb.length + body.length).raw(hb).raw(body).done();
}

export interface ProduceTopic {
  name?: string;
  id?: Buffer;
  partitions: { index: number; records: Buffer | null }[];
}

export function produceRequestBody(v: number, acks: number, topics: ProduceTopic[], transactionalId: string | null = null): Buffer {
  const e = new Enc(v >= 9);
  if (v >= 3) e.str(transactionalId);
  e.i16(acks).i32(30000);
  e.array(topics, (x, t) => {
    if (v >= 13) x.uuid(t.id as Buffer);
    else x.str(t.name as string);
    x.array(t.partitions, (y, p) => {
      y.i32(p.index).bytes(p.records);
      y.tags();
    });
    x.tags();
  });
  return e.tags().done();
}

export interface ProduceResult {
  name?: string;
  id?: Buffer;
  partitions: { index: number; error: number; baseOffset: number }[];
}

export function produceResponseBody(v: number, topics: ProduceResult[]): Buffer {
  const e = new Enc(v >= 9);
  e.array(topics, (x, t) => {
    if (v >= 13) x.uuid(t.id as Buffer);
    else x.str(t.name as string);
    x.array(t.partitions, (y, p) => {
      y.i32(p.index).i16(p.error).i64(p.baseOffset);
      if (v >= 2) y.i64(-1);
      if (v >= 5) y.i64(0);
      if (v >= 8) {
        y.array(p.error === 0 ? [] : [0], (z, i) => {
          z.i32(i).str('bad record');
          z.tags();
        });
        y.str(p.error === 0 ? null : 'rejected');
      }
      y.tags(v >= 10 && p.error !== 0 ? [[0, new Enc().i32(1).i32(5).uvarint(0).done()]] : []);
    });
    x.tags();
  });
  if (v >= 1) e.i32(0);
  return e.tags().done();
}

export interface FetchResult {
  name?: string;
  id?: Buffer;
  partitions: { index: number; error?: number; records: Buffer | null; aborted?: number }[];
}

export function fetchResponseBody(v: number, topics: FetchResult[]): Buffer {
  const e = new Enc(v >= 12);
  if (v >= 1) e.i32(0);
  if (v >= 7) e.i16(0).i32(0);
  e.array(topics, (x, t) => {
    if (v >= 13) x.uuid(t.id as Buffer);
    else x.str(t.name as string);
    x.array(t.partitions, (y, p) => {
      y.i32(p.index)
        .i16(p.error ?? 0)
        .i64(100);
      if (v >= 4) y.i64(100);
      if (v >= 5) y.i64(0);
      if (v >= 4)
        y.array(Array.from({ length: p.aborted ?? 0 }, (_, i) => i), (z, i) => {
          z.i64(7).i64(i);
          z.tags();
        });
      if (v >= 11) y.i32(-1);
      y.bytes(p.records);
      // a CurrentLeader tagged field, as brokers send on leader changes
      y.tags(v >= 12 ? [[1, new Enc().i32(1).i32(3).uvarint(0).done()]] : []);
    });
    x.tags();
  });
  return e.tags(v >= 16 ? [[0, new Enc(true).array([1], (n, id) => n.i32(id).str('broker1').i32(9092).str(null).tags()).done()]] : []).done();
}

/** a Fetch request body (the parser decodes only its header) */
export function fetchRequestBody(v: number, topics: { name?: string; id?: Buffer; partitions: number[] }[]): Buffer {
  const e = new Enc(v >= 12);
  if (v <= 14) e.i32(-1);
  e.i32(500).i32(1);
  if (v >= 3) e.i32(52428800);
  if (v >= 4) e.i8(0);
  if (v >= 7) e.i32(0).i32(-1);
  e.array(topics, (x, t) => {
    if (v >= 13) x.uuid(t.id as Buffer);
    else x.str(t.name as string);
    x.array(t.partitions, (y, p) => {
      y.i32(p);
      if (v >= 9) y.i32(-1);
      y.i64(0);
      if (v >= 12) y.i32(-1);
      if (v >= 5) y.i64(-1);
      y.i32(1048576);
      y.tags();
    });
    x.tags();
  });
  if (v >= 7) e.array([], () => undefined);
  if (v >= 11) e.str('');
  return e.tags().done();
}

export function metadataRequestBody(v: number, topics: string[] | null): Buffer {
  const e = new Enc(v >= 9);
  e.array(topics, (x, t) => {
    if (v >= 10) x.uuid(Buffer.alloc(16));
    x.str(t);
    x.tags();
  });
  if (v >= 4) e.i8(1);
  if (v >= 8 && v <= 10) e.i8(0);
  if (v >= 8) e.i8(0);
  return e.tags().done();
}

export function metadataResponseBody(v: number, topics: { name: string; id?: Buffer; partitions: number }[]): Buffer {
  const e = new Enc(v >= 9);
  if (v >= 3) e.i32(0);
  e.array([1], (x, id) => {
    x.i32(id).str('127.0.0.1').i32(9092);
    if (v >= 1) x.str(null);
    x.tags();
  });
  if (v >= 2) e.str('cluster-1');
  if (v >= 1) e.i32(1);
  e.array(topics, (x, t) => {
    x.i16(0).str(t.name);
    if (v >= 10) x.uuid(t.id ?? Buffer.alloc(16));
    if (v >= 1) x.i8(0);
    x.array(
      Array.from({ length: t.partitions }, (_, i) => i),
      (y, p) => {
        y.i16(0).i32(p).i32(1);
        if (v >= 7) y.i32(0);
        y.array([1], (z, n) => z.i32(n)).array([1], (z, n) => z.i32(n));
        if (v >= 5) y.array([], () => undefined);
        y.tags();
      },
    );
    if (v >= 8) x.i32(-2147483648);
    x.tags();
  });
  if (v >= 8 && v <= 10) e.i32(-2147483648);
  if (v >= 13) e.i16(0);
  return e.tags().done();
}

export function apiVersionsRequestBody(v: number): Buffer {
  if (v < 3) return Buffer.alloc(0);
  return new Enc(true).str('obi-test-client').str('1.0.0').tags().done();
}

export function apiVersionsResponseBody(v: number, apis: [number, number, number][]): Buffer {
  const e = new Enc(v >= 3);
  e.i16(0).array(apis, (x, [k, lo, hi]) => {
    x.i16(k).i16(lo).i16(hi);
    x.tags();
  });
  if (v >= 1) e.i32(0);
  return e.tags().done();
}
