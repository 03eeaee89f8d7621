# kafka-python (Debian python3-kafka) producer then consumer against a broker on 127.0.0.1:<port>
# (test/integration/messaging-kafka.test.ts). Usage: kafka-python-client.py <port> <topic>
# Produces 3 messages, one request each (flush after each send; the second carries a
# `traceparent` header), then consumes partition 0 from the beginning with an assigned
# consumer (no group) until the 3 came, and prints one JSON line.
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

port, topic = sys.argv[1], sys.argv[2]
bootstrap = '127.0.0.1:%s' % port
traceparent = b'00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

producer = KafkaProducer(bootstrap_servers=bootstrap, client_id='obi-kafka-python', acks=1, linger_ms=0)
producer.send(topic, key=b'p0', value=b'v0').get(timeout=10)
producer.send(topic, key=b'p1', value=b'v1', headers=[('traceparent', traceparent)]).get(timeout=10)
producer.send(topic, key=b'p2', value=b'v2').get(timeout=10)
producer.flush()
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id='obi-kafka-python-consumer', group_id=None,
                         enable_auto_commit=False, fetch_max_wait_ms=100, consumer_timeout_ms=10000)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
seen = []
for msg in consumer:
    seen.append(msg.value.decode())
    if len(seen) >= 3:
        break
consumer.close()
print(json.dumps({'produced': 3, 'consumed': len(seen), 'values': seen}))
