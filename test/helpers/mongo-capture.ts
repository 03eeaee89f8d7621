/**
 * Writes the MongoDB parser fixtures (src/protocols/mongo/fixtures/*.md) from real sessions:
 * the `mongodb` npm driver and Debian's pymongo against the test peer (mongo-peer.ts, written
 * from the public wire-protocol specification: no MongoDB server is installable here). The
 * bytes of the application connection are written as they crossed the socket, one block per
 * read or write; the expected records are the ones listed below for each session, by hand.
 *
 *   .tools/node/bin/node test/helpers/mongo-capture.ts
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMongoPeer, type CaptureChunk } from './mongo-peer.ts';

const root = join(import.meta.dirname, '../..');
const apps = join(root, 'test/helpers/apps');
const out = join(root, 'src/protocols/mongo/fixtures');

interface Session {
  file: string;
  title: string;
  cmd: string;
  args: string[];
  wire?: number;
  expect: unknown[];
}

const ok = (operation: string, collection: string | null, namespace: string, extra: Record<string, unknown> = {}) => ({ system: 'mongodb', operation, collection, namespace, errorType: null, truncated: false, ...extra });
const nodeOps = [
  ok('insert', 'users', 'shop', { statement: '{"insert":"users","documents":[{"_id":"?","name":"?","email":"?"}],"ordered":"?"}' }),
  ok('insert', 'users', 'shop'),
  ok('insert', 'users', 'shop', { errorType: '11000', errorCode: '11000', errorMessage: 'E11000 duplicate key error collection: shop.users index: _id_ dup key: { _id: 1 }' }),
  ok('find', 'users', 'shop', { statement: '{"find":"users","filter":{},"batchSize":"?"}' }),
  ok('getMore', 'users', 'shop', { statement: '{"getMore":"?","collection":"users","batchSize":"?"}' }),
  ok('update', 'users', 'shop', { statement: '{"update":"users","updates":[{"q":{"_id":"?"},"u":{"$set":{"name":"?"}}}],"ordered":"?"}' }),
  ok('delete', 'users', 'shop'),
  ok('count', 'users', 'shop'),
  ok('frobnicate', null, 'shop', { errorType: '59', errorCode: '59', errorMessage: "no such command: 'frobnicate'" }),
  ok('endSessions', null, 'admin'),
];
const pyOps = (_legacy: boolean) => [
  ok('insert', 'items', 'inventory'),
  ok('insert', 'items', 'inventory', { errorType: '11000', errorCode: '11000' }),
  ok('find', 'items', 'inventory', { statement: '{"find":"items","filter":{}}' }),
  ok('getMore', 'items', 'inventory'),
  ok('update', 'items', 'inventory', { statement: '{"update":"items","ordered":"?","updates":[{"q":{"qty":"?"},"u":{"$set":{"qty":"?"}},"multi":"?","upsert":"?"}]}' }),
  ok('delete', 'items', 'inventory'),
  ok('frobnicate', null, 'inventory', { errorType: '59' }),
  ok('endSessions', null, 'admin'),
];

const node = join(root, '.tools/node/bin/node');
const sessions: Session[] = [
  { file: 'node-driver.md', title: 'mongodb npm driver, OP_MSG (handshake, CRUD, cursor, write error, unknown command, endSessions without reply)', cmd: node, args: [join(apps, 'mongodb-client.mjs'), 'PORT', 'none'], expect: nodeOps },
  { file: 'node-driver-zlib.md', title: 'mongodb npm driver, every command in OP_COMPRESSED (zlib) after the handshake', cmd: node, args: [join(apps, 'mongodb-client.mjs'), 'PORT', 'zlib'], expect: nodeOps },
  { file: 'pymongo-exhaust.md', title: 'pymongo 3.11: OP_QUERY handshake, OP_MSG commands, an exhaust cursor (legacy OP_QUERY Exhaust, streamed OP_REPLY)', cmd: '/usr/bin/python3', args: [join(apps, 'pymongo-client.py'), 'PORT', 'none'], expect: pyOps(false) },
  { file: 'pymongo-legacy.md', title: 'pymongo 3.11 against a pre-3.6 server (maxWireVersion 5): commands as OP_QUERY on <db>.$cmd, replies in OP_REPLY', cmd: '/usr/bin/python3', args: [join(apps, 'pymongo-client.py'), 'PORT', 'none'], wire: 5, expect: pyOps(true) },
];

function block(c: CaptureChunk): string {
  const lines: string[] = [];
  for (let i = 0; i < c.data.length; i += 32) lines.push([...c.data.subarray(i, i + 32)].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join(''));
  return `### ${c.type}\n\`\`\`bin\n${lines.join('\n')}\n\`\`\`\n`;
}

for (const s of sessions) {
  const peer = await startMongoPeer({ maxWireVersion: s.wire });
  const r = await promisify(execFile)(s.cmd, s.args.map((a) => (a === 'PORT' ? String(peer.port) : a)), { encoding: 'utf8', timeout: 60_000 });
  await peer.stop();
  // the application connection: the one that carried most messages (the others are the driver's monitors)
  const conn = [...peer.captures].sort((a, b) => b.length - a.length)[0];
  const text = [
    `# MongoDB fixtures: ${s.title}`,
    '',
    'Captured by test/helpers/mongo-capture.ts from the real client against test/helpers/mongo-peer.ts',
    '(a peer written from the public wire-protocol specification; no MongoDB server is installable here).',
    `Client output: \`${r.stdout.trim()}\``,
    '',
    `## case: ${s.title}`,
    ...conn.map(block),
    '### close',
    '### expect',
    '```json',
    `[${s.expect.map((e) => JSON.stringify(e)).join(',\n ')}]`,
    '```',
    '### counters',
    '```json',
    '{ "invalidFrames": 0, "droppedBytes": 0, "unpairedFrames": 0, "partialFrames": 0, "parserErrors": 0 }',
    '```',
    '',
  ].join('\n');
  writeFileSync(join(out, s.file), text);
  console.log(s.file, conn.length, 'blocks');
}
