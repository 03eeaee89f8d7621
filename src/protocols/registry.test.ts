import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MessageType } from './common/contract.ts';
import { instrumentationNames, PROTOCOLS } from './registry.ts';

const schema = JSON.parse(readFileSync(new URL('../config/schema.json', import.meta.url), 'utf8')) as {
  $defs: { instrumentations: { items: { enum: string[] } } };
};

test('the registry: detection order, unique wire names, OBI instrumentation names', () => {
  assert.deepEqual(
    PROTOCOLS.map((p) => [p.wire, p.name, p.category]),
    [
      ['http2', 'http', 'http'],
      ['http1', 'http', 'http'],
      ['fastcgi', 'http', 'http'],
      ['postgresql', 'sql', 'db'],
      ['mysql', 'sql', 'db'],
      ['mongodb', 'mongo', 'db'],
      ['redis', 'redis', 'db'],
      ['memcached', 'memcached', 'db'],
      ['kafka', 'kafka', 'messaging'],
      ['nats', 'nats', 'messaging'],
      ['amqp091', 'amqp', 'messaging'],
      ['mqtt', 'mqtt', 'messaging'],
      ['dns-tcp', 'dns', 'dns'],
      ['dns-udp', 'dns', 'dns'],
    ],
  );
  assert.equal(new Set(PROTOCOLS.map((p) => p.wire)).size, PROTOCOLS.length);
  assert.deepEqual(instrumentationNames(), ['http', 'sql', 'mongo', 'redis', 'memcached', 'kafka', 'nats', 'amqp', 'mqtt', 'dns']);
  assert.deepEqual(instrumentationNames(PROTOCOLS.filter((p) => p.category === 'messaging')), ['kafka', 'nats', 'amqp', 'mqtt']);
  assert.deepEqual(instrumentationNames(PROTOCOLS.filter((p) => p.category === 'db')), ['sql', 'mongo', 'redis', 'memcached']);
});

test('every instrumentation name is one the configuration accepts (config `instrumentations`)', () => {
  const accepted = new Set(schema.$defs.instrumentations.items.enum);
  for (const name of instrumentationNames()) assert.ok(accepted.has(name), `${name} is not in the schema's instrumentation enum`);
});

