// Over 400 lines: one broker peer answering twelve Kafka APIs in the versions the clients under test use, its encoder and decoder beside it.
/**
 * A Kafka broker peer for the tests, written from the public protocol specification (the Kafka
 * protocol guide and the message JSON definitions of clients/src/main/resources/common/message):
 * no Kafka broker can be installed on these machines (Kafka is not packaged for Debian and Maven
 * is not reachable), so the real clients (`kafkajs`, Python `kafka-python`) talk to this.
 *
 * One node (id 1) on 127.0.0.1, topics created on first mention with one partition, messages kept
 * in memory as the record batches the producers sent (offsets assigned, CRC untouched: it does
 * not cover the base offset), each topic with an id (for the versions that name topics by id).
 * It answers, in the versions advertised by its ApiVersions response (PEER_API_VERSIONS):
 *   ApiVersions v0-3, Metadata v0-12, Produce v3-11 (record batches, magic 2), Fetch v4-17,
 *   ListOffsets v1-2, FindCoordinator v0-1, JoinGroup v0-2, SyncGroup v0-1, Heartbeat v0-1,
 *   LeaveGroup v0-1, OffsetFetch v1-3, OffsetCommit v2-3
 * — enough for a producer and for a consumer, alone in its group or assigned its partitions.
 * Flexible versions (compact strings and arrays, tagged fields; request header v2, response
 * header v1 except for ApiVersions) for ApiVersions v3, Metadata v9+, Produce v9+ and Fetch v12+;
 * topics by id in Metadata v10+ and Fetch v13+. Clients pick, for each API, the highest version
 * both sides support. Every connection's bytes are recorded, in the chunks they were read and
 * written, so tests can turn a session into parser fixtures.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** [api key, min version, max version] advertised */
export const PEER_API_VERSIONS: readonly (readonly [number, number, number])[] = Object.freeze([
  [0, 3, 11], // Produce
  [1, 4, 17], // Fetch
  [2, 1, 2], // ListOffsets
  [3, 0, 12], // Metadata
  [8, 2, 3], // OffsetCommit
  [9, 1, 3], // OffsetFetch
  [10, 0, 1], // FindCoordinator
  [11, 0, 2], // JoinGroup
  [12, 0, 1], // Heartbeat
  [13, 0, 1], // LeaveGroup
  [14, 0, 1], // SyncGroup
  [18, 0, 3], // ApiVersions
]);

const NODE_ID = 1;
const ERR_UNSUPPORTED_VERSION = 35;

/** one chunk of a recorded session: what the client sent (`request`) or the peer wrote (`response`) */
export interface PeerChunk {
  readonly type: 'request' | 'response';
  readonly data: Buffer;
}

export interface PeerSession {
  readonly chunks: PeerChunk[];
  /** API keys of the requests, in order */
  readonly apiKeys: number[];
  /** API key -> versions used */
  readonly versions: Map<number, Set<number>>;
}

interface Partition {
  /** batches as stored: [baseOffset, bytes] */
  readonly batches: { base: number; count: number; bytes: Buffer }[];
  next: number;
}

export interface KafkaPeer {
  readonly port: number;
  readonly sessions: PeerSession[];
  /** messages stored per topic */
  messages(topic: string): number;
  /** topic id (16 bytes) of a topic (assigned when created) */
  topicId(topic: string): Buffer | undefined;
  stop(): Promise<void>;
}

// ------------------------------------------------------------------ encoding

/** first flexible version (compact strings and arrays, tagged fields) of the APIs answered in flexible versions */
const FLEXIBLE_FROM: Readonly<Record<number, number>> = { 0: 9, 1: 12, 3: 9, 18: 3 };
const isFlexible = (apiKey: number, v: number): boolean => FLEXIBLE_FROM[apiKey] !== undefined && v >= FLEXIBLE_FROM[apiKey];

function uvarintBytes(v: number): Buffer {
  const out: number[] = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Buffer.from(out);
}

