/**
 * Every ingest counter is exported: each one is provoked through the real decode and connection
 * tracker path, then read back from the obi_* exposition with its exact value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import { OBI_DATA_EVENT_SIZE, ObiDataEventOffsets, ObiDataFlags, ObiDirection, ObiEventType, ObiRole } from '../abi/events.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ConnectionTracker } from '../ingest/connections.ts';
import { decodeBatch, type DecodeStats } from '../ingest/decode.ts';
import { InternalMetrics } from '../telemetry/internal.ts';
import { ingestSnapshot } from './ingest-stats.ts';

const SERVICE: ServiceIdentity = Object.freeze({ name: 'app', namespace: '', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/app', language: 'generic' });

interface Seg {
  sock: bigint;
  ingress: boolean;
  payload: string | Buffer;
  /** bytes on the wire (default: the payload's) */
  wire?: number;
  tls?: boolean;
  ts: number;
}

/** one data record as the kernel writes it */
function dataRecord(s: Seg): Buffer {
  const p = typeof s.payload === 'string' ? Buffer.from(s.payload, 'latin1') : s.payload;
  const r = Buffer.alloc(OBI_DATA_EVENT_SIZE + p.length);
  r.writeUInt8(ObiEventType.OBI_EV_DATA, 0);
  r.writeUInt32LE(42, ObiDataEventOffsets.hdrPid);
  r.writeBigUInt64LE(BigInt(s.ts), ObiDataEventOffsets.hdrTsNs);
  r.writeBigUInt64LE(s.sock, ObiDataEventOffsets.sockId);
  r.writeUInt32LE(42, ObiDataEventOffsets.tid);
  r.writeUInt32LE(7, ObiDataEventOffsets.fd);
  r.writeUInt32LE(s.wire ?? p.length, ObiDataEventOffsets.len);
  r.writeUInt32LE(p.length, ObiDataEventOffsets.captured);
  r.writeUInt8(s.ingress ? ObiDirection.OBI_DIR_INGRESS : ObiDirection.OBI_DIR_EGRESS, ObiDataEventOffsets.direction);
  r.writeUInt8(ObiRole.OBI_ROLE_SERVER, ObiDataEventOffsets.role);
  r.writeUInt8(s.tls ? ObiDataFlags.OBI_DATA_TLS : 0, ObiDataEventOffsets.flags);
  if (s.tls) r.writeBigUInt64LE(0x5581a2b3c4d0n + s.sock, ObiDataEventOffsets.sslId);
  r.writeUInt16LE(8080, ObiDataEventOffsets.tupleLocalPort);
  p.copy(r, OBI_DATA_EVENT_SIZE);
  return r;
}

/** [u32 length][record][pad to 8], the addon's framing; `bad` adds a record too short to be an event */
function batch(segs: Seg[], bad = false): Buffer {
  const parts: Buffer[] = [];
  const records = segs.map(dataRecord);
  if (bad) records.push(Buffer.from([ObiEventType.OBI_EV_DATA, 0, 0]));
  for (const r of records) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(r.length);
    parts.push(len, r, Buffer.alloc((8 - ((4 + r.length) % 8)) % 8));
  }
  return Buffer.concat(parts);
}

const REQ = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n';
const RESP_HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n';

