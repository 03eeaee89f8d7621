/**
 * AMQP 0-9-1 frames to messaging records, frames of both directions in time order, state kept
 * per channel (channels multiplex one connection; content frames of a message are contiguous on
 * their channel but may interleave with other channels' frames).
 * Request = what the client sends, response = what the broker sends.
 *
 * - `basic.publish` + content header + body frames → a `publish`: done with its last body
 *   frame, or, on a channel in confirm mode (`confirm.select`), at the broker's `basic.ack`
 *   (a `basic.nack` fails it, `error.type` `nack`) matching its sequence number (`multiple`
 *   acks every earlier one).
 * - `basic.deliver` (+ content) → a `process` of the delivered message: done when the client
 *   acks it (`basic.ack`, `multiple` included), fails on `basic.nack` / `basic.reject`
 *   (`error.type` `nack` / `reject`); with a no-ack consumer it is done once read.
 * - `basic.get` → a `receive` (operation name `get`) done at `basic.get-ok` (after its content)
 *   or `basic.get-empty`; a message got is then processed as a delivery is.
 * - Destination: `{exchange}:{routing key}`, the exchange alone when the routing key is empty,
 *   the routing key alone for the default exchange (where it names the queue), `amq.default`
 *   when both are empty; `get` names the queue. The routing key and delivery tag are attributes.
 * - `queue.declare-ok` names the channel's last queue (what an empty queue name refers to);
 *   `basic.consume`/`consume-ok` map consumer tags to queues and no-ack.
 * - A broker's `channel.close` fails what waits on that channel with its reply code (`404`) and
 *   text; a `connection.close` from the broker fails everything. Otherwise, at close, what waits
 *   is flushed with the time of its own last byte.
 */
import type { StitchResult } from '../common/contract.ts';
import type { AmqpState, ChannelState, Draft } from './parse.ts';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD, M } from './types.ts';
import type { AmqpFrame, AmqpRecord } from './types.ts';

export const MAX_CHANNELS = 2048;
export const MAX_PENDING = 1024;

export function amqpDestination(exchange: string | undefined, routingKey: string | undefined): string {
  const e = exchange ?? '';
  const k = routingKey ?? '';
  if (e.length === 0) return k.length > 0 ? k : 'amq.default';
  return k.length > 0 ? `${e}:${k}` : e;
}

function channelOf(state: AmqpState, id: number): ChannelState {
  let c = state.channels.get(id);
  if (c === undefined) {
    if (state.channels.size >= MAX_CHANNELS) state.channels.delete(state.channels.keys().next().value as number);
    c = {
      confirm: false,
      publishSeq: 0,
      sending: undefined,
      receiving: undefined,
      unconfirmed: new Map(),
      unacked: new Map(),
      consumers: new Map(),
      consuming: [],
      getting: [],
      lastQueue: '',
    };
    state.channels.set(id, c);
  }
  return c;
}

function record(d: Draft, operation: 'publish' | 'process', endNs: number, errorType?: string, errorMessage?: string): AmqpRecord {
  return {
    category: 'messaging',
    system: 'rabbitmq',
    operation,
    destination: amqpDestination(d.exchange, d.routingKey),
    routingKey: d.routingKey !== undefined && d.routingKey.length > 0 ? d.routingKey : undefined,
    deliveryTag: operation === 'process' ? d.deliveryTag : undefined,
    messageId: d.messageId,
    bodySize: d.bodySize,
    traceparent: d.traceparent,
    errorType,
    errorMessage,
    startNs: d.startNs,
    endNs: endNs > d.startNs ? endNs : d.startNs,
  };
}

function bounded<K, V>(m: Map<K, V>, onEvict: (v: V) => void): void {
  if (m.size >= MAX_PENDING) {
    const [k, v] = m.entries().next().value as [K, V];
    m.delete(k);
    onEvict(v);
  }
}

/** settle waiting entries `tag` (or every one up to `tag` with multiple; all with multiple and tag 0) */
function settle(m: Map<number, Draft>, tag: number, multiple: boolean, each: (d: Draft) => void): number {
  if (!multiple) {
    const d = m.get(tag);
    if (d === undefined) return 0;
    m.delete(tag);
    each(d);
    return 1;
  }
  let n = 0;
  for (const [k, d] of [...m.entries()].sort((a, b) => a[0] - b[0])) {
    if (tag !== 0 && k > tag) break;
    m.delete(k);
    each(d);
    n++;
  }
  return n;
}

