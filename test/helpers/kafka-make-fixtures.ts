/**
 * Writes the Kafka parser fixtures (src/protocols/kafka/fixtures/*.md):
 * - captured-*.md: byte captures of real client sessions (kafkajs, kafka-python, @platformatic/kafka) against the
 *   broker peer (kafka-peer.ts), one block per read/write chunk, with the records those clients
 *   must yield (what each client app sends is fixed: see apps/kafkajs-client.mjs and
 *   apps/kafka-python-client.py);
 * - versions.md and gaps.md: frames built from the protocol specification (kafka-frames.ts) for
 *   what the clients under test never send: flexible versions, topic ids, acks = 0, compressed
 *   and control batches, partition errors, versions above those decoded, captured prefixes.
 * Run: .tools/node/bin/node test/helpers/kafka-make-fixtures.ts (needs python3-kafka, kafkajs, @platformatic/kafka).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKafkaPeer, type PeerChunk } from './kafka-peer.ts';
import * as F from './kafka-frames.ts';

const out = join(import.meta.dirname, '../../src/protocols/kafka/fixtures');
const apps = join(import.meta.dirname, 'apps');

function esc(b: Buffer): string[] {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 40) {
    let s = '';
    for (const c of b.subarray(i, i + 40)) s += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x3c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    lines.push(s);
  }
  return lines;
}

type Step = { type: 'request' | 'response'; data: Buffer; gapAfter?: number; ts?: number } | { type: 'close' };

function caseMd(name: string, note: string, steps: Step[], expect: object[], counters?: object): string {
  let s = `## case: ${name}\n${note}\n`;
  for (const st of steps) {
    if (st.type === 'close') {
      s += '### close\n';
      continue;
    }
    s += `### ${st.type}${st.ts !== undefined ? ` ts=${st.ts}` : ''}\n\`\`\`kafka\n${esc(st.data).join('\n')}\n${st.gapAfter !== undefined ? `<gap ${st.gapAfter}>\n` : ''}\`\`\`\n`;
  }
  s += `### expect\n\`\`\`json\n${JSON.stringify(expect, null, 0).replace(/\},\{/g, '},\n {')}\n\`\`\`\n`;
  if (counters !== undefined) s += `### counters\n\`\`\`json\n${JSON.stringify(counters)}\n\`\`\`\n`;
  return s + '\n';
}

const CLEAN = { invalidFrames: 0, droppedBytes: 0, unpairedFrames: 0, partialFrames: 0, parserErrors: 0 };
/** for sessions that may end with a request in flight */
const SOUND = { invalidFrames: 0, droppedBytes: 0, partialFrames: 0, parserErrors: 0 };

async function runClient(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { cwd: join(import.meta.dirname, '../..') });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`${cmd} failed: ${text}`);
}

const steps = (chunks: PeerChunk[]): Step[] => chunks.map((c) => ({ type: c.type, data: c.data }));

