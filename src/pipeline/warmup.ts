/**
 * The ingest path's JIT warm-up: once, when the agent selects its first process (before that pid
 * enters the kernel's filter; pipeline/agent.ts), synthetic HTTP/1.1 exchanges (server and
 * client connections, as the kernel frames them) go through the decoder, a connection tracker, the
 * protocol parsers, the correlator and the record-to-span step, all private instances: no span,
 * metric or connection of the agent sees them. V8 keeps what it learns per function, not per
 * instance, so the first real drains find that code compiled and optimized.
 *
 * Why: a cold agent handles its first records at 10-150 µs each against ~3 µs warm (bytecode
 * compiled on first call, feedback gathered, the optimizing compilers' background threads starved
 * by the load itself). Measured with nginx and wrk both traced (`bench/run.ts` nginx-prop-*), wrk
 * starting after the agent: the first ~0.7 s took 13 µs per record on average, the 4 MiB ring
 * filled, and 5 of 26 starts lost 135-8,057 events (the bench's warm-ups: 2 of 12). With this warm-up
 * (~220-260 ms): 0 of 63, and the backlog of the first drains cleared within ~0.2 s. Its price is
 * memory: ~17 MB on an agent that would stay idle (the young generation grown to its cap, compiled
 * code), which is why it waits for a first selection; under load that memory is in use anyway.
 *
 * Only HTTP/1 is exercised: the most common protocol, and the one whose parser, header walk and
 * span attributes make most of the per-record work. The other protocols stay cold until used.
 */
import {
  OBI_BATCH_ALIGN,
  OBI_BATCH_LEN_BYTES,
  OBI_CONN_EVENT_SIZE,
  OBI_DATA_EVENT_SIZE,
  ObiConnEventOffsets,
  ObiDataEventOffsets,
  ObiDataFlags,
  ObiDirection,
  ObiEventType,
  ObiRole,
} from '../abi/events.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { TraceIds } from '../common/trace.ts';
import { ConnectionTracker } from '../ingest/connections.ts';
import { decodeBatch, type DecodeStats } from '../ingest/decode.ts';
import type { BoundProtocol } from '../protocols/registry.ts';
import { Correlator } from '../telemetry/correlate.ts';
import { recordToSpan, type SpanContext } from '../telemetry/record.ts';

/** the connections of one round (both ends of each traced) */
export const WARMUP_CONNECTIONS = 16;
/** the requests of each connection in one round */
export const WARMUP_REQUESTS = 16;
/** the records of one round: per connection a connect, an accept, five per request and two closes */
export const WARMUP_ROUND_RECORDS = WARMUP_CONNECTIONS * (4 + 5 * WARMUP_REQUESTS);
/** the default time the warm-up may take; it stops after the round that passes it */
export const WARMUP_BUDGET_MS = 300;
/** rounds at most (43,008 records): measured, a fresh process reaches its steady cost per record (~2-3 µs) after 30-50 thousand */
export const WARMUP_MAX_ROUNDS = 32;

/** the process of the synthetic traffic: above pid_max (4,194,304 at most), never a real one's */
export const WARMUP_PID = 0x7fff_fff0;
/** the service the synthetic spans name (they go nowhere) */
export const WARMUP_SERVICE = 'obi-ts-warmup';
const SERVICE: ServiceIdentity = Object.freeze({ name: WARMUP_SERVICE, namespace: '', instanceId: WARMUP_SERVICE, pid: WARMUP_PID, exePath: '', language: 'generic' });
const REQUEST = Buffer.from('GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: obi-ts-warmup\r\nAccept: */*\r\n\r\n', 'latin1');
const BODY = 615;
const HEAD = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 23:00:00 GMT\r\nContent-Type: text/html\r\nConnection: keep-alive\r\n';
/** the server's answer: headers written, body by sendfile (nginx's static file) */
const RESPONSE_HEAD = Buffer.from(`${HEAD}Content-Length: ${BODY}\r\nAccept-Ranges: bytes\r\n\r\n`, 'latin1');
/** the client's answer: headers and body in one read */
const RESPONSE_FULL = Buffer.concat([Buffer.from(`${HEAD}Content-Length: ${BODY}\r\n\r\n`, 'latin1'), Buffer.alloc(BODY, 0x61)]);