test('each descriptor detects its own first bytes and the first descriptor to say yes wins', () => {
  const first = (head: string, type: MessageType): string | undefined => PROTOCOLS.find((p) => p.detect(Buffer.from(head, 'latin1'), type))?.wire;
  assert.equal(first('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'request'), 'http1');
  assert.equal(first('HTTP/1.1 200 OK\r\n', 'response'), 'http1');
  assert.equal(first('*1\r\n$4\r\nPING\r\n', 'request'), 'redis');
  assert.equal(first('get k\r\n', 'request'), 'memcached');
  assert.equal(first('\u0000\u0000\u0000\u0008\u0004\u00d2\u0016\u002f', 'request'), 'postgresql'); // SSLRequest
  assert.equal(first('INFO {"server_id":"x","proto":1}\r\n', 'response'), 'nats');
  assert.equal(first('CONNECT {"verbose":false}\r\n', 'request'), 'nats');
  assert.equal(first('PUB orders 5\r\nhello\r\n', 'request'), 'nats');
  assert.equal(first('MSG orders 1 5\r\nhello\r\n', 'response'), 'nats');
  assert.equal(first('\u0010\u0014\u0000\u0004MQTT\u0004\u0002\u0000\u003c\u0000\u0008sensor-1', 'request'), 'mqtt');
  assert.equal(first('AMQP\u0000\u0000\u0009\u0001', 'request'), 'amqp091');
  assert.equal(first('AMQP\u0000\u0001\u0000\u0000', 'request'), 'amqp091'); // AMQP 1.0: claimed, then reported as unsupported
  assert.equal(first('\u0001\u0000\u0001\u0000\u0000\u0000\u0008\u0000\u003c\u0000\u0050\u0000\u0000\u0000\u0000\u00ce', 'request'), 'amqp091'); // basic.ack on an open connection
  assert.equal(first('+OK\r\n', 'response'), 'redis'); // NATS never claims a connection on +OK
  // Kafka ApiVersions v2 from client `obi`
  assert.equal(first('\u0000\u0000\u0000\u000d\u0000\u0012\u0000\u0002\u0000\u0000\u0000\u0001\u0000\u0003obi', 'request'), 'kafka');
  // FastCGI: nginx's BEGIN_REQUEST (responder, keep_conn 0); PHP-FPM's first STDOUT with its CGI head
  assert.equal(first('\u0001\u0001\u0000\u0001\u0000\u0008\u0000\u0000\u0000\u0001\u0000\u0000\u0000\u0000\u0000\u0000', 'request'), 'fastcgi');
  assert.equal(first('\u0001\u0006\u0000\u0001\u0000\u0020\u0000\u0000Content-type: text/html\r\n\r\nhi\n', 'response'), 'fastcgi');
  assert.equal(first('hello', 'request'), undefined);
  // HTTP/2: the preface, an h2c upgrade, the server's SETTINGS; an ordinary HTTP/1.1 request stays http1
  assert.equal(first('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'request'), 'http2');
  assert.equal(first('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n', 'request'), 'http2');
  assert.equal(first('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n', 'request'), 'http1');
  assert.equal(first('\u0000\u0000\u0006\u0004\u0000\u0000\u0000\u0000\u0000\u0000\u0003\u0000\u0000\u0000\u0064', 'response'), 'http2');
});

test('a parser per descriptor, configured from the settings; query text only where the protocol has one', () => {
  for (const p of PROTOCOLS) assert.equal(typeof p.createParser().stitch, 'function');
  assert.equal(PROTOCOLS.find((p) => p.wire === 'http1')!.queryText, undefined);
  const pg = PROTOCOLS.find((p) => p.wire === 'postgresql')!;
  assert.equal(pg.queryText!({ category: 'db', system: 'postgresql', query: "SELECT * FROM t WHERE a = 'x'", truncated: false, startNs: 0, endNs: 0 } as never), 'SELECT * FROM t WHERE a = ?');
});

test('a MongoDB OP_QUERY handshake is MongoDB whatever its random requestID (a MySQL command by its first 5 bytes)', () => {
  // pymongo 3 opens each connection with isMaster as an OP_QUERY to admin.$cmd and a random
  // requestID. Its header read as MySQL: a 3-byte length 4 less than the segment, sequence 0,
  // then the requestID's low byte, a command byte (COM_QUERY 0x03, COM_STMT_PREPARE 0x16) for
  // 2 ids in 256. The CI run that found it: 1 span of 8, named from the requestID's bytes.
  const doc = Buffer.from('1d0000001069736d617374657200010000000868656c6c6f4f6b000100', 'hex');
  const ns = Buffer.from('admin.$cmd\0', 'latin1');
  const msg = Buffer.alloc(16 + 4 + ns.length + 8 + doc.length);
  msg.writeInt32LE(msg.length, 0);
  msg.writeInt32LE(2004, 12);
  ns.copy(msg, 20);
  msg.writeInt32LE(-1, 20 + ns.length + 4);
  doc.copy(msg, 20 + ns.length + 8);
  const claimed = new Map<string, number>();
  for (let low = 0; low < 256; low++) {
    for (const high of [0x00, 0x41, 0x53, 0x7f]) {
      msg.writeUInt32LE((high << 24) | (0x45 << 16) | (0x4c << 8) | low, 4); // bytes after the command: "LE", a word
      const wire = PROTOCOLS.find((p) => !p.datagram && p.detect(msg, 'request', msg.length))?.wire ?? 'none';
      claimed.set(wire, (claimed.get(wire) ?? 0) + 1);
    }
  }
  assert.deepEqual([...claimed], [['mongodb', 1024]]);
});

