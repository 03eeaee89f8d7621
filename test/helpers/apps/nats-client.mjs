// Traced NATS client for test/integration/messaging-nats.test.ts (the `nats` npm client): one
// connection that subscribes (a queue group on orders.*, audit, a responder on svc.time),
// publishes 3 + 2 messages, one with a traceparent header (HPUB), and makes one request
// through an inbox. Prints what it received.
import { connect, headers, StringCodec } from 'nats';

const [port, traceparent] = [Number(process.argv[2]), process.argv[3]];
const sc = StringCodec();
const nc = await connect({ servers: `127.0.0.1:${port}`, name: 'nats-test-app' });
const got = { orders: 0, audit: 0, traceparent: '' };
const orders = nc.subscribe('orders.*', { queue: 'workers' });
const audit = nc.subscribe('audit', { max: 1 });
const responder = nc.subscribe('svc.time', { max: 1 });
(async () => {
  for await (const _m of orders) got.orders++;
})();
const auditDone = (async () => {
  for await (const m of audit) {
    got.audit++;
    got.traceparent = m.headers?.get('traceparent') ?? '';
  }
})();
(async () => {
  for await (const m of responder) m.respond(sc.encode('12:00'));
})();
await nc.flush();
for (let i = 0; i < 3; i++) nc.publish('orders.new', sc.encode(`n${i}`));
for (let i = 0; i < 2; i++) nc.publish('orders.old', sc.encode(`o${i}`));
const h = headers();
h.set('traceparent', traceparent);
nc.publish('audit', sc.encode('abc'), { headers: h });
const reply = await nc.request('svc.time', sc.encode(''), { timeout: 5000 });
await auditDone;
const deadline = Date.now() + 5000;
while (got.orders < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
await nc.drain();
console.log(JSON.stringify({ ...got, reply: sc.decode(reply.data) }));
