import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { ConnInfo } from '../common/conn.ts';
import type { ServiceIdentity } from '../common/service.ts';
import type { ProtocolConn, ProtocolDescriptor } from '../protocols/common/descriptor.ts';
import type { MessagingRecord } from '../protocols/common/records.ts';
import type { IdSource } from './ids.ts';
import { MessagingMetrics, defaultMessagingMetricAttributes, messagingSpan, messagingSpanName } from './messaging.ts';
import { recordToSpan } from './record.ts';
import { ServiceGraph } from './servicegraph.ts';
import { sampleLines, sampleValue } from '../../test/helpers/spans.ts';

const ids: IdSource = { traceId: () => '0af7651916cd43dd8448eb211c80319c', spanId: () => 'b7ad6b7169203331' };
const service = { name: 'app', namespace: 'ns', instanceId: 'host:42', pid: 42, exePath: '/usr/bin/app', language: 'nodejs' } as unknown as ServiceIdentity;
const consumerSvc = { name: 'worker', namespace: 'ns', instanceId: 'host:43', pid: 43, exePath: '/usr/bin/worker', language: 'python' } as unknown as ServiceIdentity;
const client: ConnInfo = { pid: 42, tid: 42, role: 'client', localAddr: '10.0.0.2', localPort: 50000, remoteAddr: '10.0.0.5', remotePort: 5672, tls: false };
const rec = (r: Partial<MessagingRecord>): MessagingRecord => ({ category: 'messaging', system: 'rabbitmq', operation: 'publish', startNs: 1000, endNs: 3000, ...r });
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('span names: <op> <destination>, * when the destination is unknown', () => {
  assert.equal(messagingSpanName(rec({ destination: 'orders' })), 'publish orders');
  assert.equal(messagingSpanName(rec({ operation: 'process', destination: 'orders' })), 'process orders');
  assert.equal(messagingSpanName(rec({})), 'publish *');
  assert.equal(messagingSpanName(rec({ operation: 'process', destination: '' })), 'process *');
});

