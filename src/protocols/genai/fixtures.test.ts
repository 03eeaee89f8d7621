/**
 * GenAI fixtures (fixtures/*.md): each case's response body is read whole, split at every point,
 * byte by byte, and cut at every point (a cut body must never give a value the whole one does not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadGenaiCases, type GenaiCase as Case } from '../../../test/helpers/genai-fixtures.ts';
import { readGenaiCall, ATTR_GEN_AI_RESPONSE_FINISH_REASONS } from './extract.ts';
import { GenaiResponseReader } from './response.ts';
import { genaiRoute } from './request.ts';

const dir = join(import.meta.dirname, 'fixtures');
const cases = loadGenaiCases(dir);

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