export interface WarmupDeps {
  /** bound with the agent's settings, but instances of their own */
  readonly protocols: readonly BoundProtocol[];
  /** the agent's span context with a route resolver and extractor statistics of its own */
  readonly spanCtx: SpanContext;
  readonly ids: TraceIds;
}

export interface WarmupResult {
  readonly rounds: number;
  readonly records: number;
  /** spans the records made: one per request, server and client */
  readonly spans: number;
  readonly ms: number;
}

function frame(out: Buffer[], rec: Buffer): void {
  const len = Buffer.alloc(OBI_BATCH_LEN_BYTES);
  len.writeUInt32LE(rec.length);
  const pad = (OBI_BATCH_ALIGN - ((OBI_BATCH_LEN_BYTES + rec.length) % OBI_BATCH_ALIGN)) % OBI_BATCH_ALIGN;
  out.push(len, rec, Buffer.alloc(pad));
}

const LOOPBACK = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
const AF_INET = 2;

/** the fields conn and data records share: header, socket, thread, fd, role, tuple */
function common(r: Buffer, o: typeof ObiConnEventOffsets | typeof ObiDataEventOffsets, type: number, sock: bigint, role: number, local: number, remote: number, ts: number): void {
  r.writeUInt8(type, o.hdrType);
  r.writeUInt32LE(WARMUP_PID, o.hdrPid);
  r.writeBigUInt64LE(BigInt(ts), o.hdrTsNs);
  r.writeBigUInt64LE(sock, o.sockId);
  r.writeUInt32LE(WARMUP_PID, o.tid);
  r.writeUInt32LE(Number(sock & 0xffffn), o.fd);
  r.writeUInt8(role, o.role);
  LOOPBACK.copy(r, o.tupleLocalAddr);
  LOOPBACK.copy(r, o.tupleRemoteAddr);
  r.writeUInt16LE(local, o.tupleLocalPort);
  r.writeUInt16LE(remote, o.tupleRemotePort);
  r.writeUInt16LE(AF_INET, o.tupleFamily);
}

function connRecord(type: number, sock: bigint, role: number, local: number, remote: number, ts: number): Buffer {
  const r = Buffer.alloc(OBI_CONN_EVENT_SIZE);
  const o = ObiConnEventOffsets;
  common(r, o, type, sock, role, local, remote, ts);
  return r;
}

function dataRecord(sock: bigint, role: number, ingress: boolean, payload: Buffer, len: number, flags: number, local: number, remote: number, ts: number): Buffer {
  const r = Buffer.alloc(OBI_DATA_EVENT_SIZE + payload.length);
  const o = ObiDataEventOffsets;
  common(r, o, ObiEventType.OBI_EV_DATA, sock, role, local, remote, ts);
  r.writeUInt32LE(len, o.len);
  r.writeUInt32LE(payload.length, o.captured);
  r.writeUInt8(ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS, o.direction);
  r.writeUInt8(flags, o.flags);
  payload.copy(r, OBI_DATA_EVENT_SIZE);
  return r;
}

/**
 * One round of synthetic traffic as the addon hands a drain over ([u32 length][record][pad]):
 * WARMUP_CONNECTIONS loopback connections with both ends traced: the client's connect and the
 * server's accept; per request the request written and read, the header write and the body's
 * sendfile of the server, the whole answer read by the client; both closes. Timestamps from `ts0`
 * on, 10 µs apart.
 */
