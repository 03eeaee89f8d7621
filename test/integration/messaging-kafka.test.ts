/**
 * Kafka end to end on the real kernel, client side (as OBI): the real `kafkajs` npm client,
 * Python `kafka-python` (Debian python3-kafka 2.0.2) and `@platformatic/kafka` (a current client
 * that negotiates flexible versions and names topics by id) as traced producers and consumers.
 *
 * No Kafka broker can be installed on these machines (Kafka is not packaged for Debian and Maven
 * is not reachable): the clients talk to a broker peer written for the tests from the public
 * protocol specification (test/helpers/kafka-peer.ts: ApiVersions, Metadata, Produce, Fetch,
 * ListOffsets and the consumer-group APIs, in the versions these clients use: kafkajs 2.2.4
 * sends ApiVersions v2, Metadata v6, Produce v7, Fetch v11 and the group APIs; kafka-python
 * ApiVersions v0, Metadata v0/v1, Produce v7, ListOffsets v1, Fetch v4; @platformatic/kafka
 * 2.12.1 the flexible ApiVersions v3, Metadata v12, Produce v11 and Fetch v17, whose topic id
 * is named from the Metadata response of another of its connections).
 *
 * Exact counts: one `publish <topic>` span per Produce request with its
 * `messaging.batch.message_count` and assigned offset, one `process <topic>` span per Fetch
 * response that carried records, with the exact count, and the `traceparent` record header
 * putting the consumer span in the producer's trace; the messaging metrics count the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { startKafkaPeer, type KafkaPeer } from '../helpers/kafka-peer.ts';

const apps = join(import.meta.dirname, '../helpers/apps');
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-kafka is installed

describe('Kafka: kafkajs, kafka-python and @platformatic/kafka against the broker peer', () => {
  let agent: TestAgent;
  let peer: KafkaPeer;
  let gate: Gate;

  before(async () => {
    peer = await startKafkaPeer();
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
  });

  after(async () => {
    await agent?.stop();
    await peer?.stop();
    gate?.cleanup();
  });

  const of = (pid: number) => (s: SpanJSON) => s.service.pid === pid;

  test('kafkajs: 4 Produce requests (1+1+1+4 messages) and a consumer group fetching the 7, traceparent linked', async () => {
    const r = await runGated(agent, gate, nodeBin, [join(apps, 'kafkajs-client.mjs'), String(peer.port), 'orders', 'obi-group'], {
      env: { OTEL_SERVICE_NAME: 'kafkajs-app' },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.output);
    const out = JSON.parse(r.output.trim().split('\n').pop()!) as { consumed: number; traceparent: string };
    assert.equal(out.consumed, 7);
    assert.equal(peer.messages('orders'), 7);
    const spans = await agent.waitSpans(5, of(r.pid));
    await new Promise((res) => setTimeout(res, 300));
    const all = agent.spans(of(r.pid));
    assert.deepEqual(
      all.map((s) => [s.name, s.kind, s.attributes['messaging.batch.message_count'], s.attributes['messaging.kafka.offset']]),
      [
        ['publish orders', 'producer', 1, 0],
        ['publish orders', 'producer', 1, 1],
        ['publish orders', 'producer', 1, 2],
        ['publish orders', 'producer', 4, 3],
        ['process orders', 'consumer', 7, 0],
      ],
    );
    for (const s of spans) {
      assert.equal(s.attributes['messaging.system'], 'kafka');
      assert.equal(s.attributes['messaging.destination.name'], 'orders');
      assert.equal(s.attributes['messaging.operation.type'], s.name.split(' ')[0]);
      assert.equal(s.attributes['messaging.client.id'], 'obi-kafkajs');
      assert.equal(s.attributes['messaging.destination.partition.id'], '0');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], peer.port);
      assert.equal(s.service.name, 'kafkajs-app');
      assert.equal(s.status, 'unset');
    }
    const proc = all[4];
    assert.equal(proc.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(proc.parentSpanId, 'b7ad6b7169203331');
    assert.equal(out.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const labels = { service_name: 'kafkajs-app', messaging_system: 'kafka', messaging_destination_name: 'orders' };
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_operation_name: 'publish' }), 4);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { ...labels, messaging_operation_name: 'process' }), 1);
  });

  test('kafka-python: 3 Produce requests (one with traceparent), an assigned consumer fetching the 3', async () => {
    const r = await runGated(agent, gate, PYTHON, [join(apps, 'kafka-python-client.py'), String(peer.port), 'payments'], {
      env: { OTEL_SERVICE_NAME: 'kafka-python-app' },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.output);
    assert.equal((JSON.parse(r.output.trim().split('\n').pop()!) as { consumed: number }).consumed, 3);
    await agent.waitSpans(4, of(r.pid));
    await new Promise((res) => setTimeout(res, 300));
    const all = agent.spans(of(r.pid));
    assert.deepEqual(
      all.map((s) => [s.name, s.kind, s.attributes['messaging.batch.message_count'], s.attributes['messaging.kafka.offset'], s.attributes['messaging.client.id']]),
      [
        ['publish payments', 'producer', 1, 0, 'obi-kafka-python'],
        ['publish payments', 'producer', 1, 1, 'obi-kafka-python'],
        ['publish payments', 'producer', 1, 2, 'obi-kafka-python'],
        ['process payments', 'consumer', 3, 0, 'obi-kafka-python-consumer'],
      ],
    );
    assert.equal(all[3].traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(all[3].parentSpanId, '00f067aa0ba902b7');
    assert.ok(all.every((s) => s.attributes['messaging.system'] === 'kafka' && s.attributes['messaging.destination.partition.id'] === '0'));
    const labels = { service_name: 'kafka-python-app', messaging_system: 'kafka', messaging_destination_name: 'payments' };
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_operation_name: 'publish' }), 3);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', labels), 1);
  });

  test('@platformatic/kafka: flexible versions (Produce v11, Fetch v17 by topic id named from Metadata v12), traceparent linked', async () => {
    const r = await runGated(agent, gate, nodeBin, [join(apps, 'platformatic-kafka-client.mjs'), String(peer.port), 'clicks', 'pf-group'], {
      env: { OTEL_SERVICE_NAME: 'platformatic-app' },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.output);
    assert.equal((JSON.parse(r.output.trim().split('\n').pop()!) as { consumed: number }).consumed, 3);
    await agent.waitSpans(3, of(r.pid));
    await new Promise((res) => setTimeout(res, 300));
    const all = agent.spans(of(r.pid));
    assert.deepEqual(
      all.map((s) => [s.name, s.kind, s.attributes['messaging.batch.message_count'], s.attributes['messaging.kafka.offset'], s.attributes['messaging.client.id']]),
      [
        ['publish clicks', 'producer', 2, 0, 'obi-platformatic'],
        ['publish clicks', 'producer', 1, 2, 'obi-platformatic'],
        ['process clicks', 'consumer', 3, 0, 'obi-platformatic-consumer'],
      ],
    );
    assert.equal(all[2].attributes['messaging.destination.name'], 'clicks');
    assert.equal(all[2].traceId, '5b8aa5a2d2c872e8321cf37308d69df2');
    assert.equal(all[2].parentSpanId, '051581bf3cb55c13');
    assert.ok(all.every((s) => s.attributes['messaging.system'] === 'kafka' && s.attributes['messaging.destination.partition.id'] === '0'));
  });

  test('a request in a version newer than decoded (ApiVersions v5) is counted, never mis-parsed; the connection goes on', async () => {
    const r = await runGated(agent, gate, nodeBin, [join(apps, 'kafka-raw-client.ts'), String(peer.port), 'raw'], { env: { OTEL_SERVICE_NAME: 'raw-kafka' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { apiVersionsError: 35, baseOffset: 0 });
    await agent.waitSpans(1, of(r.pid));
    await new Promise((res) => setTimeout(res, 200));
    const all = agent.spans(of(r.pid));
    assert.deepEqual(
      all.map((s) => [s.name, s.attributes['messaging.batch.message_count'], s.attributes['messaging.client.id']]),
      [['publish raw', 2, 'raw-client']],
    );
    assert.equal(await agent.metricValue('obi_parser_errors_total', { protocol: 'kafka', kind: 'unsupported_version' }), 1);
    assert.equal(await agent.metricValue('obi_parser_errors_total', { protocol: 'kafka', kind: 'invalid_frame' }), 0);
  });
});
