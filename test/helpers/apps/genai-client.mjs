// Traced GenAI client for test/integration/genai.test.ts: the official `openai` and
// `@anthropic-ai/sdk` clients against test/helpers/apps/genai-server.mjs. Waits for a line on
// stdin (the test attaches the TLS uprobes first), makes the calls in order, prints one JSON
// line per call with what the client itself saw.
// Usage: node genai-client.mjs <port> [h2]   (NODE_EXTRA_CA_CERTS names the server's certificate;
// h2: both clients fetch through undici with HTTP/2 allowed, so that ALPN selects h2)
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import Anthropic from '@anthropic-ai/sdk';
import { createInterface } from 'node:readline';

const port = Number(process.argv[2]);
const rl = createInterface({ input: process.stdin });
await new Promise((resolve) => rl.once('line', resolve));
rl.close();

const h2 = process.argv[3] === 'h2';
const dispatcher = h2 ? new Agent({ allowH2: true }) : undefined;
const fetchOpt = h2 ? { fetch: (url, init) => undiciFetch(url, { ...init, dispatcher }) } : {};
const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `https://127.0.0.1:${port}/v1`, maxRetries: 0, ...fetchOpt });
const anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: `https://127.0.0.1:${port}`, maxRetries: 0, ...fetchOpt });
const say = (o) => console.log(JSON.stringify(o));
const user = (content) => [{ role: 'user', content }];

// OpenAI chat, whole JSON: 3 KiB and 20 KiB answers
for (const [i, o, size] of [[11, 22, 3000], [33, 44, 20000]]) {
  const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', temperature: 0.5, messages: user(`in=${i} out=${o} size=${size}`) });
  say({ call: 'openai.chat', id: r.id, usage: r.usage, len: r.choices[0].message.content.length });
}
// OpenAI chat, streamed with usage: 12 KB in 200-byte chunks
{
  const s = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: user('in=55 out=66 size=12000') });
  let len = 0;
  let usage;
  for await (const c of s) {
    len += c.choices[0]?.delta?.content?.length ?? 0;
    if (c.usage) usage = c.usage;
  }
  say({ call: 'openai.chat.stream', len, usage });
}
// OpenAI embeddings: a 10 KB vector list
{
  const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'in=77 size=10000' });
  say({ call: 'openai.embeddings', dims: r.data[0].embedding.length, usage: r.usage });
}
// Anthropic messages, whole (9 KB) and streamed (5 KB)
{
  const r = await anthropic.messages.create({ model: 'claude-3-5-haiku', max_tokens: 512, messages: user('in=88 out=99 size=9000') });
  say({ call: 'anthropic.messages', id: r.id, usage: r.usage });
  const s = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 256, stream: true, messages: user('in=111 out=222 size=5000') });
  let out;
  for await (const e of s) if (e.type === 'message_delta') out = e.usage.output_tokens;
  say({ call: 'anthropic.messages.stream', out });
}
// errors: an unknown model on each API
for (const f of [() => openai.chat.completions.create({ model: 'missing-model', messages: user('x') }), () => anthropic.messages.create({ model: 'missing-model', max_tokens: 1, messages: user('x') })]) {
  try {
    await f();
  } catch (err) {
    say({ call: 'error', status: err.status });
  }
}
await dispatcher?.close();