test('obi_ingest_* and obi_parser_* report what ingest counted, each provoked', async () => {
  // the kernel is told to mute the unrecognized connection (its pid, fd and socket)
  const muted: [number, number, bigint][] = [];
  const tracker = new ConnectionTracker({ sink: () => {}, identify: () => SERVICE, maxConnections: 4, idleTimeoutNs: 1e9, onIgnored: (pid, fd, sock) => (muted.push([pid, fd, sock]), true) });
  const stats: DecodeStats = { records: 0, malformed: 0, bytesLost: 0 };
  const feed = (b: Buffer): void =>
    decodeBatch(b, { data: (ev, p) => tracker.onData(ev, p), conn: (ev) => tracker.onConn(ev), close: (ev) => tracker.onClose(ev), proc: () => {} }, stats);
  let ts = 1000;
  // 1: an exchange whose response body (5,000 B) is not captured past its head: 5000 bytes lost
  feed(batch([{ sock: 1n, ingress: true, payload: REQ, ts: ts++ }, { sock: 1n, ingress: false, payload: RESP_HEAD, wire: RESP_HEAD.length + 5000, ts: ts++ }], true));
  // 2: eight segments no protocol recognises
  feed(batch(Array.from({ length: 8 }, () => ({ sock: 2n, ingress: true, payload: 'hello there', ts: ts++ }))));
  // 3: a request, then bytes that are no request: one invalid frame, its 9 bytes skipped by the resync
  feed(batch([{ sock: 3n, ingress: true, payload: REQ, ts: ts++ }, { sock: 3n, ingress: true, payload: '\u0001\u0002garbage', ts: ts++ }]));
  // 4: TLS plaintext, then the socket's own ciphertext (ignored)
  feed(batch([{ sock: 4n, ingress: true, payload: REQ, tls: true, ts: ts++ }, { sock: 4n, ingress: true, payload: Buffer.from([0x17, 3, 3, 0, 8, 1, 2, 3]), ts: ts++ }]));
  // 5: a fifth connection evicts the oldest (cap 4); its response is cut short at eviction
  feed(batch([{ sock: 5n, ingress: true, payload: REQ, ts: ts++ }]));
  // 6: the rest go idle past the timeout
  tracker.sweep(ts + 2e9);

  const registry = new ScrapableStore();
  new InternalMetrics(registry).setIngestSource(() => ingestSnapshot(tracker, stats));
  const text = await registry.metrics();
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} is exported`);
    return Number(line.split(' ')[1]);
  };
  assert.equal(stats.bytesLost, 5000);
  assert.equal(value('obi_ingest_malformed_records_total'), 1);
  assert.equal(value('obi_ingest_connections_opened_total'), 5);
  assert.equal(value('obi_ingest_connections_evicted_total'), 1);
  assert.equal(value('obi_ingest_connections_expired_total'), 4);
  assert.equal(value('obi_ingest_connections_unrecognized_total'), 1);
  assert.equal(value('obi_ingest_connections_muted_total'), 1);
  assert.deepEqual(muted, [[42, 7, 2n]]);
  assert.equal(value('obi_ingest_connections'), 0);
  assert.equal(value('obi_ingest_tls_segments_total{outcome="ciphertext_ignored"}'), 1);
  assert.equal(value('obi_ingest_tls_segments_total{outcome="paired_late"}'), 0);
  assert.equal(value('obi_parser_errors_total{protocol="http1",kind="invalid_frame"}'), 1);
  assert.equal(value('obi_parser_errors_total{protocol="http1",kind="exception"}'), 0);
  // the 5,000 uncaptured body bytes of 1 are a known-length gap the parser consumes: lost to capture, not dropped
  assert.equal(value('obi_parser_bytes_dropped_total{protocol="http1"}'), 9);
});

test('a peer speaking a newer protocol version is counted (obi_parser_errors_total kind unsupported_version), never parsed', async () => {
  const records: unknown[] = [];
  const tracker = new ConnectionTracker({ sink: (r) => void records.push(r), identify: () => SERVICE, maxConnections: 4, idleTimeoutNs: 1e9 });
  const stats: DecodeStats = { records: 0, malformed: 0, bytesLost: 0 };
  const feed = (b: Buffer): void =>
    decodeBatch(b, { data: (ev, p) => tracker.onData(ev, p), conn: (ev) => tracker.onConn(ev), close: (ev) => tracker.onClose(ev), proc: () => {} }, stats);
  // a broker serving AMQP 1.0 (protocol header 'AMQP' 0 1 0 0), then 1.0 frames the 0-9-1 parser must not read
  feed(batch([
    { sock: 7n, ingress: true, payload: Buffer.from('AMQP\u0000\u0001\u0000\u0000', 'latin1'), ts: 1 },
    { sock: 7n, ingress: true, payload: Buffer.from([0, 0, 0, 0x1c, 2, 0, 0, 0, 0, 0x53, 0x10, 0xc0, 0x0f, 0x01, 0xa1]), ts: 2 },
  ]));
  tracker.sweep(5e9);
  const registry = new ScrapableStore();
  new InternalMetrics(registry).setIngestSource(() => ingestSnapshot(tracker, stats));
  const text = await registry.metrics();
  assert.match(text, /^obi_parser_errors_total\{protocol="amqp091",kind="unsupported_version"\} 1$/m);
  assert.match(text, /^obi_parser_errors_total\{protocol="amqp091",kind="invalid_frame"\} 0$/m);
  assert.equal(records.length, 0);
});
