/**
 * GenAI fixtures (fixtures/*.md): each case's response body is read whole, split at every point,
 * byte by byte, and cut at every point (a cut body must never give a value the whole one does not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGenaiCall, ATTR_GEN_AI_RESPONSE_FINISH_REASONS } from './extract.ts';
import { GenaiResponseReader } from './response.ts';
import { genaiRoute } from './request.ts';

interface Case {
  title: string;
  method: string;
  path: string;
  request: Buffer;
  contentType: string;
  response: Buffer;
  expect: { name: string; events?: number; errorType?: string; errorMessage?: string; attributes: Record<string, string | number> };
}

function loadCases(file: string): Case[] {
  const text = readFileSync(file, 'utf8');
  const out: Case[] = [];
  for (const section of text.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'));
    const blocks = new Map<string, { info: string; body: string }>();
    const re = /^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm;
    for (let m = re.exec(section); m !== null; m = re.exec(section)) blocks.set(m[1], { info: m[2].trim(), body: m[3] });
    const req = blocks.get('request')!;
    const res = blocks.get('response')!;
    const [method, path] = req.info.split(' ');
    const raw = (s: string): Buffer => Buffer.from(s.replace(/\\r/g, '\r'), 'utf8');
    out.push({
      title,
      method,
      path,
      request: raw(req.body.replace(/\n$/, '')),
      contentType: res.info,
      response: raw(res.body),
      expect: JSON.parse(blocks.get('expect')!.body) as Case['expect'],
    });
  }
  return out;
}

const dir = join(import.meta.dirname, 'fixtures');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.md'))
  .flatMap((f) => loadCases(join(dir, f)).map((c) => ({ file: f, c })));

function call(c: Case, body: Buffer, complete: boolean): ReturnType<typeof readGenaiCall> {
  return readGenaiCall({ method: c.method, path: c.path, requestBody: c.request, requestComplete: true, responseBody: body, responseComplete: complete, responseContentType: c.contentType });
}

test('the fixtures hold cases', () => {
  assert.ok(cases.length >= 8, `cases: ${cases.length}`);
});

for (const { file, c } of cases) {
  test(`${file}: ${c.title}`, () => {
    const whole = call(c, c.response, true);
    assert.ok(whole !== undefined);
    assert.equal(whole.name, c.expect.name);
    assert.deepEqual(whole.attributes, c.expect.attributes);
    assert.equal(whole.errorType, c.expect.errorType);
    assert.equal(whole.errorMessage, c.expect.errorMessage);
    const route = genaiRoute(c.method, c.path)!;
    const read = (parts: Buffer[]): ReturnType<GenaiResponseReader['finish']> => {
      const r = new GenaiResponseReader(route.provider, c.contentType);
      for (const p of parts) r.feed(p);
      return r.finish(true);
    };
    const ref = read([c.response]);
    if (c.expect.events !== undefined) assert.equal(ref.events, c.expect.events);
    for (let i = 1; i < c.response.length; i++) assert.deepEqual(read([c.response.subarray(0, i), c.response.subarray(i)]), ref, `split at ${i}`);
    const bytes: Buffer[] = [];
    for (let i = 0; i < c.response.length; i++) bytes.push(c.response.subarray(i, i + 1));
    assert.deepEqual(read(bytes), ref, 'byte by byte');
    // a cut body (the capture stopped) never gives a value the whole body does not
    for (let i = 0; i < c.response.length; i++) {
      const cut = call(c, c.response.subarray(0, i), false)!;
      for (const [k, v] of Object.entries(cut.attributes)) {
        if (k === ATTR_GEN_AI_RESPONSE_FINISH_REASONS) assert.ok(String(whole.attributes[k]).split(',').includes(String(v).split(',')[0]), `${k} at ${i}`);
        else assert.equal(v, whole.attributes[k], `${k} cut at ${i}`);
      }
    }
  });
}
