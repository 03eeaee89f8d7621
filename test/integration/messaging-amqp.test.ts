/**
 * AMQP 0-9-1 end to end on the real kernel: a real rabbitmq-server (3.10, Debian) started once
 * for this file as its own Erlang node on loopback (slow to boot), with amqplib (Node) and pika
 * (Python, Debian python3-pika) as traced clients. Exact spans per operation and destination:
 * confirmed publishes, consumers that ack, nack and reject, basic.get, a traceparent in the
 * headers table linking the hop; the messaging metrics and the service-graph edges.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, nodeBin, sleep, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate } from '../helpers/db-servers.ts';
import { startRabbit, type RabbitServer } from '../helpers/messaging-servers.ts';

const amqplibClient = join(import.meta.dirname, '../helpers/apps/amqp-client.mjs');
const pikaClient = join(import.meta.dirname, '../helpers/apps/pika-client.py');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TP = `00-${TRACE_ID}-${PARENT}-01`;

describe('AMQP 0-9-1: amqplib and pika against rabbitmq-server', { timeout: 240_000 }, () => {
  let agent: TestAgent;
  let rabbit: RabbitServer;
  let gate: Gate;

  before(async () => {
    rabbit = await startRabbit();
    gate = createGate();
    // the broker and the clients share loopback: keep the service-graph edges between them
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe, OTEL_EBPF_METRICS_FEATURES: 'application,application_service_graph', OTEL_EBPF_PROMETHEUS_ALLOW_SERVICE_GRAPH_SELF_REFERENCES: 'true' });
  }, { timeout: 120_000 });

  after(async () => {
    await agent?.stop();
    await rabbit?.stop();
    gate?.cleanup();
  });

  async function spansOf(pid: number, count: number): Promise<SpanJSON[]> {
    const of = (s: SpanJSON) => s.service.pid === pid;
    await agent.waitSpans(count, of, 20_000);
    await sleep(300);
    return agent.spans(of);
  }

  const tally = (spans: SpanJSON[]) => {
    const t: Record<string, number> = {};
    for (const s of spans) {
      const k = `${s.name}${s.status === 'error' ? ` [${s.attributes['error.type']}]` : ''}`;
      t[k] = (t[k] ?? 0) + 1;
    }
    return t;
  };

  test('amqplib: confirmed publishes, a consumer that acks and nacks, basic.get, traceparent hop, metrics, service graph', async () => {
    const r = await runGated(agent, gate, nodeBin, [amqplibClient, String(rabbit.port), TP], { env: { OTEL_SERVICE_NAME: 'amqplib-app' }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { seen: 3, empty: true, parked: 'parked-1' });
    const spans = await spansOf(r.pid, 12);
    assert.deepEqual(tally(spans), {
      'publish tasks': 3,
      'publish events:eu.created': 2,
      'publish parked': 1,
      'process tasks': 2,
      'process tasks [nack]': 1,
      'receive empty': 1,
      'receive parked': 1,
      'process parked': 1,
    });
    for (const s of spans) {
      const op = s.name.split(' ')[0];
      assert.equal(s.kind, op === 'publish' ? 'producer' : op === 'process' ? 'consumer' : 'client');
      assert.equal(s.attributes['messaging.system'], 'rabbitmq');
      assert.equal(s.attributes['messaging.operation.type'], op);
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], rabbit.port);
    }
    const events = spans.filter((s) => s.name === 'publish events:eu.created');
    assert.ok(events.every((s) => s.attributes['rabbitmq.destination.routing_key'] === 'eu.created' && s.attributes['messaging.destination.name'] === 'events:eu.created'));
    // confirmed publishes end at the broker's basic.ack
    assert.ok(spans.filter((s) => s.name.startsWith('publish')).every((s) => s.durationNs > 0));
    assert.deepEqual(spans.filter((s) => s.name === 'receive empty').map((s) => s.attributes['messaging.operation.name']), ['get']);
    const nacked = spans.find((s) => s.status === 'error')!;
    assert.equal(nacked.attributes['rabbitmq.message.delivery_tag'], 3);
    assert.equal(nacked.attributes['messaging.message.body.size'], 11);
    const first = spans.find((s) => s.name === 'process tasks' && s.attributes['messaging.message.id'] === 'm-1');
    assert.ok(first, 'message-id carried to the consumer');
    // the message with a traceparent: publish and process both in the producer's trace
    const linked = spans.filter((s) => s.traceId === TRACE_ID);
    assert.deepEqual(linked.map((s) => s.name).sort(), ['process tasks', 'publish tasks']);
    assert.ok(linked.every((s) => s.parentSpanId === PARENT));

    const labels = { service_name: 'amqplib-app', messaging_system: 'rabbitmq', server_address: '127.0.0.1' };
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_destination_name: 'tasks', messaging_operation_name: 'publish' }), 3);
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_destination_name: 'empty', messaging_operation_name: 'get' }), 1);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { ...labels, messaging_destination_name: 'tasks', messaging_operation_name: 'process' }), 3);
    // service graph: amqplib-app -> broker (producer side), broker -> amqplib-app (consumer side)
    const edge = { connection_type: 'messaging_system' };
    assert.equal(await agent.metricValue('traces_service_graph_request_client_seconds_count', { ...edge, client: 'amqplib-app', server: '127.0.0.1' }), 8);
    assert.equal(await agent.metricValue('traces_service_graph_request_server_seconds_count', { ...edge, client: '127.0.0.1', server: 'amqplib-app' }), 4);
    assert.equal(await agent.metricValue('traces_service_graph_request_failed_total', { ...edge, client: '127.0.0.1', server: 'amqplib-app' }), 1);
  });

  test('pika: publishes without confirms, a consumer that acks one message and rejects one', async () => {
    const r = await runGated(agent, gate, '/usr/bin/python3', [pikaClient, String(rabbit.port), TP], { env: { OTEL_SERVICE_NAME: 'pika-app' }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.output.trim().split('\n').pop(), 'job-1,job-2-reject');
    const spans = await spansOf(r.pid, 4);
    assert.deepEqual(tally(spans), { 'publish py-jobs': 2, 'process py-jobs': 1, 'process py-jobs [reject]': 1 });
    const rejected = spans.find((s) => s.status === 'error')!;
    assert.equal(rejected.traceId, TRACE_ID);
    assert.equal(rejected.parentSpanId, PARENT);
    assert.equal(rejected.attributes['messaging.message.body.size'], 12);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { service_name: 'pika-app', messaging_destination_name: 'py-jobs' }), 2);
  });
});
