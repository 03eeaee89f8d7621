// Traced MQTT client for test/integration/messaging-mqtt.test.ts (the `mqtt` npm client): a
// subscriber connection (QoS 2 subscription on jobs/#) and a publisher connection, both MQTT
// <version> (4 = 3.1.1, 5 = 5.0). The publisher sends jobs/a at QoS 0, jobs/b at QoS 1 and
// jobs/c at QoS 2; with MQTT 5, jobs/c carries a traceparent user property. Waits until the
// subscriber has all three, then disconnects both. Prints what the subscriber got.
import mqtt from 'mqtt';

const [port, version, traceparent] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const url = `mqtt://127.0.0.1:${port}`;
const connect = (clientId) =>
  new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId, protocolVersion: version, reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
const sub = await connect(`sub-v${version}`);
const got = [];
const all = new Promise((resolve) =>
  sub.on('message', (topic, payload, packet) => {
    got.push({ topic, qos: packet.qos, traceparent: packet.properties?.userProperties?.traceparent ?? '' });
    if (got.length === 3) resolve();
  }),
);
await sub.subscribeAsync('jobs/#', { qos: 2 });
const pub = await connect(`pub-v${version}`);
await pub.publishAsync('jobs/a', 'zero', { qos: 0 });
await pub.publishAsync('jobs/b', 'one', { qos: 1 });
const props = version === 5 ? { properties: { userProperties: { traceparent } } } : {};
await pub.publishAsync('jobs/c', 'two', { qos: 2, ...props });
await Promise.race([all, new Promise((r) => setTimeout(r, 10_000).unref())]);
await pub.endAsync();
await sub.endAsync();
got.sort((a, b) => a.topic.localeCompare(b.topic));
console.log(JSON.stringify(got));