function byTime(a: AmqpFrame[], b: AmqpFrame[]): { f: AmqpFrame; fromClient: boolean }[] {
  const out: { f: AmqpFrame; fromClient: boolean }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].startNs <= b[j].startNs)) out.push({ f: a[i++], fromClient: true });
    else out.push({ f: b[j++], fromClient: false });
  }
  return out;
}

/** ProtocolParser.stitch for AMQP 0-9-1. */
export function stitchAmqp(requests: AmqpFrame[], responses: AmqpFrame[], state: AmqpState, closing: boolean): StitchResult<AmqpRecord> {
  const records: AmqpRecord[] = [];
  let errorCount = 0;

  const delivered = (c: ChannelState, d: Draft): void => {
    if (d.kind === 'return') return;
    if (d.noAck === true || d.deliveryTag === undefined) {
      records.push(record(d, 'process', d.endNs));
      return;
    }
    bounded(c.unacked, (old) => records.push(record(old, 'process', old.endNs)));
    c.unacked.set(d.deliveryTag, d);
  };
  const published = (c: ChannelState, d: Draft): void => {
    if (!c.confirm) {
      records.push(record(d, 'publish', d.endNs));
      return;
    }
    bounded(c.unconfirmed, (old) => records.push(record(old, 'publish', old.endNs)));
    c.unconfirmed.set(++c.publishSeq, d);
  };
  const complete = (c: ChannelState, d: Draft, fromClient: boolean): void => {
    if (fromClient) {
      c.sending = undefined;
      published(c, d);
    } else {
      c.receiving = undefined;
      delivered(c, d);
    }
  };
  const failChannel = (c: ChannelState, code: string, text: string | undefined, endNs: number): void => {
    for (const d of c.unconfirmed.values()) records.push(record(d, 'publish', endNs, code, text));
    c.unconfirmed.clear();
    if (c.sending !== undefined) records.push(record(c.sending, 'publish', endNs, code, text));
    c.sending = undefined;
  };
  const flushChannel = (c: ChannelState): void => {
    for (const d of c.unconfirmed.values()) records.push(record(d, 'publish', d.endNs));
    for (const d of c.unacked.values()) records.push(record(d, 'process', d.endNs));
    c.unconfirmed.clear();
    c.unacked.clear();
  };

  for (const { f, fromClient } of byTime(requests, responses)) {
    const c = channelOf(state, f.channel);
    if (f.type === FRAME_HEADER || f.type === FRAME_BODY) {
      const d = fromClient ? c.sending : c.receiving;
      if (d === undefined) {
        errorCount++;
        continue;
      }
      d.endNs = f.endNs;
      if (f.type === FRAME_HEADER) {
        d.bodySize = f.bodySize;
        d.remaining = f.bodySize ?? 0;
        d.messageId = f.messageId;
        d.traceparent = f.traceparent;
      } else d.remaining -= f.size ?? 0;
      if (d.bodySize !== undefined && d.remaining <= 0) complete(c, d, fromClient);
      continue;
    }
    if (f.type !== FRAME_METHOD) continue;
    // a method ends any content being assembled in its direction on its channel (a truncated message)
    const open = fromClient ? c.sending : c.receiving;
    if (open !== undefined && f.method !== undefined) {
      if (open.bodySize !== undefined) complete(c, open, fromClient);
      else {
        errorCount++;
        if (fromClient) c.sending = undefined;
        else c.receiving = undefined;
      }
    }
    switch (f.method) {
      case M.CONFIRM_SELECT:
        if (fromClient) {
          c.confirm = true;
          c.publishSeq = 0;
        }
        break;
      case M.QUEUE_DECLARE_OK:
        if (!fromClient && f.queue !== undefined) c.lastQueue = f.queue;
        break;
      case M.BASIC_CONSUME:
        if (fromClient && c.consuming.length < MAX_PENDING) c.consuming.push({ queue: f.queue || c.lastQueue, tag: f.consumerTag ?? '', noAck: f.noAck === true });
        break;
      case M.BASIC_CONSUME_OK: {
        const p = c.consuming.shift();
        if (p !== undefined && f.consumerTag !== undefined) {
          bounded(c.consumers, () => undefined);
          c.consumers.set(f.consumerTag, { queue: p.queue, noAck: p.noAck });
        }
        break;
      }
      case M.BASIC_PUBLISH:
        c.sending = { kind: 'publish', startNs: f.startNs, endNs: f.endNs, exchange: f.exchange, routingKey: f.routingKey, remaining: 0 };
        break;
      case M.BASIC_DELIVER: {
        const consumer = f.consumerTag !== undefined ? c.consumers.get(f.consumerTag) : undefined;
        c.receiving = {
          kind: 'deliver',
          startNs: f.startNs,
          endNs: f.endNs,
          exchange: f.exchange,
          routingKey: f.routingKey,
          deliveryTag: f.deliveryTag,
          queue: consumer?.queue,
          noAck: consumer?.noAck,
          remaining: 0,
        };
        break;
      }
      case M.BASIC_RETURN:
        c.receiving = { kind: 'return', startNs: f.startNs, endNs: f.endNs, exchange: f.exchange, routingKey: f.routingKey, remaining: 0 };
        break;
      case M.BASIC_GET:
        if (fromClient && c.getting.length < MAX_PENDING) c.getting.push({ queue: f.queue || c.lastQueue, noAck: f.noAck === true, startNs: f.startNs });
        break;
      case M.BASIC_GET_OK:
      case M.BASIC_GET_EMPTY: {
        const g = c.getting.shift();
        if (g === undefined) {
          errorCount++;
          break;
        }
        records.push({
          category: 'messaging',
          system: 'rabbitmq',
          operation: 'receive',
          operationName: 'get',
          destination: g.queue.length > 0 ? g.queue : undefined,
          startNs: g.startNs,
          endNs: f.endNs > g.startNs ? f.endNs : g.startNs,
        });
        if (f.method === M.BASIC_GET_OK) {
          c.receiving = { kind: 'get', startNs: f.startNs, endNs: f.endNs, exchange: f.exchange, routingKey: f.routingKey, deliveryTag: f.deliveryTag, queue: g.queue, noAck: g.noAck, remaining: 0 };
        }
        break;
      }
      case M.BASIC_ACK:
      case M.BASIC_NACK:
      case M.BASIC_REJECT: {
        const tag = f.deliveryTag ?? 0;
        const multiple = f.multiple === true;
        const err = f.method === M.BASIC_ACK ? undefined : f.method === M.BASIC_NACK ? 'nack' : 'reject';
        const n = fromClient
          ? settle(c.unacked, tag, multiple, (d) => records.push(record(d, 'process', f.endNs, err, err === undefined ? undefined : `${err === 'nack' ? 'negatively acknowledged' : 'rejected'} by the consumer`)))
          : settle(c.unconfirmed, tag, multiple, (d) => records.push(record(d, 'publish', f.endNs, err, err === undefined ? undefined : 'negatively acknowledged by the broker')));
        if (n === 0) errorCount++;
        break;
      }
      case M.CHANNEL_CLOSE:
        if (!fromClient && f.replyCode !== undefined && f.replyCode >= 300) failChannel(c, String(f.replyCode), f.replyText, f.endNs);
        flushChannel(c);
        state.channels.delete(f.channel);
        break;
      case M.CONNECTION_CLOSE:
        for (const ch of state.channels.values()) {
          if (!fromClient && f.replyCode !== undefined && f.replyCode >= 300) failChannel(ch, String(f.replyCode), f.replyText, f.endNs);
          flushChannel(ch);
        }
        state.channels.clear();
        break;
      default:
        break;
    }
  }
  requests.length = 0;
  responses.length = 0;
  if (closing) {
    for (const ch of state.channels.values()) {
      if (ch.sending?.bodySize !== undefined) published(ch, ch.sending);
      if (ch.receiving?.bodySize !== undefined) delivered(ch, ch.receiving);
      flushChannel(ch);
    }
    state.channels.clear();
  }
  records.sort((a, b) => a.startNs - b.startNs);
  return { records, errorCount };
}
