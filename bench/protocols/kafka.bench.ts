/**
 * Kafka parse + stitch: ns per exchange, fed to one ProtocolSession as two segments each:
 * a Produce v7 of one 100-byte record with its response (`publish`), and a Fetch v11 response
 * of 10 batches of 5 records with a `traceparent` header (`process`).
 * Run: node bench/protocols/kafka.bench.ts  [iterations]
 */
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import { createKafkaParser } from '../../src/protocols/kafka/index.ts';
import * as F from '../../test/helpers/kafka-frames.ts';

const value = 'x'.repeat(100);
const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const produce = (corr: number): [Buffer, Buffer] => [
  F.requestFrame(0, 7, corr, 'bench-producer', F.produceRequestBody(7, -1, [{ name: 'orders', partitions: [{ index: 0, records: F.recordBatch(0, [{ key: 'k', value }]) }] }])),
  F.responseFrame(0, 7, corr, F.produceResponseBody(7, [{ name: 'orders', partitions: [{ index: 0, error: 0, baseOffset: 42 }] }])),
];
const batches = Buffer.concat(Array.from({ length: 10 }, (_, b) => F.recordBatch(b * 5, Array.from({ length: 5 }, () => ({ key: 'k', value, headers: [['traceparent', tp]] as [string, string][] })))));
const fetch = (corr: number): [Buffer, Buffer] => [
  F.requestFrame(1, 11, corr, 'bench-consumer', F.fetchRequestBody(11, [{ name: 'orders', partitions: [0] }])),
  F.responseFrame(1, 11, corr, F.fetchResponseBody(11, [{ name: 'orders', partitions: [{ index: 0, records: batches }] }])),
];

function run(make: (corr: number) => [Buffer, Buffer], n: number): number {
  const [req, resp] = make(1);
  const s = new ProtocolSession(createKafkaParser());
  let ts = 1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    req.writeInt32BE(i, 8); // correlation id
    resp.writeInt32BE(i, 4);
    s.feed('request', req, req.length, ts++);
    count += s.feed('response', resp, resp.length, ts++).length;
  }
  return count;
}

const n = Number(process.argv[2] ?? 200_000);
for (const [name, make] of [['Produce v7 + response', produce], ['Fetch v11 (10 batches x 5 records)', fetch]] as const) {
  run(make, 20_000); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const got = run(make, n);
    const dt = performance.now() - t0;
    if (got !== n) throw new Error(`expected ${n} records, got ${got}`);
    rounds.push((dt * 1e6) / n);
  }
  rounds.sort((a, b) => a - b);
  const [q, p] = make(1);
  console.log(`kafka ${name} (${q.length} B + ${p.length} B, 2 segments): median ${rounds[2].toFixed(0)} ns/exchange (min ${rounds[0].toFixed(0)}, max ${rounds[4].toFixed(0)}; ${n} x 5)`);
}
