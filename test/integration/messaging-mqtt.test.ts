/**
 * MQTT end to end on the real kernel: a real mosquitto (2.0, Debian) on loopback; the `mqtt`
 * npm client (MQTT 3.1.1 and 5.0) and mosquitto_pub / mosquitto_sub as traced clients.
 * Exact spans per operation and topic, QoS 1 and 2 publishes ending at their PUBACK /
 * PUBCOMP, deliveries processed until the client's acks, an MQTT 5 traceparent user property
 * linking the hop, and the messaging metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestAgent, nodeBin, run, sleep, type SpanJSON } from '../helpers/harness.ts';
import { createGate, runGated, type Gate, type SimpleServer } from '../helpers/db-servers.ts';
import { startMosquitto } from '../helpers/messaging-servers.ts';

const client = join(import.meta.dirname, '../helpers/apps/mqtt-client.mjs');

/**
 * MQTT 3.1.1 by hand (the OASIS specification): CONNECT, CONNACK, `n` QoS 0 PUBLISHes and one
 * QoS 1 PUBLISH answered by its PUBACK, then the process ends at once (os._exit: no DISCONNECT,
 * no close; the kernel closes the socket after the exit).
 */
const EXIT_AFTER_PUBLISH = `
import os, socket, sys
def s(b): return len(b).to_bytes(2, 'big') + b
def packet(kind, body): return bytes([kind, len(body)]) + body
port, cid, n = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
c = socket.create_connection(('127.0.0.1', port))
c.sendall(packet(0x10, s(b'MQTT') + bytes([4, 2, 0, 60]) + s(cid)))
assert c.recv(4) == bytes([0x20, 2, 0, 0])
for i in range(n):
    c.sendall(packet(0x30, s(b'exit/q0') + b'm%d' % i))
c.sendall(packet(0x32, s(b'exit/q1') + (1).to_bytes(2, 'big') + b'last'))
ack = b''
while len(ack) < 4:
    ack += c.recv(4 - len(ack))
assert ack == bytes([0x40, 2, 0, 1]), ack
os._exit(0)
`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TP = `00-${TRACE_ID}-${PARENT}-01`;

