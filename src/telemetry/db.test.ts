import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrapableStore } from '../../test/helpers/metric-store.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { DbRecord } from '../protocols/common/records.ts';
import { DbMetrics, dbSpan as dbSpanOf, dbSpanName, defaultDbMetricAttributes } from './db.ts';
import type { DbSpanOptions } from './db.ts';
import type { IdSource } from './ids.ts';
import type { ConnInfo } from '../common/conn.ts';

const ids: IdSource = { traceId: () => '0af7651916cd43dd8448eb211c80319c', spanId: () => 'b7ad6b7169203331' };
const service = { name: 'app', namespace: 'ns', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/app', language: 'nodejs' } as unknown as ServiceIdentity;
const client: ConnInfo = { pid: 42, tid: 42, role: 'client', localAddr: '127.0.0.1', localPort: 50000, remoteAddr: '10.0.0.5', remotePort: 5432, tls: false };

const rec = (r: Partial<DbRecord>): DbRecord => ({ category: 'db', system: 'postgresql', startNs: 1000, endNs: 3000, ...r });
/** the span with the instrumentation name the registry's descriptors give each system (src/protocols/registry.test.ts) */
const dbSpan = (r: DbRecord, c: ConnInfo, svc: ServiceIdentity, i: IdSource, o?: DbSpanOptions) =>
  dbSpanOf(r, c, svc, i, r.system === 'redis' || r.system === 'memcached' ? r.system : 'sql', o);

test('span names follow OBI: <OP> <table>, <OP> <namespace>, <OP>, SQL; Redis / Memcached commands', () => {
  assert.equal(dbSpanName(rec({ operation: 'SELECT', collection: 'accounting.contacts', namespace: 'db' })), 'SELECT accounting.contacts');
  assert.equal(dbSpanName(rec({ operation: 'BEGIN', namespace: 'db' })), 'BEGIN db');
  assert.equal(dbSpanName(rec({ operation: 'BEGIN' })), 'BEGIN');
  assert.equal(dbSpanName(rec({})), 'SQL');
  assert.equal(dbSpanName(rec({ system: 'mysql', operation: 'USE', namespace: 'shop' })), 'USE shop');
  assert.equal(dbSpanName(rec({ system: 'redis', operation: 'HSET', namespace: '1' })), 'HSET');
  assert.equal(dbSpanName(rec({ system: 'redis' })), 'REDIS');
  assert.equal(dbSpanName(rec({ system: 'memcached', operation: 'GET' })), 'GET');
  assert.equal(dbSpanName(rec({ system: 'memcached' })), 'MEMCACHED');
});

test('a client span: kind, attributes, no query text unless given', () => {
  const s = dbSpan(rec({ operation: 'SELECT', collection: 't', namespace: 'obi' }), client, service, ids);
  assert.equal(s.kind, 'client');
  assert.equal(s.protocol, 'sql');
  assert.equal(s.name, 'SELECT t');
  assert.equal(s.status, 'unset');
  assert.equal(s.statusMessage, undefined);
  assert.deepEqual(s.attributes, {
    'db.system.name': 'postgresql',
    'server.address': '10.0.0.5',
    'server.port': 5432,
    'db.operation.name': 'SELECT',
    'db.collection.name': 't',
    'db.namespace': 'obi',
  });
  assert.equal(s.startNs, 1000);
  assert.equal(s.endNs, 3000);
  const q = dbSpan(rec({ operation: 'SELECT' }), client, service, ids, { queryText: 'SELECT ?' });
  assert.equal(q.attributes['db.query.text'], 'SELECT ?');
  assert.equal(dbSpan(rec({}), client, service, ids, { queryText: '' }).attributes['db.query.text'], undefined);
});

test('errors: error.type, db.response.status_code, status ERROR with the message', () => {
  const s = dbSpan(rec({ system: 'mysql', operation: 'SELECT', errorType: '42S02', errorCode: '1146', errorMessage: "Table 'x' doesn't exist" }), client, service, ids);
  assert.equal(s.status, 'error');
  assert.equal(s.statusMessage, "Table 'x' doesn't exist");
  assert.equal(s.attributes['error.type'], '42S02');
  assert.equal(s.attributes['db.response.status_code'], '1146');
  const r = dbSpan(rec({ system: 'redis', operation: 'GET', errorType: 'WRONGTYPE' }), client, service, ids);
  assert.equal(r.attributes['db.response.status_code'], 'WRONGTYPE');
});

test('server side: kind SERVER, server.address is the local end; end never before start', () => {
  const server: ConnInfo = { ...client, role: 'server', localAddr: '10.0.0.5', localPort: 6379, remoteAddr: '10.0.0.9', remotePort: 40000 };
  const s = dbSpan(rec({ system: 'redis', operation: 'GET', startNs: 5000, endNs: 4000 }), server, service, ids);
  assert.equal(s.kind, 'server');
  assert.equal(s.attributes['server.address'], '10.0.0.5');
  assert.equal(s.attributes['server.port'], 6379);
  assert.equal(s.endNs, 5000);
});

test('db_client_operation_duration_seconds: OBI name, help, default labels and buckets; client DB spans only', async () => {
  assert.deepEqual(defaultDbMetricAttributes(), ['db.operation.name', 'db.system.name', 'error.type', 'instance', 'job', 'server.address', 'service.name', 'service.namespace']);
  const registry = new ScrapableStore();
  const m = new DbMetrics(registry);
  m.record(dbSpan(rec({ operation: 'SELECT', collection: 't', startNs: 0, endNs: 20e6 }), client, service, ids));
  m.record(dbSpan(rec({ operation: 'SELECT', collection: 'u', startNs: 0, endNs: 3e6 }), client, service, ids));
  m.record(dbSpan(rec({ operation: 'SELECT', errorType: '42P01', startNs: 0, endNs: 1e6 }), client, service, ids));
  m.record(dbSpan(rec({ operation: 'GET', system: 'redis' }), { ...client, role: 'server' }, service, ids)); // server side: not a client metric
  const text = await registry.metrics();
  assert.match(text, /# HELP db_client_operation_duration_seconds duration of db client operations, in seconds/);
  assert.match(text, /# TYPE db_client_operation_duration_seconds histogram/);
  const count = (errorType: string): string | undefined =>
    text
      .split('\n')
      .find((l) => l.startsWith('db_client_operation_duration_seconds_count{') && l.includes(`error_type="${errorType}"`));
  assert.equal(
    count(''),
    'db_client_operation_duration_seconds_count{db_operation_name="SELECT",db_system_name="postgresql",error_type="",instance="host:42",job="ns/app",server_address="10.0.0.5",service_name="app",service_namespace="ns"} 2',
  );
  assert.match(count('42P01') ?? '', / 1$/);
  assert.match(text, /db_client_operation_duration_seconds_bucket\{le="0.005",[^}]*error_type=""[^}]*\} 1\n/);
  assert.match(text, /db_client_operation_duration_seconds_bucket\{le="0.025",[^}]*error_type=""[^}]*\} 2\n/);
  assert.ok(!text.includes('db_collection_name'));
});

test('attributes and instrumentations options', async () => {
  const registry = new ScrapableStore();
  const m = new DbMetrics(registry, { attributes: ['db_system_name', 'db.collection.name'], instrumentations: ['redis'] });
  assert.deepEqual(m.labelNames, ['db_collection_name', 'db_system_name']);
  m.record(dbSpan(rec({ operation: 'SELECT', collection: 't' }), client, service, ids));
  m.record(dbSpan(rec({ system: 'redis', operation: 'GET' }), client, service, ids));
  const text = await registry.metrics();
  assert.match(text, /db_client_operation_duration_seconds_count\{db_collection_name="",db_system_name="redis"\} 1/);
  assert.ok(!text.includes('postgresql'));
});
