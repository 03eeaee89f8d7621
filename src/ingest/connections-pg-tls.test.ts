// PostgreSQL with sslmode=require through the connection tracker: SSLRequest and its `S` in clear
// text, ciphertext, then TLS plaintext starting with the startup message in a fresh session;
// plaintext read after the session was shut down (no socket) still reaches its connection.
// And the DB cache settings of the configuration reaching the parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiDataFlags, ObiDirection, ObiEventType, ObiRole, type ObiConnEvent, type ObiDataEvent } from '../abi/events.ts';
import { loadConfig } from '../config/index.ts';
import type { PgOperation, PgState } from '../protocols/postgres/index.ts';
import type { RedisState } from '../protocols/redis/index.ts';
import type { ServiceIdentity } from '../common/service.ts';
import { ConnectionTracker } from './connections.ts';
import { bindProtocols, PROTOCOLS } from '../protocols/registry.ts';

const SERVICE: ServiceIdentity = Object.freeze({ name: 'app', namespace: '', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/app', language: 'generic' });

const SOCK = 0xffff888104439800n;
const SSL = 0x5581a2b3c4d0n;
const v4 = (a: number[]): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...a]);

function ev(o: { egress: boolean; ts: number; payload: Buffer; tls?: boolean; sock?: bigint }): [ObiDataEvent, Buffer] {
  const paired = o.sock !== 0n;
  return [
    {
      hdrType: ObiEventType.OBI_EV_DATA,
      hdrPid: 42,
      hdrTsNs: o.ts,
      sockId: o.sock ?? SOCK,
      tid: 42,
      fd: paired ? 7 : 0xffffffff,
      len: o.payload.length,
      captured: o.payload.length,
      direction: o.egress ? ObiDirection.OBI_DIR_EGRESS : ObiDirection.OBI_DIR_INGRESS,
      role: paired ? ObiRole.OBI_ROLE_CLIENT : ObiRole.OBI_ROLE_UNKNOWN,
      flags: o.tls ? ObiDataFlags.OBI_DATA_TLS : 0,
      tupleLocalAddr: paired ? v4([127, 0, 0, 1]) : new Uint8Array(16),
      tupleRemoteAddr: paired ? v4([127, 0, 0, 1]) : new Uint8Array(16),
      tupleLocalPort: paired ? 51000 : 0,
      tupleRemotePort: paired ? 5432 : 0,
      tupleFamily: paired ? 2 : 0,
      sslId: o.tls ? SSL : 0n,
      ctxFlags: 0, traceId: new Uint8Array(16), spanId: new Uint8Array(8), parentId: new Uint8Array(8),
    },
    o.payload,
  ];
}

function closeEv(ts: number): ObiConnEvent {
  return { hdrType: ObiEventType.OBI_EV_CLOSE, hdrPid: 42, hdrTsNs: ts, sockId: SOCK } as unknown as ObiConnEvent;
}

function msg(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([h, body]);
}
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const params = Buffer.from('user\0postgres\0database\0obi\0\0');
const STARTUP = Buffer.concat([Buffer.from([0, 0, 0, 8 + params.length, 0, 3, 0, 0]), params]);
STARTUP.writeUInt32BE(STARTUP.length, 0);
const AUTH_OK = Buffer.concat([msg('R', Buffer.from([0, 0, 0, 0])), msg('Z', Buffer.from('I'))]);
const query = (q: string): Buffer => msg('Q', Buffer.from(`${q}\0`));
const DONE = Buffer.concat([msg('C', Buffer.from('SELECT 1\0')), msg('Z', Buffer.from('I'))]);
const ERROR = msg('E', Buffer.from('SERROR\0C42P01\0Mrelation "nope" does not exist\0\0'));
const READY = msg('Z', Buffer.from('I'));
const HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xf4, 0x01, 0x00, 0x00, 0xf0, 0x03, 0x03]);
const APPDATA = Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40, 0x51, 0, 0, 0, 9, 0x43, 0x31]);

function tracker() {
  const out: PgOperation[] = [];
  const t = new ConnectionTracker({ sink: (rec) => void out.push(rec as PgOperation), identify: () => SERVICE });
  return { t, out };
}

/** psql with sslmode=require up to the first plaintext exchange */
function handshake(t: ConnectionTracker): number {
  let ts = 1000;
  t.onData(...ev({ egress: true, ts: ts++, payload: SSL_REQUEST }));
  t.onData(...ev({ egress: false, ts: ts++, payload: Buffer.from('S') }));
  t.onData(...ev({ egress: true, ts: ts++, payload: HELLO }));
  t.onData(...ev({ egress: false, ts: ts++, payload: HELLO }));
  t.onData(...ev({ egress: true, ts: ts++, payload: STARTUP, tls: true }));
  t.onData(...ev({ egress: true, ts: ts++, payload: APPDATA }));
  t.onData(...ev({ egress: false, ts: ts++, payload: AUTH_OK, tls: true }));
  return ts;
}

