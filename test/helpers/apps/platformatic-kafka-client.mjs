// @platformatic/kafka (a current client that negotiates flexible versions and topic ids) producer
// then consumer against a broker on 127.0.0.1:<port> (test/integration/messaging-kafka.test.ts).
// Usage: platformatic-kafka-client.mjs <port> <topic> <group>
// Produces 2 sends (2 messages, the first with a `traceparent` header; then 1 message), then
// consumes the topic from the beginning in group <group> until the 3 came; prints one JSON line.
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const [port, topic, group] = process.argv.slice(2);
const bootstrapBrokers = [`127.0.0.1:${port}`];
const traceparent = '00-5b8aa5a2d2c872e8321cf37308d69df2-051581bf3cb55c13-01';

const producer = new Producer({ clientId: 'obi-platformatic', bootstrapBrokers, serializers: stringSerializers, autocreateTopics: true });
await producer.send({
  messages: [
    { topic, key: 'a', value: 'first', headers: new Map([['traceparent', traceparent]]) },
    { topic, key: 'b', value: 'second' },
  ],
});
await producer.send({ messages: [{ topic, key: 'c', value: 'third' }] });
await producer.close();

const consumer = new Consumer({ groupId: group, clientId: 'obi-platformatic-consumer', bootstrapBrokers, deserializers: stringDeserializers, maxWaitTime: 100 });
const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, sessionTimeout: 10000, heartbeatInterval: 1000 });
const seen = [];
const timer = setTimeout(() => {
  console.error(`timeout: consumed ${seen.length}`);
  process.exit(2);
}, 20000);
for await (const message of stream) {
  seen.push(message.value);
  if (seen.length >= 3) break;
}
clearTimeout(timer);
await stream.close();
await consumer.close();
console.log(JSON.stringify({ produced: 3, consumed: seen.length, values: seen }));
