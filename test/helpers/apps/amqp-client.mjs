// Traced AMQP 0-9-1 client for test/integration/messaging-amqp.test.ts (amqplib): one
// connection, three channels. A confirm channel declares a topic exchange `events` and a queue
// `tasks`, publishes 3 messages to `tasks` through the default exchange (one with a
// traceparent header), 2 to `events` with routing key `eu.created`, and waits for the confirms.
// A consumer channel consumes `tasks` and acks two messages, nacks the third (without requeue);
// a third channel basic.gets from an empty queue and from `parked` (one message, acked). Prints
// what it did.
import amqp from 'amqplib';

const [port, traceparent] = [Number(process.argv[2]), process.argv[3]];
const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
const pub = await conn.createConfirmChannel();
await pub.assertExchange('events', 'topic', { durable: false });
await pub.assertQueue('tasks', { durable: false });
await pub.assertQueue('events-eu', { durable: false });
await pub.bindQueue('events-eu', 'events', 'eu.*');
await pub.assertQueue('parked', { durable: false });
await pub.assertQueue('empty', { durable: false });
pub.sendToQueue('tasks', Buffer.from('task-1'), { messageId: 'm-1' });
pub.sendToQueue('tasks', Buffer.from('task-2'), { headers: { traceparent } });
pub.sendToQueue('tasks', Buffer.from('task-3-nack'));
pub.publish('events', 'eu.created', Buffer.from('{"id":1}'));
pub.publish('events', 'eu.created', Buffer.from('{"id":2}'));
pub.sendToQueue('parked', Buffer.from('parked-1'));
await pub.waitForConfirms();

const sub = await conn.createChannel();
let seen = 0;
const done = new Promise((resolve) => {
  sub.consume('tasks', (msg) => {
    seen++;
    if (msg.content.toString().endsWith('nack')) sub.nack(msg, false, false);
    else sub.ack(msg);
    if (seen === 3) resolve();
  });
});
await done;

const getter = await conn.createChannel();
const none = await getter.get('empty');
const one = await getter.get('parked');
getter.ack(one);
await getter.close();
await sub.close();
await pub.close();
await conn.close();
console.log(JSON.stringify({ seen, empty: none === false, parked: one ? one.content.toString() : null }));
