# Traced AMQP 0-9-1 client for test/integration/messaging-amqp.test.ts (Python pika, Debian
# python3-pika): publishes 2 messages to queue `py-jobs` (one with a traceparent header), then
# consumes both, acking the first and rejecting the second (no requeue). Prints a summary.
import sys
import pika

port, traceparent = int(sys.argv[1]), sys.argv[2]
conn = pika.BlockingConnection(pika.ConnectionParameters(host='127.0.0.1', port=port))
ch = conn.channel()
ch.queue_declare(queue='py-jobs', durable=False)
ch.basic_publish(exchange='', routing_key='py-jobs', body=b'job-1')
ch.basic_publish(exchange='', routing_key='py-jobs', body=b'job-2-reject', properties=pika.BasicProperties(headers={'traceparent': traceparent}))
seen = []
def on_message(channel, method, properties, body):
    seen.append(body.decode())
    if body.endswith(b'reject'):
        channel.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
    else:
        channel.basic_ack(delivery_tag=method.delivery_tag)
    if len(seen) == 2:
        channel.stop_consuming()
ch.basic_consume(queue='py-jobs', on_message_callback=on_message)
ch.start_consuming()
conn.close()
print(','.join(seen))
