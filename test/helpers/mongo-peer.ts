/**
 * A MongoDB server peer for the tests, written for them from the public MongoDB Wire Protocol
 * reference and the OP_MSG / OP_COMPRESSED / handshake specifications. No MongoDB server can be
 * installed on these machines (it is not packaged for Debian and its downloads are not
 * reachable), so the real clients (the `mongodb` npm driver, Python pymongo) talk to this peer.
 *
 * What it answers: the handshake (`hello` / `isMaster` over OP_QUERY or OP_MSG, with
 * compression negotiation), `ping`, `buildInfo`, `endSessions`, CRUD (`insert` with duplicate
 * `_id` write errors, `find` with equality filters, batchSize and cursors, `getMore` including
 * exhaust streams, `killCursors`, `update` with `$set`, `delete`, `count`), and `ok: 0` with
 * `CommandNotFound` for anything else. Replies to an OP_COMPRESSED request are compressed with
 * the same compressor (zlib, zstd, or none). With `maxWireVersion < 6` the peer is a pre-3.6
 * server: no OP_MSG, clients send commands as OP_QUERY on `<db>.$cmd` and get OP_REPLY.
 *
 * Every connection's bytes are recorded in order (`captures`), to write parser fixtures from.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { deflateSync, inflateSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { BSON, Long, type Document } from 'bson';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_GET_MORE = 2005;
const OP_COMPRESSED = 2012;
/** OP_QUERY flag: stream every batch without OP_GET_MORE */
const QUERY_EXHAUST = 64;
const OP_MSG = 2013;
const MORE_TO_COME = 2;
const EXHAUST_ALLOWED = 1 << 16;

export interface CaptureChunk {
  readonly type: 'request' | 'response';
  readonly data: Buffer;
}

export interface MongoPeerOptions {
  /** 17 (MongoDB 6.0) by default; below 6 the peer speaks only OP_QUERY / OP_REPLY */
  readonly maxWireVersion?: number;
}

export interface MongoPeer {
  readonly port: number;
  /** bytes of each connection, in the order they were read and written */
  readonly captures: CaptureChunk[][];
  stop(): Promise<void>;
}

interface Cursor {
  readonly ns: string;
  docs: Document[];
}

interface Incoming {
  readonly requestId: number;
  readonly opCode: number;
  readonly flags: number;
  readonly command: Document;
  /** compressor id of the request (replies use the same), or -1 */
  readonly compressor: number;
  /** OP_QUERY on a collection (not `$cmd`): a legacy query */
  readonly legacyNs?: string;
  readonly numberToReturn?: number;
}

function compress(id: number, data: Buffer): Buffer {
  return id === 2 ? deflateSync(data) : id === 3 ? zstdCompressSync(data) : data;
}

function decompress(id: number, data: Buffer): Buffer {
  return id === 2 ? inflateSync(data) : id === 3 ? zstdDecompressSync(data) : data;
}

/** equality on top-level fields */
function matches(doc: Document, filter: Document | undefined): boolean {
  if (filter === undefined) return true;
  return Object.entries(filter).every(([k, v]) => JSON.stringify(doc[k]) === JSON.stringify(v));
}

