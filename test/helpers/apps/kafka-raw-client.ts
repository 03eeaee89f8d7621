// A hand-made Kafka client for test/integration/messaging-kafka.test.ts: on one connection to
// 127.0.0.1:<port>, an ApiVersions v5 request (a version newer than any broker or parser knows;
// the broker answers in v0 with UNSUPPORTED_VERSION), then a Produce v7 of 2 records to <topic>.
// Prints one JSON line with the Produce response's base offset.
import { connect } from 'node:net';
import * as F from '../kafka-frames.ts';

const [port, topic] = process.argv.slice(2);
const sock = connect(Number(port), '127.0.0.1');
let buf = Buffer.alloc(0);
const frames: Buffer[] = [];
const next = (): Promise<Buffer> =>
  new Promise((resolve) => {
    const poll = (): void => {
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const n = buf.readInt32BE(0);
        const f = buf.subarray(4, 4 + n);
        buf = buf.subarray(4 + n);
        frames.push(f);
        resolve(f);
      } else sock.once('data', (d: Buffer) => ((buf = Buffer.concat([buf, d])), poll()));
    };
    poll();
  });
await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
sock.write(F.requestFrame(18, 5, 1, 'raw-client', F.apiVersionsRequestBody(4)));
const av = await next();
sock.write(F.requestFrame(0, 7, 2, 'raw-client', F.produceRequestBody(7, 1, [{ name: topic, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'r1' }, { value: 'r2' }]) }] }])));
const pr = await next();
sock.end();
// ApiVersions v0 answer: correlation id, error code; Produce v7: ..., base offset after topic and partition
const nameLen = pr.readInt16BE(8);
console.log(JSON.stringify({ apiVersionsError: av.readInt16BE(4), baseOffset: Number(pr.readBigInt64BE(8 + 2 + nameLen + 4 + 4 + 2)) }));