async function captured(): Promise<void> {
  // kafkajs
  let peer = await startKafkaPeer();
  await runClient(process.execPath, [join(apps, 'kafkajs-client.mjs'), String(peer.port), 'orders', 'obi-group']);
  await peer.stop();
  const [prod, group, fetch] = peer.sessions;
  const pub = (offset: number, n: number) => ({ operation: 'publish', system: 'kafka', destination: 'orders', clientId: 'obi-kafkajs', partition: '0', offset, messageCount: n, apiVersion: 7, truncated: false, errorType: null, traceparent: null });
  let md = '# Kafka fixtures: kafkajs 2.2.4 sessions captured against the broker peer\n\nFormat: see test/helpers/protocol-fixtures.ts. Written by test/helpers/kafka-make-fixtures.ts: each block is one read or write of the session.\n\n';
  md += caseMd('kafkajs producer: ApiVersions v2, Metadata v6, four Produce v7 (1, 1, 1, 4 messages)', '', [...steps(prod.chunks), { type: 'close' }], [pub(0, 1), pub(1, 1), pub(2, 1), pub(3, 4)], CLEAN);
  md += caseMd('kafkajs consumer group connection: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, ListOffsets, OffsetCommit, LeaveGroup yield nothing', '', [...steps(group.chunks), { type: 'close' }], [], CLEAN);
  md += caseMd(
    'kafkajs fetch connection: one Fetch v11 returning the 7 messages in 4 batches, traceparent from the first record',
    '',
    [...steps(fetch.chunks), { type: 'close' }],
    [{ operation: 'process', destination: 'orders', clientId: 'obi-kafkajs', partition: '0', offset: 0, messageCount: 7, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', apiVersion: 11, truncated: false }],
    SOUND, // a long poll may be in flight when the consumer leaves
  );
  writeFileSync(join(out, 'captured-kafkajs.md'), md);

  // kafka-python
  peer = await startKafkaPeer();
  await runClient('/usr/bin/python3', [join(apps, 'kafka-python-client.py'), String(peer.port), 'payments']);
  await peer.stop();
  md = '# Kafka fixtures: kafka-python 2.0.2 (Debian python3-kafka) sessions captured against the broker peer\n\nFormat: see test/helpers/protocol-fixtures.ts. Written by test/helpers/kafka-make-fixtures.ts.\n\n';
  const names = ['bootstrap (ApiVersions v0, Metadata v0/v1)', 'producer (Metadata v1, three Produce v7)', 'consumer bootstrap', 'consumer (ListOffsets v1, Fetch v4 of the 3 messages)'];
  const pp = (offset: number) => ({ operation: 'publish', destination: 'payments', clientId: 'obi-kafka-python', partition: '0', offset, messageCount: 1, apiVersion: 7 });
  peer.sessions.forEach((s, i) => {
    const expect = s.apiKeys.includes(0)
      ? [pp(0), pp(1), pp(2)]
      : s.apiKeys.includes(1)
        ? [{ operation: 'process', destination: 'payments', clientId: 'obi-kafka-python-consumer', partition: '0', offset: 0, messageCount: 3, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', apiVersion: 4 }]
        : [];
    md += caseMd(`kafka-python ${names[i] ?? `connection ${i + 1}`}`, '', [...steps(s.chunks), { type: 'close' }], expect, s.apiKeys.includes(1) ? SOUND : CLEAN);
  });
  writeFileSync(join(out, 'captured-kafka-python.md'), md);

  // @platformatic/kafka: flexible versions and topic ids
  peer = await startKafkaPeer();
  await runClient(process.execPath, [join(apps, 'platformatic-kafka-client.mjs'), String(peer.port), 'clicks', 'pf-group']);
  await peer.stop();
  const id = (peer.topicId('clicks') as Buffer).toString('base64url');
  md = '# Kafka fixtures: @platformatic/kafka 2.12.1 sessions captured against the broker peer (flexible versions, topic ids)\n\nFormat: see test/helpers/protocol-fixtures.ts. Written by test/helpers/kafka-make-fixtures.ts.\n\n';
  const [pprod, pgroup, pfetch] = peer.sessions;
  md += caseMd(
    'platformatic producer: ApiVersions v3 (flexible, response header v0), Metadata v12, two Produce v11 (2 then 1 messages)',
    '',
    [...steps(pprod.chunks), { type: 'close' }],
    [
      { operation: 'publish', destination: 'clicks', clientId: 'obi-platformatic', partition: '0', offset: 0, messageCount: 2, apiVersion: 11, truncated: false },
      { operation: 'publish', destination: 'clicks', clientId: 'obi-platformatic', partition: '0', offset: 2, messageCount: 1, apiVersion: 11, truncated: false },
    ],
    CLEAN,
  );
  md += caseMd('platformatic consumer group connection (Metadata v12 among the group APIs) yields nothing', '', [...steps(pgroup.chunks), { type: 'close' }], [], CLEAN);
  md += caseMd(
    'platformatic fetch connection: Fetch v17 names the topic by id; no Metadata on this connection, so alone it stays unresolved (`process *`, the id kept)',
    'In the agent the parser-wide cache (ebpf.kafka_topic_uuid_cache_size) names it from the Metadata response of the other connection (test/integration/messaging-kafka.test.ts).',
    [...steps(pfetch.chunks), { type: 'close' }],
    [{ operation: 'process', destination: null, topicId: id, clientId: 'obi-platformatic-consumer', partition: '0', offset: 0, messageCount: 3, traceparent: '00-5b8aa5a2d2c872e8321cf37308d69df2-051581bf3cb55c13-01', apiVersion: 17, truncated: false }],
    SOUND,
  );
  writeFileSync(join(out, 'captured-platformatic.md'), md);
}

const ID_A = Buffer.from('5f0e1c2d3b4a59687766554433221100', 'hex');
const ID_B = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const b64 = (b: Buffer): string => b.toString('base64url');
const TP = '00-11111111111111111111111111111111-2222222222222222-01';

function versions(): void {
  let md = '# Kafka fixtures: versions the clients under test do not send (built from the specification)\n\nFormat: see test/helpers/protocol-fixtures.ts. Written by test/helpers/kafka-make-fixtures.ts from test/helpers/kafka-frames.ts.\n\n';
  // 1. flexible ApiVersions v3 (response header v0), Metadata v12 with topic ids, Fetch v13 by id
  const batch1 = F.recordBatch(10, [{ key: 'a', value: '1', headers: [['traceparent', TP]] }, { value: '2' }]);
  const batch2 = F.recordBatch(12, [{ value: '3' }]);
  md += caseMd(
    'flexible: ApiVersions v3, Metadata v12 names topic ids, Fetch v13 (topics by id) resolved on the same connection',
    'ApiVersions v3+ responses keep header v0; Metadata v12 and Fetch v13 are flexible (compact strings and arrays, tagged fields, a CurrentLeader tag).',
    [
      { type: 'request', data: F.requestFrame(18, 3, 1, 'modern-client', F.apiVersionsRequestBody(3)) },
      { type: 'response', data: F.responseFrame(18, 3, 1, F.apiVersionsResponseBody(3, [[0, 3, 13], [1, 4, 18], [3, 0, 13], [18, 0, 4]])) },
      { type: 'request', data: F.requestFrame(3, 12, 2, 'modern-client', F.metadataRequestBody(12, ['clicks', 'views'])) },
      { type: 'response', data: F.responseFrame(3, 12, 2, F.metadataResponseBody(12, [{ name: 'clicks', id: ID_A, partitions: 2 }, { name: 'views', id: ID_B, partitions: 1 }])) },
      { type: 'request', data: F.requestFrame(1, 13, 3, 'modern-client', F.fetchRequestBody(13, [{ id: ID_A, partitions: [0, 1] }])) },
      { type: 'response', data: F.responseFrame(1, 13, 3, F.fetchResponseBody(13, [{ id: ID_A, partitions: [{ index: 0, records: null }, { index: 1, records: Buffer.concat([batch1, batch2]) }] }])) },
    ],
    [{ operation: 'process', destination: 'clicks', topicId: b64(ID_A), clientId: 'modern-client', partition: '1', offset: 10, messageCount: 3, traceparent: TP, apiVersion: 13, truncated: false }],
    CLEAN,
  );
  md += caseMd(
    'Fetch v17 by a topic id no Metadata response named: destination unset (`process *`), the id kept',
    '',
    [
      { type: 'request', data: F.requestFrame(1, 17, 7, 'c', F.fetchRequestBody(17, [{ id: ID_B, partitions: [0] }])) },
      { type: 'response', data: F.responseFrame(1, 17, 7, F.fetchResponseBody(17, [{ id: ID_B, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'x' }, { value: 'y' }]) }] }])) },
    ],
    [{ operation: 'process', destination: null, topicId: b64(ID_B), partition: '0', offset: 0, messageCount: 2, apiVersion: 17 }],
    CLEAN,
  );
  md += caseMd(
    'Produce v9 (flexible), two partitions, acks -1; Produce v11 with a partition error',
    '',
    [
      { type: 'request', data: F.requestFrame(0, 9, 21, 'flex-producer', F.produceRequestBody(9, -1, [{ name: 'events', partitions: [{ index: 2, records: F.recordBatch(0, [{ value: 'a' }, { value: 'b' }]) }, { index: 3, records: F.recordBatch(0, [{ value: 'c' }]) }] }])) },
      { type: 'response', data: F.responseFrame(0, 9, 21, F.produceResponseBody(9, [{ name: 'events', partitions: [{ index: 2, error: 0, baseOffset: 40 }, { index: 3, error: 0, baseOffset: 7 }] }])) },
      { type: 'request', data: F.requestFrame(0, 11, 22, 'flex-producer', F.produceRequestBody(11, 1, [{ name: 'events', partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'd' }]) }] }])) },
      { type: 'response', data: F.responseFrame(0, 11, 22, F.produceResponseBody(11, [{ name: 'events', partitions: [{ index: 0, error: 3, baseOffset: -1 }] }])) },
    ],
    [
      { operation: 'publish', destination: 'events', clientId: 'flex-producer', partition: '2', offset: 40, messageCount: 3, errorType: null, apiVersion: 9, truncated: false },
      { operation: 'publish', destination: 'events', partition: '0', offset: null, messageCount: 1, errorType: 'UNKNOWN_TOPIC_OR_PARTITION', apiVersion: 11 },
    ],
    CLEAN,
  );
  md += caseMd(
    'Produce v13 names topics by id: resolved from a Metadata v13 response',
    '',
    [
      { type: 'request', data: F.requestFrame(3, 13, 1, 'p13', F.metadataRequestBody(13, ['clicks'])) },
      { type: 'response', data: F.responseFrame(3, 13, 1, F.metadataResponseBody(13, [{ name: 'clicks', id: ID_A, partitions: 1 }])) },
      { type: 'request', data: F.requestFrame(0, 13, 2, 'p13', F.produceRequestBody(13, -1, [{ id: ID_A, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'q' }, { value: 'r' }]) }] }])) },
      { type: 'response', data: F.responseFrame(0, 13, 2, F.produceResponseBody(13, [{ id: ID_A, partitions: [{ index: 0, error: 0, baseOffset: 5 }] }])) },
    ],
    [{ operation: 'publish', destination: 'clicks', topicId: b64(ID_A), partition: '0', offset: 5, messageCount: 2, apiVersion: 13 }],
    CLEAN,
  );
  md += caseMd(
    'acks = 0: no response comes, the publish ends with its request',
    '',
    [{ type: 'request', data: F.requestFrame(0, 7, 5, 'fire-and-forget', F.produceRequestBody(7, 0, [{ name: 'logs', partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'l1' }, { value: 'l2' }, { value: 'l3' }]) }] }])) }],
    [{ operation: 'publish', destination: 'logs', clientId: 'fire-and-forget', partition: '0', offset: null, messageCount: 3, startNs: 1000, endNs: 1000 }],
    CLEAN,
  );
  md += caseMd(
    'compressed batches are counted from their header (no decompression); control batches are not messages; aborted transactions listed',
    '',
    [
      { type: 'request', data: F.requestFrame(1, 11, 9, 'c', F.fetchRequestBody(11, [{ name: 'zipped', partitions: [0] }])) },
      {
        type: 'response',
        data: F.responseFrame(1, 11, 9, F.fetchResponseBody(11, [{ name: 'zipped', partitions: [{ index: 0, aborted: 2, records: Buffer.concat([F.recordBatch(100, [{}, {}, {}, {}, {}], { codec: 4 }), F.recordBatch(105, [{ value: 'marker' }], { control: true }), F.recordBatch(106, [{ value: 'plain', headers: [['traceparent', TP]] }])]) }] }])),
      },
    ],
    [{ operation: 'process', destination: 'zipped', partition: '0', offset: 100, messageCount: 6, traceparent: TP, apiVersion: 11, truncated: false }],
    CLEAN,
  );
  md += caseMd(
    'legacy message sets: Produce v2 (magic 1) and a Fetch v3 response (magic 0 and 1, a compressed wrapper counted as one, marked truncated)',
    '',
    [
      { type: 'request', data: F.requestFrame(0, 2, 1, 'old-client', F.produceRequestBody(2, 1, [{ name: 'legacy', partitions: [{ index: 0, records: F.messageSet(0, ['a', 'b']) }] }])) },
      { type: 'response', data: F.responseFrame(0, 2, 1, F.produceResponseBody(2, [{ name: 'legacy', partitions: [{ index: 0, error: 0, baseOffset: 20 }] }])) },
      { type: 'request', data: F.requestFrame(1, 3, 2, 'old-client', F.fetchRequestBody(3, [{ name: 'legacy', partitions: [0] }])) },
      { type: 'response', data: F.responseFrame(1, 3, 2, F.fetchResponseBody(3, [{ name: 'legacy', partitions: [{ index: 0, records: Buffer.concat([F.messageSet(20, ['a'], 0), F.messageSet(21, ['b', 'c'], 1), F.messageSet(23, ['zipped'], 1, 1)]) }] }])) },
    ],
    [
      { operation: 'publish', destination: 'legacy', partition: '0', offset: 20, messageCount: 2, apiVersion: 2, truncated: false },
      { operation: 'process', destination: 'legacy', partition: '0', offset: 20, messageCount: 4, apiVersion: 3, truncated: true },
    ],
    CLEAN,
  );
  md += caseMd(
    'a version above those decoded is skipped (counted by the parser), never mis-parsed; the next exchange is decoded',
    'Produce v14 and Fetch v19 do not exist yet (Kafka 4.1: Produce v13, Fetch v18).',
    [
      { type: 'request', data: F.requestFrame(0, 14, 1, 'future', F.produceRequestBody(13, -1, [{ id: ID_A, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'z' }]) }] }])) },
      { type: 'response', data: F.responseFrame(0, 14, 1, F.produceResponseBody(13, [{ id: ID_A, partitions: [{ index: 0, error: 0, baseOffset: 1 }] }])) },
      { type: 'request', data: F.requestFrame(1, 19, 2, 'future', F.fetchRequestBody(18, [{ id: ID_A, partitions: [0] }])) },
      { type: 'response', data: F.responseFrame(1, 19, 2, F.fetchResponseBody(18, [{ id: ID_A, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'z' }]) }] }])) },
      { type: 'request', data: F.requestFrame(0, 7, 3, 'future', F.produceRequestBody(7, 1, [{ name: 'now', partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'ok' }]) }] }])) },
      { type: 'response', data: F.responseFrame(0, 7, 3, F.produceResponseBody(7, [{ name: 'now', partitions: [{ index: 0, error: 0, baseOffset: 0 }] }])) },
    ],
    [{ operation: 'publish', destination: 'now', messageCount: 1, offset: 0, apiVersion: 7 }],
    { ...CLEAN, unsupportedVersions: 2 },
  );
  writeFileSync(join(out, 'versions.md'), md);
}

