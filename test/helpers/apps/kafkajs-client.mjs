// kafkajs producer then consumer against a broker on 127.0.0.1:<port> (test/integration/messaging-kafka.test.ts).
// Usage: kafkajs-client.mjs <port> <topic> <group>
// Produces 3 single-message sends (the first with a `traceparent` header) and one send of 4
// messages, then consumes the topic from the beginning in consumer group <group> until the 7
// messages came, and prints one JSON line: { produced, consumed, traceparent }.
import { Kafka, logLevel } from 'kafkajs';

const [port, topic, group] = process.argv.slice(2);
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const kafka = new Kafka({ clientId: 'obi-kafkajs', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();
await producer.send({ topic, messages: [{ key: 'k0', value: 'm0', headers: { traceparent } }] });
await producer.send({ topic, messages: [{ key: 'k1', value: 'm1' }] });
await producer.send({ topic, messages: [{ key: 'k2', value: 'm2' }] });
await producer.send({ topic, messages: [3, 4, 5, 6].map((i) => ({ key: `k${i}`, value: `m${i}` })) });
await producer.disconnect();

const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100, heartbeatInterval: 1000 });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const seen = [];
let tp;
await new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error(`timeout: consumed ${seen.length}`)), 20000);
  consumer
    .run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString());
        if (message.headers?.traceparent) tp = message.headers.traceparent.toString();
        if (seen.length >= 7) {
          clearTimeout(t);
          resolve();
        }
      },
    })
    .catch(reject);
});
await consumer.disconnect();
console.log(JSON.stringify({ produced: 7, consumed: seen.length, values: seen, traceparent: tp }));
