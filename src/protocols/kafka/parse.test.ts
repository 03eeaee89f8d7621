import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolSession } from '../common/session.ts';
import * as F from '../../../test/helpers/kafka-frames.ts';
import { createKafkaParser, detectKafka, isFlexible, kafka, MAX_VERSION } from './index.ts';

const ID = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');

test('versions above those decoded are skipped whole and counted by the session (unsupportedVersions), the stream goes on', () => {
  const parser = createKafkaParser();
  const s = new ProtocolSession(parser);
  s.feed('request', F.requestFrame(0, 14, 1, 'x', Buffer.alloc(20)), 0, 1);
  s.feed('response', F.responseFrame(0, 14, 1, Buffer.alloc(30)), 0, 2);
  s.feed('request', F.requestFrame(3, 14, 2, 'x', Buffer.alloc(5)), 0, 3);
  s.feed('response', F.responseFrame(3, 14, 2, Buffer.alloc(9)), 0, 3);
  assert.equal(s.counters().unsupportedVersions, 2);
  assert.equal(s.unsupportedVersion, 'Metadata v14');
  const ok = F.produceRequestBody(7, 1, [{ name: 't', partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'v' }]) }] }]);
  s.feed('request', F.requestFrame(0, 7, 3, 'x', ok), 0, 4);
  const recs = s.feed('response', F.responseFrame(0, 7, 3, F.produceResponseBody(7, [{ name: 't', partitions: [{ index: 0, error: 0, baseOffset: 8 }] }])), 0, 5);
  assert.deepEqual(recs.map((r) => [r.destination, r.messageCount, r.offset]), [['t', 1, 8]]);
  assert.deepEqual(s.close(6), []);
  assert.equal(s.counters().invalidFrames, 0);
  assert.equal(s.counters().unsupportedVersions, 2);
  assert.deepEqual(MAX_VERSION, { 0: 13, 1: 18, 3: 13, 18: 4 });
  assert.ok(isFlexible(1, 12) && !isFlexible(1, 11) && isFlexible(0, 9) && isFlexible(3, 9) && isFlexible(18, 3) && !isFlexible(18, 2));
});

test('topic ids: named from Metadata on another connection of the same parser (kafka_topic_uuid_cache_size), else counted unresolved', () => {
  const parser = createKafkaParser({ topicIdCacheSize: 1 });
  const meta = new ProtocolSession(parser);
  meta.feed('request', F.requestFrame(3, 12, 1, 'c', F.metadataRequestBody(12, ['t'])), 0, 1);
  meta.feed('response', F.responseFrame(3, 12, 1, F.metadataResponseBody(12, [{ name: 't', id: ID, partitions: 1 }])), 0, 2);
  const fetch = (p: typeof parser) => {
    const s = new ProtocolSession(p);
    s.feed('request', F.requestFrame(1, 13, 5, 'c', F.fetchRequestBody(13, [{ id: ID, partitions: [0] }])), 0, 3);
    return s.feed('response', F.responseFrame(1, 13, 5, F.fetchResponseBody(13, [{ id: ID, partitions: [{ index: 0, records: F.recordBatch(0, [{ value: 'v' }]) }] }])), 0, 4);
  };
  assert.equal(fetch(parser)[0].destination, 't');
  assert.equal(parser.stats.unresolvedTopicIds, 0);
  const other = createKafkaParser();
  const r = fetch(other);
  assert.equal(r[0].destination, undefined);
  assert.equal(r[0].topicId, ID.toString('base64url'));
  assert.equal(other.stats.unresolvedTopicIds, 1);
  assert.throws(() => createKafkaParser({ topicIdCacheSize: 0 }), RangeError);
});

test('detection: Kafka request headers, not responses, not other protocols', () => {
  assert.equal(kafka.name, 'kafka');
  assert.equal(kafka.category, 'messaging');
  assert.ok(detectKafka(F.requestFrame(18, 3, 0, 'adminclient-1', F.apiVersionsRequestBody(3)), 'request'));
  assert.ok(detectKafka(F.requestFrame(3, 1, 7, null, F.metadataRequestBody(1, null)), 'request'));
  assert.ok(!detectKafka(F.responseFrame(3, 1, 7, Buffer.alloc(10)), 'response'));
  assert.ok(!detectKafka(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'request'));
  assert.ok(!detectKafka(Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03abcdef', 'latin1'), 'request')); // TLS ClientHello
  assert.ok(!detectKafka(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), 'request'));
  assert.ok(!detectKafka(Buffer.from('\x10\x1a\x00\x04MQTT\x04\x02\x00\x3c\x00\x0eclient', 'latin1'), 'request')); // MQTT CONNECT
  const bad = F.requestFrame(18, 3, 0, 'ok', Buffer.alloc(0));
  bad.writeInt16BE(200, 4); // unknown API key
  assert.ok(!detectKafka(bad, 'request'));
});
