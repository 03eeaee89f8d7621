// A local HTTPS server answering in the documented formats of the OpenAI API (chat completions,
// whole and streamed as server-sent `chat.completion.chunk` events with
// `stream_options.include_usage`; embeddings) and of the Anthropic Messages API (message
// objects, and the message_start / content_block_* / message_delta / message_stop event stream),
// written for the tests from those public API references (no model behind it). The last user
// message says what to answer: `in=<input tokens> out=<output tokens> size=<answer bytes>`;
// the answer text is that many bytes and the usage reports those counts.
// Usage: node genai-server.mjs <port> <cert> <key> [h2] [gzip]   (h2: HTTP/2 over TLS only, ALPN h2,
// node:http2; gzip: whole JSON answers gzip-coded when the request accepts it, one `gzip <path>`
// line on stdout per coded answer)
import https from 'node:https';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const [port, cert, key, ...flags] = process.argv.slice(2);
const version = flags.includes('h2') ? 'h2' : 'h1';
const gzip = flags.includes('gzip');

/** a whole JSON answer, gzip-coded when the server was asked to and the request accepts it */
function json(res, status, headers, obj) {
  let body = Buffer.from(JSON.stringify(obj));
  if (res.obiGzip) {
    body = gzipSync(body);
    headers = { ...headers, 'content-encoding': 'gzip' };
    console.log(`gzip ${res.obiPath}`);
  }
  res.writeHead(status, headers);
  res.end(body);
}
let seq = 0;

function ask(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const last = msgs.length > 0 ? msgs[msgs.length - 1].content : String(body.input ?? '');
  const text = typeof last === 'string' ? last : JSON.stringify(last);
  const num = (k, d) => Number((new RegExp(`${k}=(\\d+)`).exec(text) ?? [])[1] ?? d);
  return { input: num('in', 1), output: num('out', 1), size: num('size', 16) };
}

const answer = (size) => 'lorem ipsum '.repeat(Math.ceil(size / 12)).slice(0, size);
const chunks = (text, n) => Array.from({ length: Math.ceil(text.length / n) }, (_, i) => text.slice(i * n, (i + 1) * n));

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (i >= events.length) return res.end();
    res.write(events[i++], next); // one write per event, as a streaming model server sends them
  };
  next();
}

function openaiChat(body, res) {
  const { input, output, size } = ask(body);
  const id = `chatcmpl-obi${++seq}`;
  const model = `${body.model}-2024-07-18`;
  const text = answer(size);
  if (!body.stream) {
    const answerJson = { id, object: 'chat.completion', created: 1741569952, model, choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }, system_fingerprint: 'fp_obi' };
    return json(res, 200, { 'content-type': 'application/json' }, answerJson);
  }
  const chunk = (delta, finish, usage = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1741569952, model, system_fingerprint: 'fp_obi', choices: delta === undefined ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage })}\n\n`;
  const events = [chunk({ role: 'assistant', content: '' }, null), ...chunks(text, 200).map((c) => chunk({ content: c }, null)), chunk({}, 'stop')];
  if (body.stream_options?.include_usage) events.push(chunk(undefined, null, { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }));
  events.push('data: [DONE]\n\n');
  sse(res, events);
}

function openaiEmbeddings(body, res) {
  const { input, size } = ask(body);
  // the SDKs ask for base64 (little-endian float32) by default; floats otherwise
  const b64 = body.encoding_format === 'base64';
  const floats = Array.from({ length: Math.ceil(size / (b64 ? 5 : 20)) }, (_, i) => Math.sin(i) / 3);
  const embedding = b64 ? Buffer.from(new Float32Array(floats).buffer).toString('base64') : floats;
  json(res, 200, { 'content-type': 'application/json' }, { object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: body.model, usage: { prompt_tokens: input, total_tokens: input } });
}

function anthropicMessages(body, res) {
  const { input, output, size } = ask(body);
  const id = `msg_obi${++seq}`;
  const model = `${body.model}-20241022`;
  const text = answer(size);
  if (!body.stream) {
    return json(res, 200, { 'content-type': 'application/json', 'request-id': `req_${seq}` }, { id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: input, output_tokens: output } });
  }
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  sse(res, [
    ev('message_start', { message: { id, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...chunks(text, 200).map((c) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: c } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: output } }),
    ev('message_stop', {}),
  ]);
}

// the same handler on node:http2's compatibility API (req/res per stream)
const serve = (opts, handler) => (version === 'h2' ? http2.createSecureServer({ ...opts, allowHTTP1: false }, handler) : https.createServer(opts, handler));
serve({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'bad json', type: 'invalid_request_error', param: null, code: null } }));
      }
      const path = new URL(req.url, 'https://localhost').pathname;
      res.obiGzip = gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.obiPath = path;
      if (body.model === 'missing-model') {
        res.writeHead(404, { 'content-type': 'application/json' });
        if (path === '/v1/messages') return res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'model: missing-model' } }));
        return res.end(JSON.stringify({ error: { message: 'The model `missing-model` does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } }));
      }
      if (path === '/v1/chat/completions') return openaiChat(body, res);
      if (path === '/v1/embeddings') return openaiEmbeddings(body, res);
      if (path === '/v1/messages') return anthropicMessages(body, res);
      res.writeHead(404);
      res.end();
    });
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