describe('MQTT: mqtt.js and mosquitto clients against mosquitto', () => {
  let agent: TestAgent;
  let broker: SimpleServer;
  let gate: Gate;

  before(async () => {
    broker = await startMosquitto();
    gate = createGate();
    agent = await TestAgent.start({ OTEL_EBPF_AUTO_TARGET_EXE: gate.exe });
  });

  after(async () => {
    await agent?.stop();
    await broker?.stop();
    gate?.cleanup();
  });

  /** every span of the process, once nothing more arrives */
  async function spansOf(pid: number, count: number): Promise<SpanJSON[]> {
    const of = (s: SpanJSON) => s.service.pid === pid;
    try {
      await agent.waitSpans(count, of, 20_000);
    } catch (err) {
      const seen = agent.spans(of).map((s) => `${s.name} ${s.attributes['messaging.client.id']}`);
      const selfMetrics = (await agent.metrics()).split('\n').filter((l) => /^obi_(parser|spans_dropped|ingest_conn)/.test(l) && !l.endsWith(' 0'));
      const logs = agent.logs.filter((l) => l.includes(String(pid)));
      throw new Error(`${(err as Error).message}; seen: ${JSON.stringify(seen)}; ${selfMetrics.join('; ')}; logs: ${logs.join(' | ')}`);
    }
    await sleep(300);
    return agent.spans(of);
  }

  for (const version of [4, 5]) {
    test(`mqtt.js MQTT ${version === 5 ? '5.0' : '3.1.1'}: QoS 0/1/2 publishes and deliveries${version === 5 ? ', traceparent user property' : ''}`, async () => {
      const svc = `mqtt-js-v${version}`;
      const r = await runGated(agent, gate, nodeBin, [client, String(broker.port), String(version), TP], { env: { OTEL_SERVICE_NAME: svc } });
      assert.equal(r.code, 0, r.output);
      const got = JSON.parse(r.output.trim().split('\n').pop()!) as { topic: string; qos: number; traceparent: string }[];
      assert.deepEqual(got.map((g) => [g.topic, g.qos]), [['jobs/a', 0], ['jobs/b', 1], ['jobs/c', 2]]);
      const spans = await spansOf(r.pid, 6);
      assert.equal(spans.length, 6);
      const byName = (n: string) => spans.filter((s) => s.name === n);
      for (const t of ['a', 'b', 'c']) {
        assert.equal(byName(`publish jobs/${t}`).length, 1, `publish jobs/${t}`);
        assert.equal(byName(`process jobs/${t}`).length, 1, `process jobs/${t}`);
      }
      for (const s of spans) {
        const publish = s.name.startsWith('publish');
        assert.equal(s.kind, publish ? 'producer' : 'consumer');
        assert.equal(s.status, 'unset');
        assert.equal(s.attributes['messaging.system'], 'mqtt');
        assert.equal(s.attributes['messaging.client.id'], publish ? `pub-v${version}` : `sub-v${version}`);
        assert.equal(s.attributes['server.port'], broker.port);
      }
      assert.deepEqual(
        ['publish jobs/a', 'publish jobs/b', 'publish jobs/c'].map((n) => byName(n)[0].attributes['messaging.message.body.size']),
        [4, 3, 3],
      );
      // QoS 1 and 2 publishes last until the broker's PUBACK / PUBCOMP
      assert.ok(byName('publish jobs/b')[0].durationNs > 0);
      assert.ok(byName('publish jobs/c')[0].durationNs > 0);
      const linked = spans.filter((s) => s.traceId === TRACE_ID);
      if (version === 5) {
        assert.deepEqual(linked.map((s) => s.name).sort(), ['process jobs/c', 'publish jobs/c']);
        assert.ok(linked.every((s) => s.parentSpanId === PARENT));
      } else assert.equal(linked.length, 0);
      const labels = { service_name: svc, messaging_system: 'mqtt', server_address: '127.0.0.1' };
      for (const t of ['a', 'b', 'c']) {
        assert.equal(await agent.metricValue('messaging_client_operation_duration_seconds_count', { ...labels, messaging_destination_name: `jobs/${t}` }), 1);
        assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { ...labels, messaging_destination_name: `jobs/${t}` }), 1);
      }
    });
  }

  test('mosquitto_pub: QoS 1 (MQTT 3.1.1) and QoS 2 (MQTT 5) publishes, one span each, ended by the broker acks', async () => {
    for (const [qos, v] of [['1', 'mqttv311'], ['2', 'mqttv5']]) {
      const id = `mosq-pub-q${qos}`;
      const r = await runGated(agent, gate, 'mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', v, '-q', qos, '-i', id, '-t', `sensors/q${qos}`, '-m', 'hello'], {
        env: { OTEL_SERVICE_NAME: id },
      });
      assert.equal(r.code, 0, r.output);
      const spans = await spansOf(r.pid, 1);
      assert.deepEqual(spans.map((s) => [s.name, s.kind, s.attributes['messaging.client.id'], s.attributes['messaging.message.body.size']]), [[`publish sensors/q${qos}`, 'producer', id, 5]]);
      assert.ok(spans[0].durationNs > 0);
    }
  });

  test('a client that exits right after its last publish: every span keeps its process', async () => {
    // the agent flushes a process's connections at its exit event and keeps the identity of an
    // exited process a while for records resolved after it: none is dropped as unknown_process
    const dropped = async () => (await agent.metricValue('obi_spans_dropped_total', { reason: 'unknown_process' })) ?? 0;
    const before = await dropped();
    const runs = 8;
    const n = 3;
    for (let i = 0; i < runs; i++) {
      const id = `exit-pub-${i}`;
      const r = await runGated(agent, gate, 'python3', ['-c', EXIT_AFTER_PUBLISH, String(broker.port), id, String(n)], { env: { OTEL_SERVICE_NAME: id } });
      assert.equal(r.code, 0, r.output);
      const spans = await spansOf(r.pid, n + 1);
      assert.deepEqual(
        spans.map((s) => [s.name, s.kind, s.service.name, s.attributes['messaging.client.id']]),
        [...Array.from({ length: n }, () => ['publish exit/q0', 'producer', id, id]), ['publish exit/q1', 'producer', id, id]],
      );
    }
    assert.equal((await dropped()) - before, 0, 'no record dropped as of an unknown process');
  });

  test('mosquitto_sub: retained messages delivered at QoS 1 and 2 are processed until the client acks them', async () => {
    // published by an untraced mosquitto_pub (not the gate): only the subscriber is traced
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-r', '-t', 'retained/one', '-m', 'first']);
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '2', '-r', '-t', 'retained/two', '-m', 'second!']);
    const r = await runGated(agent, gate, 'mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv5', '-q', '2', '-C', '2', '-W', '20', '-i', 'mosq-sub', '-t', 'retained/#'], {
      env: { OTEL_SERVICE_NAME: 'mosq-sub' },
    });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.output.trim().split('\n').sort(), ['first', 'second!']);
    const spans = await spansOf(r.pid, 2);
    assert.deepEqual(
      spans.map((s) => [s.name, s.kind, s.attributes['messaging.client.id'], s.attributes['messaging.message.body.size']]).sort(),
      [
        ['process retained/one', 'consumer', 'mosq-sub', 5],
        ['process retained/two', 'consumer', 'mosq-sub', 7],
      ],
    );
    assert.equal(await agent.metricValue('messaging_process_duration_seconds_count', { service_name: 'mosq-sub', messaging_destination_name: 'retained/two' }), 1);
  });
});
