import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { contentCoding, decodeBody, decodedPayload, MAX_DECODED_BODY } from './content-coding.ts';
import type { HttpPayload } from './records.ts';

const json = Buffer.from(JSON.stringify({ id: 'chatcmpl-1', usage: { prompt_tokens: 12, completion_tokens: 34 }, text: 'x'.repeat(5000) }));

test('contentCoding: the codings undone, identity, stacked and unknown ones', () => {
  assert.equal(contentCoding([]), undefined);
  assert.equal(contentCoding([['content-encoding', 'identity']]), undefined);
  assert.equal(contentCoding([['content-encoding', 'GZIP']]), 'gzip');
  assert.equal(contentCoding([['content-encoding', 'x-gzip']]), 'gzip');
  assert.equal(contentCoding([['content-encoding', 'deflate']]), 'deflate');
  assert.equal(contentCoding([['content-encoding', 'br']]), 'br');
  assert.equal(contentCoding([['content-encoding', 'gzip, br']]), 'unsupported');
  assert.equal(contentCoding([['content-encoding', 'zstd']]), 'unsupported');
});

test('decodeBody: whole bodies of each coding decode exactly', () => {
  for (const [coding, coded] of [
    ['gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['deflate', deflateRawSync(json)], // raw deflate, as some servers send it
    ['br', brotliCompressSync(json)],
  ] as const) {
    const r = decodeBody(coded, coding, true);
    assert.deepEqual(r.body, json);
    assert.equal(r.complete, true);
  }
});

test('decodeBody: a cut body decodes to a prefix of the whole, never complete', () => {
  for (const coding of ['gzip', 'deflate', 'br'] as const) {
    const coded = coding === 'gzip' ? gzipSync(json) : coding === 'br' ? brotliCompressSync(json) : deflateSync(json);
    for (let cut = 0; cut < coded.length; cut += 7) {
      const r = decodeBody(coded.subarray(0, cut), coding, false);
      assert.equal(r.complete, false, `${coding} at ${cut}`);
      assert.deepEqual(r.body, json.subarray(0, r.body.length), `${coding} at ${cut}`);
    }
    // marked complete but cut: the whole decode fails, the prefix is kept
    const r = decodeBody(coded.subarray(0, coded.length - 3), coding, true);
    assert.equal(r.complete, false);
    assert.deepEqual(r.body, json.subarray(0, r.body.length));
  }
});

test('decodeBody: a body that inflates past the limit is cut there (a zip bomb stays bounded)', () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x61)); // 64 MiB of 'a' in ~64 KiB
  const r = decodeBody(bomb, 'gzip', true);
  assert.equal(r.complete, false);
  assert.ok(r.body.length <= MAX_DECODED_BODY && r.body.length > MAX_DECODED_BODY / 2, `decoded ${r.body.length}`);
  const small = decodeBody(gzipSync(json), 'gzip', true, 1000);
  assert.ok(small.body.length <= 1000 && !small.complete);
  assert.deepEqual(small.body, json.subarray(0, small.body.length));
});

test('decodeBody: corrupt bytes give nothing, never a throw', () => {
  const r = decodeBody(Buffer.from('not gzip at all, just text'), 'gzip', true);
  assert.equal(r.body.length, 0);
  assert.equal(r.complete, false);
});

test('decodedPayload: decodes each side by its own header, lazily; unsupported codings read as an empty body', () => {
  const p: HttpPayload = {
    requestHeaders: [['content-type', 'application/json']],
    responseHeaders: [['content-encoding', 'gzip']],
    requestBody: Buffer.from('{"model":"m"}'),
    requestBodyComplete: true,
    responseBody: gzipSync(json),
    responseBodyComplete: true,
  };
  const d = decodedPayload(p);
  assert.deepEqual(d.requestBody, p.requestBody);
  assert.deepEqual(d.responseBody, json);
  assert.equal(d.responseBodyComplete, true);
  const plain = { ...p, responseHeaders: [], responseBody: json };
  assert.equal(decodedPayload(plain), plain, 'nothing coded: the same object');
  const z = decodedPayload({ ...p, responseHeaders: [['content-encoding', 'zstd']] });
  assert.equal(z.responseBody.length, 0);
  assert.equal(z.responseBodyComplete, false);
});