class W {
  private readonly _parts: Buffer[] = [];
  flex = false;
  i8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this._parts.push(b);
    return this;
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this._parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this._parts.push(b);
    return this;
  }
  i64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    this._parts.push(b);
    return this;
  }
  private _len(n: number, wide: boolean): this {
    if (this.flex) this._parts.push(uvarintBytes(n + 1));
    else if (wide) this.i32(n);
    else this.i16(n);
    return this;
  }
  str(s: string | null): this {
    if (s === null) return this._len(-1, false);
    const b = Buffer.from(s, 'utf8');
    this._len(b.length, false);
    this._parts.push(b);
    return this;
  }
  bytes(b: Buffer | null): this {
    if (b === null) return this._len(-1, true);
    this._len(b.length, true);
    this._parts.push(b);
    return this;
  }
  raw(b: Buffer): this {
    this._parts.push(b);
    return this;
  }
  /** an empty tagged-field section, in flexible versions */
  tags(): this {
    if (this.flex) this._parts.push(Buffer.from([0]));
    return this;
  }
  array<T>(items: readonly T[] | null, each: (w: W, item: T) => void): this {
    if (items === null) return this._len(-1, true);
    this._len(items.length, true);
    for (const it of items) each(this, it);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this._parts);
  }
}

class R {
  o = 0;
  flex = false;
  readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }
  i8(): number {
    const v = this.b.readInt8(this.o);
    this.o += 1;
    return v;
  }
  i16(): number {
    const v = this.b.readInt16BE(this.o);
    this.o += 2;
    return v;
  }
  i32(): number {
    const v = this.b.readInt32BE(this.o);
    this.o += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.b.readBigInt64BE(this.o));
    this.o += 8;
    return v;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.b[this.o++];
      if (b === undefined) throw new Error('truncated varint');
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
  }
  uuid(): Buffer {
    const v = this.b.subarray(this.o, this.o + 16);
    this.o += 16;
    return v;
  }
  private _len(wide: boolean): number {
    if (this.flex) return this.uvarint() - 1;
    return wide ? this.i32() : this.i16();
  }
  str(): string | null {
    const n = this._len(false);
    if (n < 0) return null;
    const s = this.b.toString('utf8', this.o, this.o + n);
    this.o += n;
    return s;
  }
  bytes(): Buffer | null {
    const n = this._len(true);
    if (n < 0) return null;
    const s = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return s;
  }
  /** skip a tagged-field section, in flexible versions */
  tags(): void {
    if (!this.flex) return;
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.o += this.uvarint();
    }
  }
  array<T>(each: (r: R) => T): T[] | null {
    const n = this._len(true);
    if (n < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }
}

// ------------------------------------------------------------------ the broker