export function warmupBatch(ts0: number): Buffer {
  const out: Buffer[] = [];
  let ts = ts0;
  const next = (): number => (ts += 10_000);
  for (let i = 0; i < WARMUP_CONNECTIONS; i++) {
    // both ends of one loopback connection, as when a traced client calls a traced server
    const client = 0xffff_8000_0000_0000n + BigInt(i) * 0x100n;
    const server = client + 0x10n;
    const peer = 40_000 + i;
    frame(out, connRecord(ObiEventType.OBI_EV_CONN, client, ObiRole.OBI_ROLE_CLIENT, peer, 8080, next()));
    frame(out, connRecord(ObiEventType.OBI_EV_CONN, server, ObiRole.OBI_ROLE_SERVER, 8080, peer, next()));
    for (let j = 0; j < WARMUP_REQUESTS; j++) {
      frame(out, dataRecord(client, ObiRole.OBI_ROLE_CLIENT, false, REQUEST, REQUEST.length, 0, peer, 8080, next()));
      frame(out, dataRecord(server, ObiRole.OBI_ROLE_SERVER, true, REQUEST, REQUEST.length, 0, 8080, peer, next()));
      frame(out, dataRecord(server, ObiRole.OBI_ROLE_SERVER, false, RESPONSE_HEAD, RESPONSE_HEAD.length, 0, 8080, peer, next()));
      frame(out, dataRecord(server, ObiRole.OBI_ROLE_SERVER, false, Buffer.alloc(0), BODY, ObiDataFlags.OBI_DATA_SENDFILE, 8080, peer, next()));
      frame(out, dataRecord(client, ObiRole.OBI_ROLE_CLIENT, true, RESPONSE_FULL, RESPONSE_FULL.length, 0, peer, 8080, next()));
    }
    frame(out, connRecord(ObiEventType.OBI_EV_CLOSE, client, ObiRole.OBI_ROLE_CLIENT, peer, 8080, next()));
    frame(out, connRecord(ObiEventType.OBI_EV_CLOSE, server, ObiRole.OBI_ROLE_SERVER, 8080, peer, next()));
  }
  return Buffer.concat(out);
}

/** where each record's timestamp is in a batch of warmupBatch */
function timestampOffsets(batch: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + OBI_BATCH_LEN_BYTES <= batch.length; ) {
    const len = batch.readUInt32LE(off);
    const rec = off + OBI_BATCH_LEN_BYTES;
    out.push(rec + ObiDataEventOffsets.hdrTsNs); // the header's: the same offset in every record type
    off = (rec + len + OBI_BATCH_ALIGN - 1) & ~(OBI_BATCH_ALIGN - 1);
  }
  return out;
}

/**
 * Rounds of warmupBatch through private ingest instances until `budgetMs` has passed (checked after
 * each round) or WARMUP_MAX_ROUNDS are done.
 */
export function warmIngest(deps: WarmupDeps, budgetMs = WARMUP_BUDGET_MS, now: () => number = () => performance.now()): WarmupResult {
  const t0 = now();
  const correlator = new Correlator({ ids: deps.ids, policyOf: () => ({ kind: 'thread' }), serviceOf: () => SERVICE });
  let spans = 0;
  const tracker = new ConnectionTracker({
    sink: (rec, conn, ids) => {
      if (recordToSpan(rec, conn, deps.spanCtx, ids) !== undefined) spans++;
    },
    correlator,
    identify: () => SERVICE,
    protocols: deps.protocols,
  });
  const stats: DecodeStats = { records: 0, malformed: 0, bytesLost: 0 };
  const handlers = {
    data: (ev: Parameters<ConnectionTracker['onData']>[0], payload: Buffer) => tracker.onData(ev, payload),
    conn: (ev: Parameters<ConnectionTracker['onConn']>[0]) => tracker.onConn(ev),
    close: (ev: Parameters<ConnectionTracker['onClose']>[0]) => tracker.onClose(ev),
    proc: () => {},
  };
  // one batch, its timestamps moved on by a second each round
  const batch = warmupBatch(1e15);
  const stamps = timestampOffsets(batch);
  let rounds = 0;
  while (rounds < WARMUP_MAX_ROUNDS) {
    if (rounds > 0) for (const o of stamps) batch.writeBigUInt64LE(batch.readBigUInt64LE(o) + 1_000_000_000n, o);
    decodeBatch(batch, handlers, stats);
    rounds++;
    if (now() - t0 >= budgetMs) break;
  }
  return { rounds, records: stats.records, spans, ms: now() - t0 };
}