function gaps(): void {
  let md = '# Kafka fixtures: captured prefixes (bytes past the capture are gaps of known length)\n\nFormat: see test/helpers/protocol-fixtures.ts. Written by test/helpers/kafka-make-fixtures.ts.\n\n';
  // a fetch response whose read was captured for its first 200 bytes only
  const big = Buffer.alloc(3000, 0x61).toString();
  const b1 = F.recordBatch(0, [{ value: 'small', headers: [['traceparent', TP]] }, { value: 'small2' }]);
  const b2 = F.recordBatch(2, [{ value: big }, { value: big }, { value: big }]);
  const b3 = F.recordBatch(5, [{ value: 'tail' }]);
  const resp = F.responseFrame(1, 11, 4, F.fetchResponseBody(11, [{ name: 'bulk', partitions: [{ index: 0, records: Buffer.concat([b1, b2, b3]) }] }]));
  const cut = resp.indexOf(b2.subarray(0, 61)) + 64; // inside b2: its header is captured, its records are not; b3's header lies in the gap
  md += caseMd(
    'a Fetch response larger than the capture: batches whose headers were captured are counted, the rest is marked truncated',
    '',
    [
      { type: 'request', data: F.requestFrame(1, 11, 4, 'bulk-reader', F.fetchRequestBody(11, [{ name: 'bulk', partitions: [0] }])) },
      { type: 'response', data: resp.subarray(0, cut), gapAfter: resp.length - cut },
    ],
    [{ operation: 'process', destination: 'bulk', partition: '0', offset: 0, messageCount: 5, traceparent: TP, truncated: true }],
    CLEAN,
  );
  // a produce request captured in two reads of 256 bytes each, the rest in gaps
  const req = F.requestFrame(0, 7, 8, 'bulk-writer', F.produceRequestBody(7, -1, [{ name: 'bulk', partitions: [{ index: 0, records: F.recordBatch(0, [{ value: big }, { value: big }]) }] }]));
  md += caseMd(
    'a Produce request larger than the capture: topic and count from the captured prefix',
    '',
    [
      { type: 'request', data: req.subarray(0, 256), gapAfter: 2048 - 256 },
      { type: 'request', data: req.subarray(2048, 2048 + 256), gapAfter: req.length - 2048 - 256 },
      { type: 'response', data: F.responseFrame(0, 7, 8, F.produceResponseBody(7, [{ name: 'bulk', partitions: [{ index: 0, error: 0, baseOffset: 9 }] }])) },
    ],
    [{ operation: 'publish', destination: 'bulk', clientId: 'bulk-writer', partition: '0', offset: 9, messageCount: 2, truncated: false }],
    CLEAN,
  );
  // pipelined requests (kafkajs sends several in flight), responses in order
  const p = (corr: number, topic: string, n: number): Buffer => F.requestFrame(0, 7, corr, 'pipelined', F.produceRequestBody(7, 1, [{ name: topic, partitions: [{ index: 0, records: F.recordBatch(0, Array.from({ length: n }, () => ({ value: 'v' }))) }] }]));
  const a = (corr: number, topic: string, off: number): Buffer => F.responseFrame(0, 7, corr, F.produceResponseBody(7, [{ name: topic, partitions: [{ index: 0, error: 0, baseOffset: off }] }]));
  md += caseMd(
    'three Produce requests in flight in one write, answered in one read',
    '',
    [
      { type: 'request', data: Buffer.concat([p(31, 't1', 1), p(32, 't2', 2), p(33, 't1', 3)]) },
      { type: 'response', data: Buffer.concat([a(31, 't1', 0), a(32, 't2', 0), a(33, 't1', 1)]) },
    ],
    [
      { destination: 't1', messageCount: 1, offset: 0 },
      { destination: 't2', messageCount: 2, offset: 0 },
      { destination: 't1', messageCount: 3, offset: 1 },
    ],
    CLEAN,
  );
  md += caseMd(
    'a response whose request was not seen is skipped by its size and counted unpaired; the connection carries on',
    '',
    [
      { type: 'response', data: a(99, 'x', 0) },
      { type: 'request', data: p(1, 'after', 1) },
      { type: 'response', data: a(1, 'after', 4) },
    ],
    [{ destination: 'after', messageCount: 1, offset: 4 }],
    { invalidFrames: 0, unpairedFrames: 1, parserErrors: 0 },
  );
  writeFileSync(join(out, 'gaps.md'), md);
}

versions();
gaps();
if (process.argv[2] !== '--synthetic-only') await captured();