export async function startKafkaPeer(opts: { port?: number } = {}): Promise<KafkaPeer> {
  const topics = new Map<string, { id: Buffer; partitions: Partition[] }>();
  const committed = new Map<string, number>();
  const sessions: PeerSession[] = [];
  let generation = 0;
  let memberSeq = 0;
  let assignment: Buffer = Buffer.alloc(0);
  let port = opts.port ?? 0;

  const topic = (name: string): { id: Buffer; partitions: Partition[] } => {
    let t = topics.get(name);
    if (t === undefined) {
      const id = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) id[i] = (name.charCodeAt(i % name.length) * 31 + i * 7 + topics.size) & 0xff;
      t = { id, partitions: [{ batches: [], next: 0 }] };
      topics.set(name, t);
    }
    return t;
  };

  /** set by a Fetch that found nothing: its response waits (long poll), as a broker's would */
  let idleWaitMs = 0;
  const handle = (apiKey: number, v: number, r: R, flex: boolean): W | undefined => {
    const w = new W();
    w.flex = flex;
    idleWaitMs = 0;
    switch (apiKey) {
      case 18: {
        // ApiVersions v0-3 (v3: flexible body, response header v0)
        if (v >= 3) {
          r.str(); // client software name
          r.str(); // client software version
          r.tags();
        }
        const ok = v <= 3;
        if (!ok) w.flex = false; // an unsupported version is answered in v0, as brokers do
        w.i16(ok ? 0 : ERR_UNSUPPORTED_VERSION).array(PEER_API_VERSIONS, (x, [k, lo, hi]) => x.i16(k).i16(lo).i16(hi).tags());
        if (v >= 1 && ok) w.i32(0);
        w.tags();
        return w;
      }
      case 3: {
        // Metadata v0-12 (v9+ flexible, v10+ topic ids)
        const wanted = r.array((x) => {
          if (v >= 10) x.uuid();
          const n = x.str();
          x.tags();
          return n ?? '';
        });
        const auto = v >= 4 ? r.i8() !== 0 : true;
        const names = wanted === null || (v === 0 && wanted.length === 0) ? [...topics.keys()] : wanted;
        if (auto) for (const n of names) topic(n);
        if (v >= 3) w.i32(0);
        w.array([NODE_ID], (x, id) => {
          x.i32(id).str('127.0.0.1').i32(port);
          if (v >= 1) x.str(null);
          x.tags();
        });
        if (v >= 2) w.str('obi-test-cluster');
        if (v >= 1) w.i32(NODE_ID);
        w.array(names, (x, n) => {
          const t = topics.get(n);
          x.i16(t === undefined ? 3 : 0).str(n);
          if (v >= 10) x.raw(t?.id ?? Buffer.alloc(16));
          if (v >= 1) x.i8(0);
          x.array(t === undefined ? [] : t.partitions.map((_, i) => i), (y, p) => {
            y.i16(0).i32(p).i32(NODE_ID);
            if (v >= 7) y.i32(0);
            y.array([NODE_ID], (z, id) => z.i32(id)).array([NODE_ID], (z, id) => z.i32(id));
            if (v >= 5) y.array([], () => undefined);
            y.tags();
          });
          if (v >= 8) x.i32(-2147483648);
          x.tags();
        });
        if (v >= 8 && v <= 10) w.i32(-2147483648);
        w.tags();
        return w;
      }
      case 0: {
        // Produce v3-11 (v9+ flexible)
        r.str(); // transactional id
        const acks = r.i16();
        r.i32();
        const data =
          r.array((x) => {
            const name = x.str() ?? '';
            const parts =
              x.array((y) => {
                const q = { p: y.i32(), records: y.bytes() };
                y.tags();
                return q;
              }) ?? [];
            x.tags();
            return { name, parts };
          }) ?? [];
        const results = data.map(({ name, parts }) => ({
          name,
          parts: parts.map(({ p, records }) => {
            const part = topic(name).partitions[p];
            if (part === undefined) return { p, err: 3, base: -1 };
            const base = part.next;
            let o = 0;
            const rec = records ?? Buffer.alloc(0);
            while (o + 61 <= rec.length) {
              const len = rec.readInt32BE(o + 8);
              const bytes = Buffer.from(rec.subarray(o, o + 12 + len));
              const count = bytes.readInt32BE(57);
              bytes.writeBigInt64BE(BigInt(part.next), 0);
              part.batches.push({ base: part.next, count, bytes });
              part.next += count;
              o += 12 + len;
            }
            return { p, err: 0, base };
          }),
        }));
        if (acks === 0) return undefined;
        w.array(results, (x, t) => {
          x.str(t.name).array(t.parts, (y, q) => {
            y.i32(q.p).i16(q.err).i64(q.base);
            if (v >= 2) y.i64(-1);
            if (v >= 5) y.i64(0);
            if (v >= 8) y.array([], () => undefined).str(null);
            y.tags();
          });
          x.tags();
        });
        w.i32(0);
        w.tags();
        return w;
      }
      case 1: {
        // Fetch v4-17 (v12+ flexible, v13+ topic ids, v15+ no replica id)
        if (v <= 14) r.i32(); // replica
        const maxWait = r.i32();
        r.i32(); // min bytes
        const maxBytes = r.i32();
        r.i8(); // isolation
        if (v >= 7) {
          r.i32();
          r.i32();
        }
        const byId = (id: Buffer): string => [...topics].find(([, t]) => t.id.equals(id))?.[0] ?? '';
        const req =
          r.array((x) => {
            const name = v >= 13 ? byId(x.uuid()) : (x.str() ?? '');
            const parts =
              x.array((y) => {
                const p = y.i32();
                if (v >= 9) y.i32();
                const offset = y.i64();
                if (v >= 12) y.i32();
                if (v >= 5) y.i64();
                const max = y.i32();
                y.tags();
                return { p, offset, max };
              }) ?? [];
            x.tags();
            return { name, parts };
          }) ?? [];
        let budget = maxBytes;
        let found = 0;
        w.i32(0);
        if (v >= 7) w.i16(0).i32(0);
        w.array(req, (x, t) => {
          if (v >= 13) x.raw(topics.get(t.name)?.id ?? Buffer.alloc(16));
          else x.str(t.name);
          x.array(t.parts, (y, q) => {
            const part = topics.get(t.name)?.partitions[q.p];
            y.i32(q.p).i16(part === undefined ? (v >= 13 ? 100 : 3) : 0).i64(part?.next ?? -1).i64(part?.next ?? -1);
            if (v >= 5) y.i64(0);
            y.array([], () => undefined); // aborted transactions
            if (v >= 11) y.i32(-1);
            const out: Buffer[] = [];
            let size = 0;
            for (const b of part?.batches ?? []) {
              if (b.base + b.count <= q.offset) continue;
              if (size + b.bytes.length > Math.min(q.max, budget) && size > 0) break;
              out.push(b.bytes);
              size += b.bytes.length;
            }
            budget -= size;
            found += size;
            y.bytes(Buffer.concat(out));
            y.tags();
          });
          x.tags();
        });
        w.tags();
        if (found === 0) idleWaitMs = Math.min(Math.max(maxWait, 0), 100);
        return w;
      }
      case 2: {
        // ListOffsets v1-2
        r.i32();
        if (v >= 2) r.i8();
        const req = r.array((x) => ({ name: x.str() ?? '', parts: x.array((y) => ({ p: y.i32(), ts: y.i64() })) ?? [] })) ?? [];
        if (v >= 2) w.i32(0);
        w.array(req, (x, t) =>
          x.str(t.name).array(t.parts, (y, q) => {
            const part = topic(t.name).partitions[q.p];
            y.i32(q.p).i16(part === undefined ? 3 : 0).i64(-1).i64(q.ts === -2 ? 0 : (part?.next ?? 0));
          }),
        );
        return w;
      }
      case 10: {
        // FindCoordinator v0-1
        r.str();
        if (v >= 1) w.i32(0);
        w.i16(0);
        if (v >= 1) w.str(null);
        w.i32(NODE_ID).str('127.0.0.1').i32(port);
        return w;
      }
      case 11: {
        // JoinGroup v0-2: every join is a new generation with the joiner alone, as leader
        r.str();
        r.i32();
        if (v >= 1) r.i32();
        let member = r.str() ?? '';
        const protocolType = r.str();
        const protocols = r.array((x) => ({ name: x.str() ?? '', meta: x.bytes() ?? Buffer.alloc(0) })) ?? [];
        if (member === '') member = `member-${++memberSeq}`;
        generation++;
        void protocolType;
        if (v >= 2) w.i32(0);
        w.i16(0).i32(generation).str(protocols[0]?.name ?? '').str(member).str(member);
        w.array(protocols.slice(0, 1), (x, p) => x.str(member).bytes(p.meta));
        return w;
      }
      case 14: {
        // SyncGroup v0-1
        r.str();
        r.i32();
        const member = r.str();
        const assignments = r.array((x) => ({ member: x.str(), a: x.bytes() ?? Buffer.alloc(0) })) ?? [];
        const mine = assignments.find((a) => a.member === member);
        if (mine !== undefined) assignment = Buffer.from(mine.a);
        if (v >= 1) w.i32(0);
        w.i16(0).bytes(assignment);
        return w;
      }
      case 12: // Heartbeat v0-1
      case 13: // LeaveGroup v0-1
        if (v >= 1) w.i32(0);
        w.i16(0);
        return w;
      case 9: {
        // OffsetFetch v1-3
        const group = r.str() ?? '';
        const req = r.array((x) => ({ name: x.str() ?? '', parts: x.array((y) => y.i32()) ?? [] })) ?? [];
        if (v >= 3) w.i32(0);
        w.array(req, (x, t) => x.str(t.name).array(t.parts, (y, p) => y.i32(p).i64(committed.get(`${group}/${t.name}/${p}`) ?? -1).str('').i16(0)));
        if (v >= 2) w.i16(0);
        return w;
      }
      case 8: {
        // OffsetCommit v2-3
        const group = r.str() ?? '';
        r.i32();
        r.str();
        r.i64();
        const req = r.array((x) => ({ name: x.str() ?? '', parts: x.array((y) => ({ p: y.i32(), offset: y.i64(), meta: y.str() })) ?? [] })) ?? [];
        for (const t of req) for (const q of t.parts) committed.set(`${group}/${t.name}/${q.p}`, q.offset);
        if (v >= 3) w.i32(0);
        w.array(req, (x, t) => x.str(t.name).array(t.parts, (y, q) => y.i32(q.p).i16(0)));
        return w;
      }
      default:
        return undefined;
    }
  };

  const sockets = new Set<Socket>();
  const onConnection = (sock: Socket): void => {
    const session: PeerSession = { chunks: [], apiKeys: [], versions: new Map() };
    sessions.push(session);
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let pending = Buffer.alloc(0);
    /** responses leave in request order; an empty Fetch holds the ones behind it */
    let queue: Promise<void> = Promise.resolve();
    sock.on('data', (d: Buffer) => {
      session.chunks.push({ type: 'request', data: Buffer.from(d) });
      pending = pending.length === 0 ? Buffer.from(d) : Buffer.concat([pending, d]);
      while (pending.length >= 4) {
        const n = pending.readInt32BE(0);
        if (pending.length < 4 + n) break;
        const frame = pending.subarray(4, 4 + n);
        pending = pending.subarray(4 + n);
        const r = new R(frame);
        const apiKey = r.i16();
        const version = r.i16();
        const corr = r.i32();
        r.str(); // client id
        const flex = isFlexible(apiKey, version);
        r.flex = flex;
        r.tags(); // request header v2 in flexible versions
        session.apiKeys.push(apiKey);
        let vs = session.versions.get(apiKey);
        if (vs === undefined) session.versions.set(apiKey, (vs = new Set()));
        vs.add(version);
        const supported = PEER_API_VERSIONS.find(([k]) => k === apiKey);
        let body: W | undefined;
        if (supported === undefined || ((version < supported[1] || version > supported[2]) && apiKey !== 18)) {
          sock.destroy(new Error(`kafka peer: API ${apiKey} v${version} not implemented`));
          return;
        }
        try {
          body = handle(apiKey, version, r, flex);
        } catch (err) {
          if (process.env.KAFKA_PEER_DEBUG) console.error("kafka peer:", err);
          sock.destroy(err as Error);
          return;
        }
        if (body === undefined) continue;
        const payload = body.done();
        const hdr = flex && apiKey !== 18 ? 9 : 8; // response header v1 (tagged fields) in flexible versions, but ApiVersions always v0
        const out = Buffer.alloc(hdr + payload.length);
        out.writeInt32BE(hdr - 4 + payload.length, 0);
        out.writeInt32BE(corr, 4);
        payload.copy(out, hdr);
        const wait = idleWaitMs;
        queue = queue.then(async () => {
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
          if (sock.destroyed) return;
          session.chunks.push({ type: 'response', data: out });
          sock.write(out);
        });
      }
    });
    sock.on('error', () => undefined);
  };

  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    port,
    sessions,
    messages: (name) => topics.get(name)?.partitions.reduce((n, p) => n + p.batches.reduce((m, b) => m + b.count, 0), 0) ?? 0,
    topicId: (name) => topics.get(name)?.id,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