test('publish: PRODUCER, OBI attributes, status UNSET, new trace', () => {
  const s = messagingSpan(rec({ destination: 'orders', routingKey: 'eu.new', bodySize: 12, messageId: 'm-1' }), client, service, ids, 'amqp');
  assert.equal(s.kind, 'producer');
  assert.equal(s.category, 'messaging');
  assert.equal(s.protocol, 'amqp');
  assert.equal(s.name, 'publish orders');
  assert.equal(s.status, 'unset');
  assert.equal(s.parentSpanId, undefined);
  assert.equal(s.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.deepEqual(s.attributes, {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'publish',
    'messaging.operation.name': 'publish',
    'messaging.destination.name': 'orders',
    'server.address': '10.0.0.5',
    'server.port': 5672,
    'messaging.message.id': 'm-1',
    'messaging.message.body.size': 12,
    'rabbitmq.destination.routing_key': 'eu.new',
  });
});

test('process: CONSUMER; kafka fields; a carried traceparent puts the span in the producer trace', () => {
  const s = messagingSpan(
    rec({ system: 'kafka', operation: 'process', destination: 't', partition: '3', offset: 42, clientId: 'c1', consumerGroup: 'g', messageCount: 5, traceparent: TP }),
    client,
    service,
    ids,
    'kafka',
  );
  assert.equal(s.kind, 'consumer');
  assert.equal(s.name, 'process t');
  assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(s.parentSpanId, '00f067aa0ba902b7');
  assert.equal(s.traceFlags, 1);
  assert.equal(s.spanId, 'b7ad6b7169203331');
  assert.equal(s.attributes['messaging.destination.partition.id'], '3');
  assert.equal(s.attributes['messaging.kafka.offset'], 42);
  assert.equal(s.attributes['messaging.client.id'], 'c1');
  assert.equal(s.attributes['messaging.consumer.group.name'], 'g');
  assert.equal(s.attributes['messaging.batch.message_count'], 5);
  // an offset of a non-Kafka system is not a Kafka offset; a malformed traceparent is ignored
  const n = messagingSpan(rec({ system: 'nats', operation: 'process', offset: 1, envelopeSize: 40, traceparent: '00-zz-00' }), client, service, ids, 'nats');
  assert.equal(n.attributes['messaging.kafka.offset'], undefined);
  assert.equal(n.attributes['messaging.message.envelope.size'], 40);
  assert.equal(n.parentSpanId, undefined);
  assert.equal(n.traceId, '0af7651916cd43dd8448eb211c80319c');
});

test('kinds of other operations, server side, errors, end never before start', () => {
  assert.equal(messagingSpan(rec({ operation: 'receive' }), client, service, ids, 'amqp').kind, 'client');
  assert.equal(messagingSpan(rec({ operation: 'settle', operationName: 'ack' }), client, service, ids, 'amqp').attributes['messaging.operation.name'], 'ack');
  assert.equal(messagingSpan(rec({ operation: 'create' }), client, service, ids, 'amqp').kind, 'producer');
  const server: ConnInfo = { ...client, role: 'server', localAddr: '10.0.0.5', localPort: 4222, remoteAddr: '10.0.0.9', remotePort: 41000 };
  const s = messagingSpan(rec({ system: 'nats', operation: 'publish', destination: 'x', startNs: 9, endNs: 2 }), server, service, ids, 'nats');
  assert.equal(s.kind, 'server');
  assert.equal(s.attributes['server.address'], '10.0.0.5');
  assert.equal(s.attributes['server.port'], 4222);
  assert.equal(s.endNs, 9);
  const e = messagingSpan(rec({ operation: 'process', destination: 'q', errorType: 'nack', errorMessage: 'rejected by consumer' }), client, service, ids, 'amqp');
  assert.equal(e.status, 'error');
  assert.equal(e.statusMessage, 'rejected by consumer');
  assert.equal(e.attributes['error.type'], 'nack');
});

test('recordToSpan dispatches messaging records to the messaging builder with the descriptor name', () => {
  const descriptor = { name: 'nats', wire: 'nats', category: 'messaging' } as unknown as ProtocolDescriptor;
  const conn: ProtocolConn = { info: client, service, descriptor };
  const s = recordToSpan(rec({ system: 'nats', destination: 'a.b' }), conn, { ids, route: () => '' });
  assert.ok(s !== undefined);
  assert.equal(s.protocol, 'nats');
  assert.equal(s.name, 'publish a.b');
});

test('messaging metrics: OBI names, default labels; publish/receive/settle in the client histogram, process in the process one', async () => {
  assert.deepEqual(defaultMessagingMetricAttributes(), [
    'instance',
    'job',
    'messaging.destination.name',
    'messaging.operation.name',
    'messaging.system',
    'server.address',
    'service.name',
    'service.namespace',
  ]);
  const registry = new Registry();
  const clientM = new MessagingMetrics(registry, 'client');
  const processM = new MessagingMetrics(registry, 'process');
  const spans = [
    messagingSpan(rec({ destination: 'orders', startNs: 0, endNs: 20e6 }), client, service, ids, 'amqp'),
    messagingSpan(rec({ destination: 'orders', startNs: 0, endNs: 3e6 }), client, service, ids, 'amqp'),
    messagingSpan(rec({ operation: 'receive', destination: 'orders', startNs: 0, endNs: 1e6 }), client, service, ids, 'amqp'),
    messagingSpan(rec({ operation: 'process', destination: 'orders', startNs: 0, endNs: 60e6 }), client, service, ids, 'amqp'),
    messagingSpan(rec({ operation: 'process', destination: 'orders' }), { ...client, role: 'server' }, service, ids, 'amqp'), // broker side: neither
  ];
  clientM.recordAll(spans);
  processM.recordAll(spans);
  const text = await registry.metrics();
  assert.match(text, /# HELP messaging_client_operation_duration_seconds duration of messaging client operations, in seconds/);
  assert.match(text, /# TYPE messaging_process_duration_seconds histogram/);
  const base = { instance: 'host:42', job: 'ns/app', messaging_destination_name: 'orders', messaging_system: 'rabbitmq', server_address: '10.0.0.5', service_name: 'app', service_namespace: 'ns' };
  assert.equal(sampleValue(text, 'messaging_client_operation_duration_seconds_count', { ...base, messaging_operation_name: 'publish' }), 2);
  assert.equal(sampleValue(text, 'messaging_client_operation_duration_seconds_bucket', { ...base, messaging_operation_name: 'publish', le: '0.005' }), 1);
  assert.equal(sampleValue(text, 'messaging_client_operation_duration_seconds_count', { ...base, messaging_operation_name: 'receive' }), 1);
  assert.equal(sampleLines(text, 'messaging_client_operation_duration_seconds_count').length, 2);
  assert.equal(sampleValue(text, 'messaging_process_duration_seconds_count', { ...base, messaging_operation_name: 'process' }), 1);
  assert.equal(sampleValue(text, 'messaging_process_duration_seconds_bucket', { ...base, messaging_operation_name: 'process', le: '0.05' }), 0);
  assert.equal(sampleValue(text, 'messaging_process_duration_seconds_bucket', { ...base, messaging_operation_name: 'process', le: '0.075' }), 1);
  assert.equal(sampleLines(text, 'messaging_process_duration_seconds_count').length, 1);
});

test('messaging metrics: attributes and instrumentations options; other categories ignored', async () => {
  const registry = new Registry();
  const m = new MessagingMetrics(registry, 'client', { attributes: ['messaging_system', 'error.type'], instrumentations: ['nats'] });
  assert.deepEqual(m.labelNames, ['error_type', 'messaging_system']);
  m.record(messagingSpan(rec({ destination: 'q' }), client, service, ids, 'amqp'));
  m.record(messagingSpan(rec({ system: 'nats', destination: 'q', errorType: '-ERR' }), client, service, ids, 'nats'));
  m.record({ ...messagingSpan(rec({ system: 'nats' }), client, service, ids, 'nats'), category: 'db' });
  const text = await registry.metrics();
  assert.deepEqual(sampleLines(text, 'messaging_client_operation_duration_seconds_count'), ['messaging_client_operation_duration_seconds_count{error_type="-ERR",messaging_system="nats"} 1']);
});

test('service graph: producer -> broker and broker -> consumer edges, connection_type messaging_system', async () => {
  const reg = new Registry();
  const g = new ServiceGraph(reg);
  g.record(messagingSpan(rec({ destination: 'orders' }), client, service, ids, 'amqp'));
  const consumerConn: ConnInfo = { ...client, pid: 43, tid: 43, localAddr: '10.0.0.3', localPort: 51000 };
  g.record(messagingSpan(rec({ operation: 'process', destination: 'orders' }), consumerConn, consumerSvc, ids, 'amqp'));
  g.record(messagingSpan(rec({ operation: 'process', destination: 'orders', errorType: 'nack' }), consumerConn, consumerSvc, ids, 'amqp'));
  const text = await reg.metrics();
  const producer = { client: 'app', client_service_namespace: 'ns', server: '10.0.0.5', server_service_namespace: '', source: 'obi', connection_type: 'messaging_system' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_client_seconds_count', producer), 1);
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', producer), 1);
  const consumer = { client: '10.0.0.5', client_service_namespace: '', server: 'worker', server_service_namespace: 'ns', source: 'obi', connection_type: 'messaging_system' };
  assert.equal(sampleValue(text, 'traces_service_graph_request_server_seconds_count', consumer), 2);
  assert.equal(sampleValue(text, 'traces_service_graph_request_total', consumer), 2);
  assert.equal(sampleValue(text, 'traces_service_graph_request_failed_total', consumer), 1);
  assert.equal(sampleLines(text, 'traces_service_graph_request_total').length, 2);
});
