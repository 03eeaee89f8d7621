/**
 * Fuzzing the GenAI readers (house rule 6) with the shared time budget (test/helpers/protocol-fuzz.ts):
 * random and mutated bodies never throw and give bounded results; generated streams give exactly
 * their usage whatever the segmentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams, fuzzPropertyMs, mutate, mutationsArb } from '../../../test/helpers/protocol-fuzz.ts';
import { readGenaiCall } from './extract.ts';
import { GenaiResponseReader, MAX_SSE_EVENT } from './response.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1 / 8, 3, 50);

const pathArb = fc.constantFrom('/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/messages', '/other', '/v1/messages?beta=true');
const bodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)),
  fc.json().map((s) => Buffer.from(s)),
  fc.array(fc.oneof(fc.json(), fc.constantFrom('[DONE]', '{"type":"message_delta","usage":{"output_tokens":-1}}', '{"usage":{"prompt_tokens":1e400}}')), { maxLength: 6 })
    .map((ev) => Buffer.from(ev.map((e) => `data: ${e}\n\n`).join(''))),
);

test('fuzz: random and mutated bodies never throw', () => {
  fc.assert(
    fc.property(pathArb, bodyArb, bodyArb, mutationsArb, fc.boolean(), fc.constantFrom(undefined, 'application/json', 'text/event-stream'), (path, req, res, muts, complete, ct) => {
      const segs = [{ type: 'response' as const, data: new Uint8Array(res), gap: 0 }];
      mutate(segs, muts);
      const body = Buffer.from(segs[0].data);
      const c = readGenaiCall({ method: 'POST', path, requestBody: req, requestComplete: complete, responseBody: body, responseComplete: complete, responseContentType: ct });
      if (c === undefined) return;
      for (const v of Object.values(c.attributes)) assert.ok(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));
      if (c.inputTokens !== undefined) assert.ok(Number.isInteger(c.inputTokens) && c.inputTokens >= 0);
    }),
    fuzzParams(PER_PROPERTY_MS),
  );
});

test('fuzz: an over-long SSE line is skipped and the stream read on', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 50 }), (k, tokens) => {
      const big = `data: {"x":"${'a'.repeat(MAX_SSE_EVENT * k)}"}\n\n`;
      const end = `data: {"id":"c","choices":[],"usage":{"prompt_tokens":${tokens},"completion_tokens":${tokens + 1}}}\n\n`;
      const r = new GenaiResponseReader('openai', 'text/event-stream');
      r.feed(Buffer.from(big));
      r.feed(Buffer.from(end));
      const out = r.finish(true);
      assert.equal(out.inputTokens, tokens);
      assert.equal(out.outputTokens, tokens + 1);
      assert.equal(out.events, 1);
    }),
    fuzzParams(PER_PROPERTY_MS),
  );
});

test('fuzz: generated Anthropic streams give their usage at every segmentation', () => {
  fc.assert(
    fc.property(fc.nat(100000), fc.nat(100000), fc.array(fc.string({ maxLength: 30 }), { maxLength: 8 }), fc.array(fc.nat(4000), { maxLength: 10 }), (input, output, texts, cuts) => {
      const events = [
        { type: 'message_start', message: { id: 'msg_x', model: 'claude-x', usage: { input_tokens: input, output_tokens: 1 } } },
        ...texts.map((t) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } })),
        { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: output } },
        { type: 'message_stop' },
      ];
      const body = Buffer.from(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
      const r = new GenaiResponseReader('anthropic', 'text/event-stream');
      let at = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        const to = Math.min(c, body.length);
        if (to > at) r.feed(body.subarray(at, to));
        at = Math.max(at, to);
      }
      r.feed(body.subarray(at));
      const out = r.finish(true);
      assert.deepEqual([out.id, out.model, out.inputTokens, out.outputTokens, out.finishReasons, out.events], ['msg_x', 'claude-x', input, output, ['max_tokens'], events.length]);
    }),
    fuzzParams(PER_PROPERTY_MS),
  );
});
