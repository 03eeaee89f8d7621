/**
 * NATS end to end on the real kernel: a real nats-server (Debian) on loopback and the `nats`
 * npm client as the traced process (publishes, a queue-group subscription, HPUB/HMSG with a
 * traceparent, request–reply through an inbox). Exact spans per operation and subject,
 * the message hop linked to the producer's trace, and the messaging metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, nodeBin, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate, type SimpleServer } from '../helpers/db-servers.ts';
import { startNats } from '../helpers/messaging-servers.ts';

const client = join(import.meta.dirname, '../helpers/apps/nats-client.mjs');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('NATS: the nats npm client against nats-server', () => {
  let agent: TestAgent;
  let nats: SimpleServer;
  let gate: Gate;

  before(async () => {
    nats = await startNats();
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
  });

  after(async () => {
    await agent?.stop();
    await nats?.stop();
    gate?.cleanup();
  });

  test('publish / process spans per subject, queue group, inbox request-reply, traceparent hop, metrics', async () => {
    const r = await runGated(agent, gate, nodeBin, [client, String(nats.port), `00-${TRACE_ID}-${PARENT}-01`], { env: { OTEL_SERVICE_NAME: 'nats-app' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.output.trim().split('\n').pop()!), { orders: 5, audit: 1, traceparent: `00-${TRACE_ID}-${PARENT}-01`, reply: '12:00' });
    // 7 publishes (3 orders.new, 2 orders.old, audit, the svc.time request) + the reply to the inbox;
    // 8 deliveries (5 orders.*, audit, svc.time, the reply on the inbox)
    const of = (s: SpanJSON) => s.service.pid === r.pid;
    await agent.waitSpans(16, of);
    await new Promise((res) => setTimeout(res, 300)); // nothing more may arrive
    const all = agent.spans(of);
    assert.equal(all.length, 16);
    const count = (name: string) => all.filter((s) => s.name === name).length;
    assert.deepEqual(
      Object.fromEntries([...new Set(all.map((s) => s.name))].sort().map((n) => [n, count(n)])),
      {
        'process _INBOX': 1,
        'process audit': 1,
        'process orders.new': 3,
        'process orders.old': 2,
        'process svc.time': 1,
        'publish _INBOX': 1,
        'publish audit': 1,
        'publish orders.new': 3,
        'publish orders.old': 2,
        'publish svc.time': 1,
      },
    );
    for (const s of all) {
      assert.equal(s.kind, s.name.startsWith('publish') ? 'producer' : 'consumer');
      assert.equal(s.status, 'unset');
      assert.equal(s.service.name, 'nats-app');
      assert.equal(s.attributes['messaging.system'], 'nats');
      assert.equal(s.attributes['messaging.client.id'], 'nats-test-app');
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], nats.port);
      assert.equal(s.attributes['messaging.operation.type'], s.name.split(' ')[0]);
    }
    const orderProcess = all.filter((s) => s.name.startsWith('process orders.'));
    assert.ok(orderProcess.every((s) => s.attributes['messaging.consumer.group.name'] === 'workers'));
    assert.deepEqual(all.filter((s) => s.name === 'publish orders.new').map((s) => s.attributes['messaging.message.body.size']), [2, 2, 2]);
    // the message carrying a traceparent: both its publish and its process are in the producer's trace
    for (const name of ['publish audit', 'process audit']) {
      const s = all.find((x) => x.name === name)!;
      assert.equal(s.traceId, TRACE_ID, name);
      assert.equal(s.parentSpanId, PARENT, name);
      assert.ok(Number(s.attributes['messaging.message.envelope.size']) > Number(s.attributes['messaging.message.body.size']));
    }
    const other = all.filter((s) => !s.name.endsWith(' audit'));
    assert.ok(other.every((s) => s.traceId !== TRACE_ID && s.parentSpanId === undefined));
    // the responder processes the request until its reply is published
    const served = all.find((s) => s.name === 'process svc.time')!;
    const replied = all.find((s) => s.name === 'publish _INBOX')!;
    assert.ok(served.end >= replied.start, `${served.end} < ${replied.start}`); // same ISO-8601 format: ordered as strings

    const labels = { service_name: 'nats-app', messaging_system: 'nats', server_address: '127.0.0.1' };
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_destination_name: 'orders.new', messaging_operation_name: 'publish' }), 3);
    assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_destination_name: 'orders.old', messaging_operation_name: 'publish' }), 2);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { ...labels, messaging_destination_name: 'orders.new', messaging_operation_name: 'process' }), 3);
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { ...labels, messaging_destination_name: '_INBOX', messaging_operation_name: 'process' }), 1);
  });
});