test('sslmode=require: the plaintext after `S` starts a fresh session with the startup message; ciphertext makes nothing', () => {
  const { t, out } = tracker();
  let ts = handshake(t);
  t.onData(...ev({ egress: true, ts: ts++, payload: query('SELECT * FROM accounting.contacts'), tls: true }));
  t.onData(...ev({ egress: true, ts: ts++, payload: APPDATA }));
  t.onData(...ev({ egress: false, ts: ts++, payload: APPDATA }));
  t.onData(...ev({ egress: false, ts: ts++, payload: DONE, tls: true }));
  t.onClose(closeEv(ts++));
  assert.deepEqual(out.map((o) => [o.operation, o.collection, o.namespace, o.errorType]), [['SELECT', 'accounting.contacts', 'obi', undefined]]);
  assert.equal(t.counters.tlsRawSegments, 3);
  assert.equal(t.size, 0);
});

test('plaintext read after SSL_shutdown (no socket) still answers the query of its connection', () => {
  const { t, out } = tracker();
  let ts = handshake(t);
  t.onData(...ev({ egress: true, ts: ts++, payload: query('SELECT * FROM nope'), tls: true }));
  t.onData(...ev({ egress: false, ts: ts++, payload: ERROR, tls: true }));
  t.onData(...ev({ egress: true, ts: ts++, payload: msg('X', Buffer.alloc(0)), tls: true }));
  t.onData(...ev({ egress: false, ts: ts++, payload: READY, tls: true, sock: 0n })); // decrypted after the shutdown
  assert.deepEqual(out.map((o) => [o.operation, o.collection, o.errorType]), [['SELECT', 'nope', '42P01']]);
  assert.equal(t.counters.tlsLate, 1);
  assert.equal(t.counters.tlsUnpairedDropped, 0);
});

test('plaintext read after the close: the connection lingers while a query is unanswered, then is flushed', () => {
  const { t, out } = tracker();
  let ts = handshake(t);
  t.onData(...ev({ egress: true, ts: ts++, payload: query('SELECT * FROM nope'), tls: true }));
  t.onData(...ev({ egress: false, ts: ts++, payload: ERROR, tls: true }));
  t.onClose(closeEv(ts++));
  assert.equal(t.size, 0);
  assert.equal(out.length, 0);
  t.onData(...ev({ egress: false, ts: ts++, payload: READY, tls: true, sock: 0n }));
  assert.deepEqual(out.map((o) => [o.operation, o.errorType]), [['SELECT', '42P01']]);
  assert.equal(t.counters.tlsLate, 1);

  // nothing comes: the unanswered query is dropped once the linger time has passed
  const b = tracker();
  ts = handshake(b.t);
  b.t.onData(...ev({ egress: true, ts: ts++, payload: query('SELECT 1'), tls: true }));
  b.t.onClose(closeEv(ts++));
  b.t.onData(...ev({ egress: false, ts: ts + 2e9, payload: READY, tls: true, sock: 0n }));
  assert.equal(b.out.length, 0);
  assert.equal(b.t.counters.tlsLate, 0);
  assert.equal(b.t.counters.tlsUnpairedDropped, 0, 'held as a new session');
});

test('the ebpf DB cache settings reach the parsers; defaults are OBI\'s', () => {
  const pg = (ps: ReturnType<typeof bindProtocols>) => ps.find((b) => b.descriptor.wire === 'postgresql')!.parser.newState() as PgState;
  const mysql = (ps: ReturnType<typeof bindProtocols>) => ps.find((b) => b.descriptor.wire === 'mysql')!.parser.newState() as { maxStatements: number };
  const redis = (ps: ReturnType<typeof bindProtocols>) => ps.find((b) => b.descriptor.wire === 'redis')!.parser.newState() as RedisState;
  const defaults = bindProtocols(PROTOCOLS, loadConfig({ env: { OTEL_EBPF_OPEN_PORT: '80', OTEL_EBPF_TRACE_PRINTER: 'text' } }).ebpf);
  assert.deepEqual(defaults.map((b) => b.descriptor.wire), PROTOCOLS.map((p) => p.wire)); // every protocol, in registry order (registry.test.ts lists them)
  assert.equal(pg(defaults).maxStatements, 1024);
  assert.equal(mysql(defaults).maxStatements, 1024);
  assert.equal(redis(defaults).dbCache, undefined);
  const set = bindProtocols(
    PROTOCOLS,
    loadConfig({
        env: {
          OTEL_EBPF_OPEN_PORT: '80',
          OTEL_EBPF_TRACE_PRINTER: 'text',
          OTEL_EBPF_BPF_POSTGRES_PREPARED_STATEMENTS_CACHE_SIZE: '16',
          OTEL_EBPF_BPF_MYSQL_PREPARED_STATEMENTS_CACHE_SIZE: '32',
          OTEL_EBPF_BPF_REDIS_DB_CACHE_ENABLED: 'true',
          OTEL_EBPF_BPF_REDIS_DB_CACHE_MAX_SIZE: '5',
          OTEL_EBPF_BPF_MONGO_REQUESTS_CACHE_SIZE: '7',
        },
      }).ebpf,
  );
  assert.equal(pg(set).maxStatements, 16);
  assert.equal(mysql(set).maxStatements, 32);
  assert.equal(redis(set).dbCache?.maxSize, 5);
  const mongo = (ps: ReturnType<typeof bindProtocols>) => ps.find((b) => b.descriptor.wire === 'mongodb')!.parser.newState() as { maxPending: number };
  assert.equal(mongo(defaults).maxPending, 1024);
  assert.equal(mongo(set).maxPending, 7);
  assert.equal(redis(set).dbCache, redis(set).dbCache, 'one cache shared by the connections');
});