export async function startMongoPeer(options: MongoPeerOptions = {}): Promise<MongoPeer> {
  const maxWire = options.maxWireVersion ?? 17;
  const data = new Map<string, Document[]>(); // "db.coll" -> documents
  const cursors = new Map<string, Cursor>();
  let nextCursor = 1000n;
  let nextReply = 1;
  let connections = 0;
  const captures: CaptureChunk[][] = [];
  const sockets = new Set<Socket>();

  const coll = (ns: string): Document[] => {
    let c = data.get(ns);
    if (c === undefined) data.set(ns, (c = []));
    return c;
  };

  const batch = (ns: string, docs: Document[], size: number, first: boolean): Document => {
    const now = docs.slice(0, size);
    const rest = docs.slice(size);
    let id = 0n;
    if (rest.length > 0) {
      id = nextCursor++;
      cursors.set(id.toString(), { ns, docs: rest });
    }
    return { cursor: { [first ? 'firstBatch' : 'nextBatch']: now, id: Long.fromBigInt(id), ns }, ok: 1 };
  };

  const hello = (conn: number, cmd: Document): Document => {
    const offered = Array.isArray(cmd.compression) ? (cmd.compression as string[]) : [];
    const compression = offered.filter((c) => c === 'zlib' || c === 'zstd');
    return {
      ismaster: true,
      isWritablePrimary: true,
      helloOk: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId: conn,
      minWireVersion: 0,
      maxWireVersion: maxWire,
      readOnly: false,
      ...(compression.length > 0 ? { compression } : {}),
      ok: 1,
    };
  };

  const run = (conn: number, db: string, cmd: Document): Document => {
    const name = Object.keys(cmd)[0] ?? '';
    const ns = (c: unknown) => `${db}.${String(c)}`;
    switch (name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return hello(conn, cmd);
      case 'ping':
      case 'endSessions':
        return { ok: 1 };
      case 'buildInfo':
      case 'buildinfo':
        return { version: '6.0.0', versionArray: [6, 0, 0, 0], ok: 1 };
      case 'insert': {
        const c = coll(ns(cmd.insert));
        const writeErrors: Document[] = [];
        let n = 0;
        (cmd.documents as Document[]).forEach((d, index) => {
          if (c.some((x) => JSON.stringify(x._id) === JSON.stringify(d._id))) {
            writeErrors.push({ index, code: 11000, errmsg: `E11000 duplicate key error collection: ${ns(cmd.insert)} index: _id_ dup key: { _id: ${JSON.stringify(d._id)} }` });
            return;
          }
          c.push(d);
          n++;
        });
        return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
      }
      case 'find': {
        const docs = coll(ns(cmd.find)).filter((d) => matches(d, cmd.filter as Document));
        const limited = typeof cmd.limit === 'number' && cmd.limit > 0 ? docs.slice(0, cmd.limit) : docs;
        return batch(ns(cmd.find), limited, typeof cmd.batchSize === 'number' && cmd.batchSize > 0 && cmd.singleBatch !== true ? cmd.batchSize : limited.length, true);
      }
      case 'getMore': {
        const id = (cmd.getMore as Long).toBigInt().toString();
        const cur = cursors.get(id);
        if (cur === undefined) return { ok: 0, errmsg: `cursor id ${id} not found`, code: 43, codeName: 'CursorNotFound' };
        cursors.delete(id);
        return batch(cur.ns, cur.docs, typeof cmd.batchSize === 'number' && cmd.batchSize > 0 ? cmd.batchSize : cur.docs.length, false);
      }
      case 'killCursors': {
        const ids = (cmd.cursors as Long[]).map((l) => l.toBigInt().toString());
        for (const id of ids) cursors.delete(id);
        return { cursorsKilled: cmd.cursors, cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      }
      case 'update': {
        let n = 0;
        for (const u of cmd.updates as Document[]) {
          for (const d of coll(ns(cmd.update))) {
            if (!matches(d, u.q as Document)) continue;
            Object.assign(d, (u.u as Document).$set ?? {});
            n++;
            if (u.multi !== true) break;
          }
        }
        return { n, nModified: n, ok: 1 };
      }
      case 'delete': {
        let n = 0;
        const c = coll(ns(cmd.delete));
        for (const del of cmd.deletes as Document[]) {
          for (let i = 0; i < c.length; ) {
            if (matches(c[i], del.q as Document)) {
              c.splice(i, 1);
              n++;
              if (del.limit === 1) break;
            } else i++;
          }
        }
        return { n, ok: 1 };
      }
      case 'count':
        return { n: coll(ns(cmd.count)).filter((d) => matches(d, cmd.query as Document)).length, ok: 1 };
      default:
        return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
    }
  };

  const frame = (opCode: number, responseTo: number, body: Buffer, compressor: number): Buffer => {
    const requestId = nextReply++;
    if (compressor >= 0) {
      const z = compress(compressor, body);
      const h = Buffer.alloc(25);
      h.writeInt32LE(25 + z.length, 0);
      h.writeInt32LE(requestId, 4);
      h.writeInt32LE(responseTo, 8);
      h.writeInt32LE(OP_COMPRESSED, 12);
      h.writeInt32LE(opCode, 16);
      h.writeInt32LE(body.length, 20);
      h.writeUInt8(compressor, 24);
      return Buffer.concat([h, z]);
    }
    const h = Buffer.alloc(16);
    h.writeInt32LE(16 + body.length, 0);
    h.writeInt32LE(requestId, 4);
    h.writeInt32LE(responseTo, 8);
    h.writeInt32LE(opCode, 12);
    return Buffer.concat([h, body]);
  };

  const msgBody = (doc: Document, flags: number): Buffer => {
    const f = Buffer.alloc(5);
    f.writeUInt32LE(flags, 0);
    f.writeUInt8(0, 4);
    return Buffer.concat([f, BSON.serialize(doc)]);
  };

  const replyBody = (doc: Document, queryFailure = false): Buffer => replyDocs([doc], 0n, 0, queryFailure);

  const replyDocs = (docs: Document[], cursorId: bigint, from: number, queryFailure = false): Buffer => {
    const f = Buffer.alloc(20);
    f.writeInt32LE(queryFailure ? 2 : 8, 0); // AwaitCapable (8)
    f.writeBigInt64LE(cursorId, 4);
    f.writeInt32LE(from, 12);
    f.writeInt32LE(docs.length, 16); // numberReturned
    return Buffer.concat([f, ...docs.map((d) => BSON.serialize(d))]);
  };

  /** a legacy OP_QUERY on a collection or OP_GET_MORE: batches of documents in OP_REPLY, streamed when exhaust */
  const legacyQuery = (conn: number, db: string, inc: Incoming, send: (b: Buffer) => void): void => {
    let docs: Document[];
    let ns = inc.legacyNs as string;
    if (inc.opCode === OP_GET_MORE) {
      const id = (inc.command.getMore as Long).toBigInt().toString();
      const cur = cursors.get(id);
      cursors.delete(id);
      docs = cur?.docs ?? [];
      ns = cur?.ns ?? ns;
    } else {
      docs = coll(ns).filter((d) => matches(d, inc.command.filter as Document));
    }
    const size = Math.abs(inc.numberToReturn ?? 0) || docs.length;
    let to = inc.requestId;
    for (;;) {
      const now = docs.slice(0, size);
      docs = docs.slice(size);
      let id = 0n;
      if (docs.length > 0) id = nextCursor++;
      const out = frame(OP_REPLY, to, replyDocs(now, id, 0), inc.compressor);
      if (id !== 0n && (inc.flags & QUERY_EXHAUST) === 0) cursors.set(id.toString(), { ns, docs });
      send(out);
      if (id === 0n || (inc.flags & QUERY_EXHAUST) === 0) return;
      to = out.readInt32LE(4); // the next reply answers this one
    }
  };

  /** decode one whole message (header included) */
  const decode = (m: Buffer): Incoming | undefined => {
    let opCode = m.readInt32LE(12);
    const requestId = m.readInt32LE(4);
    let body = m.subarray(16);
    let compressor = -1;
    if (opCode === OP_COMPRESSED) {
      compressor = m[24];
      opCode = m.readInt32LE(16);
      body = decompress(compressor, m.subarray(25));
    }
    if (opCode === OP_MSG) {
      const flags = body.readUInt32LE(0);
      const end = body.length - ((flags & 1) !== 0 ? 4 : 0);
      let command: Document = {};
      const seqs: Record<string, Document[]> = {};
      for (let p = 4; p < end; ) {
        if (body[p] === 0) {
          const n = body.readInt32LE(p + 1);
          command = BSON.deserialize(body.subarray(p + 1, p + 1 + n), { promoteLongs: false });
          p += 1 + n;
        } else {
          const size = body.readInt32LE(p + 1);
          const idEnd = body.indexOf(0, p + 5);
          const id = body.toString('utf8', p + 5, idEnd);
          const docs: Document[] = [];
          for (let q = idEnd + 1; q < p + 1 + size; ) {
            const n = body.readInt32LE(q);
            docs.push(BSON.deserialize(body.subarray(q, q + n), { promoteLongs: false }));
            q += n;
          }
          seqs[id] = docs;
          p += 1 + size;
        }
      }
      return { requestId, opCode, flags, command: { ...command, ...seqs }, compressor };
    }
    if (opCode === OP_QUERY) {
      const nsEnd = body.indexOf(0, 4);
      const ns = body.toString('utf8', 4, nsEnd);
      const q = nsEnd + 1 + 8;
      const n = body.readInt32LE(q);
      let command = BSON.deserialize(body.subarray(q, q + n), { promoteLongs: false });
      if (command.$query !== undefined) command = command.$query as Document;
      const [db, c] = [ns.slice(0, ns.indexOf('.')), ns.slice(ns.indexOf('.') + 1)];
      if (c === '$cmd') return { requestId, opCode, flags: 0, command: { ...command, $db: db }, compressor };
      return { requestId, opCode, flags: body.readInt32LE(0), command: { find: c, filter: command, $db: db }, compressor, legacyNs: ns, numberToReturn: body.readInt32LE(nsEnd + 5) };
    }
    if (opCode === OP_GET_MORE) {
      const nsEnd = body.indexOf(0, 4);
      const ns = body.toString('utf8', 4, nsEnd);
      const n = body.readInt32LE(nsEnd + 1);
      const id = body.readBigInt64LE(nsEnd + 5);
      return { requestId, opCode, flags: 0, command: { getMore: Long.fromBigInt(id) }, compressor, legacyNs: ns, numberToReturn: n };
    }
    return undefined;
  };

  const server: Server = createServer((sock) => {
    const conn = ++connections;
    const capture: CaptureChunk[] = [];
    captures.push(capture);
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let pending = Buffer.alloc(0);
    const send = (b: Buffer): void => {
      capture.push({ type: 'response', data: b });
      sock.write(b);
    };
    sock.on('data', (chunk: Buffer) => {
      capture.push({ type: 'request', data: Buffer.from(chunk) });
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const len = pending.readInt32LE(0);
        const m = pending.subarray(0, len);
        pending = pending.subarray(len);
        const inc = decode(m);
        if (inc === undefined) continue;
        const db = typeof inc.command.$db === 'string' ? inc.command.$db : 'admin';
        if (inc.legacyNs !== undefined) {
          legacyQuery(conn, db, inc, send);
          continue;
        }
        const result = run(conn, db, inc.command);
        if (inc.opCode === OP_QUERY) {
          send(frame(OP_REPLY, inc.requestId, replyBody(result), inc.compressor));
          continue;
        }
        if ((inc.flags & MORE_TO_COME) !== 0) continue; // no reply wanted
        const name = Object.keys(inc.command)[0];
        if (name === 'getMore' && (inc.flags & EXHAUST_ALLOWED) !== 0) {
          // exhaust: one document per reply, each answering the previous reply, until the cursor is spent
          let reply = result;
          let to = inc.requestId;
          for (;;) {
            const cur = reply.cursor as Document | undefined;
            const id = cur?.id as Long | undefined;
            const more = id !== undefined && !id.isZero();
            const out = frame(OP_MSG, to, msgBody(reply, more ? MORE_TO_COME : 0), inc.compressor);
            to = out.readInt32LE(4);
            send(out);
            if (!more) break;
            reply = run(conn, db, { getMore: id, collection: inc.command.collection, batchSize: inc.command.batchSize });
          }
          continue;
        }
        send(frame(OP_MSG, inc.requestId, msgBody(result, 0), inc.compressor));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    captures,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
