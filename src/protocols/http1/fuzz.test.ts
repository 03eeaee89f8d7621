/**
 * Fuzzing the HTTP/1 parser through ProtocolSession (house rule 6). The time budget comes from
 * FUZZ_MS (default 2000 ms), shared by the properties below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MessageType } from '../common/contract.ts';
import { FUZZ_LIMITS, cutAt, fuzzParams, fuzzPropertyMs, playSegments, type FuzzSegment } from '../../../test/helpers/protocol-fuzz.ts';
import type { SessionOptions } from '../common/session.ts';
import { http1Parser } from './index.ts';
import type { HttpExchange } from './types.ts';

const PER_PROPERTY_MS = fuzzPropertyMs(1, 3, 100);
const LIMITS: SessionOptions = FUZZ_LIMITS;

function params(): fc.Parameters<unknown> {
  return fuzzParams(PER_PROPERTY_MS);
}

type Seg = FuzzSegment;

/** feed segments in order, close, check the common invariants (test/helpers/protocol-fuzz.ts) and this protocol's */
function play(segs: readonly Seg[], opts: SessionOptions = LIMITS): HttpExchange[] {
  return playSegments(http1Parser, segs, opts, (s, records) => {
    assert.equal(s.requestBuffer.length + s.responseBuffer.length, 0);
    for (const e of records) {
      assert.ok(Number.isInteger(e.status) && e.status >= 0 && e.status <= 999);
      assert.ok(e.requestBodySize >= 0 && e.responseBodySize >= 0);
    }
  });
}

const segArb: fc.Arbitrary<Seg> = fc.record({
  type: fc.constantFrom<MessageType>('request', 'response'),
  data: fc.uint8Array({ maxLength: 96 }),
  gap: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(4096)),
});

test('fuzz: random bytes, random segments and gaps never throw and stay bounded', () => {
  fc.assert(
    fc.property(fc.array(segArb, { maxLength: 40 }), (segs) => {
      play(segs);
    }),
    params(),
  );
});

// ---- valid traffic generators

interface Msg {
  req: string;
  reqBody: number;
  resp: string;
  status: number;
  respBody: number;
  method: string;
}

const tokenArb = fc.stringMatching(/^[a-z0-9]{1,12}$/);

const bodyArb = fc.oneof(
  fc.record({ kind: fc.constant('none' as const) }),
  fc.record({ kind: fc.constant('length' as const), n: fc.nat(300) }),
  fc.record({ kind: fc.constant('chunked' as const), sizes: fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 5 }), ext: fc.boolean(), trailer: fc.boolean() }),
);

type Body = { kind: 'none' } | { kind: 'length'; n: number } | { kind: 'chunked'; sizes: number[]; ext: boolean; trailer: boolean };

function encodeBody(b: Body): { headers: string; body: string; size: number } {
  if (b.kind === 'none') return { headers: '', body: '', size: 0 };
  if (b.kind === 'length') return { headers: `Content-Length: ${b.n}\r\n`, body: 'x'.repeat(b.n), size: b.n };
  let body = '';
  for (const n of b.sizes) body += `${n.toString(16)}${b.ext ? ';a=b' : ''}\r\n${'y'.repeat(n)}\r\n`;
  body += `0\r\n${b.trailer ? 'X-T: 1\r\n' : ''}\r\n`;
  return { headers: 'Transfer-Encoding: chunked\r\n', body, size: b.sizes.reduce((a, n) => a + n, 0) };
}

const msgArb: fc.Arbitrary<Msg> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'),
    path: fc.array(tokenArb, { maxLength: 4 }),
    query: fc.option(tokenArb),
    host: fc.option(tokenArb),
    lower: fc.boolean(),
    reqBody: bodyArb,
    status: fc.constantFrom(200, 201, 204, 301, 304, 400, 404, 500, 503),
    respBody: bodyArb,
    interim: fc.boolean(),
  })
  .map((m) => {
    const rb = m.method === 'GET' || m.method === 'HEAD' ? encodeBody({ kind: 'none' }) : encodeBody(m.reqBody as Body);
    const noBody = m.method === 'HEAD' || m.status === 204 || m.status === 304;
    const sb = encodeBody(m.respBody.kind === 'none' ? { kind: 'length', n: 0 } : (m.respBody as Body));
    const h = (s: string) => (m.lower ? s.toLowerCase() : s);
    const target = `/${m.path.join('/')}${m.query !== null ? `?${m.query}` : ''}`;
    const req = `${m.method} ${target} HTTP/1.1\r\n${m.host !== null ? h(`Host: ${m.host}\r\n`) : ''}${h(rb.headers)}\r\n${rb.body}`;
    const resp =
      (m.interim ? 'HTTP/1.1 100 Continue\r\n\r\n' : '') +
      `HTTP/1.1 ${m.status} X\r\n${h(sb.headers)}\r\n${noBody ? '' : sb.body}`;
    return { req, reqBody: rb.size, resp, status: m.status, respBody: noBody ? 0 : sb.size, method: m.method };
  });

/** cut `s` into segments at the given fractional points */

const pointsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

test('fuzz: valid exchanges split anywhere (pipelined or not) give exactly the expected records', () => {
  fc.assert(
    fc.property(fc.array(msgArb, { minLength: 1, maxLength: 5 }), pointsArb, pointsArb, fc.boolean(), (msgs, rqPoints, rsPoints, pipelined) => {
      let segs: Seg[] = [];
      if (pipelined) {
        segs = [...cutAt('request', msgs.map((m) => m.req).join(''), rqPoints), ...cutAt('response', msgs.map((m) => m.resp).join(''), rsPoints)];
      } else {
        for (const m of msgs) segs.push(...cutAt('request', m.req, rqPoints), ...cutAt('response', m.resp, rsPoints));
      }
      const out = play(segs, {});
      assert.deepEqual(
        out.map((e) => [e.method, e.status, e.requestBodySize, e.responseBodySize, e.truncated]),
        msgs.map((m) => [m.method, m.status, m.reqBody, m.respBody, false]),
      );
    }),
    params(),
  );
});

type Mutation = { at: number; op: 'flip' | 'insert' | 'delete' | 'gap'; byte: number; len: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  op: fc.constantFrom('flip', 'insert', 'delete', 'gap'),
  byte: fc.constantFrom(0x0d, 0x0a, 0x3a, 0x20, 0x30, 0x66, 0x00, 0xff, 0x3b),
  len: fc.integer({ min: 1, max: 2000 }),
});

test('fuzz: mutated valid traffic with random splits and gaps never throws and stays bounded', () => {
  fc.assert(
    fc.property(fc.array(msgArb, { minLength: 1, maxLength: 4 }), fc.array(mutationArb, { maxLength: 6 }), pointsArb, (msgs, muts, points) => {
      const segs: Seg[] = [];
      for (const m of msgs) segs.push(...cutAt('request', m.req, points), ...cutAt('response', m.resp, points));
      for (const mu of muts) {
        const g = segs[Math.floor(mu.at * segs.length) % segs.length];
        const d = Array.from(g.data);
        const i = Math.floor(mu.at * d.length);
        if (mu.op === 'flip' && d.length > 0) d[Math.min(i, d.length - 1)] = mu.byte;
        else if (mu.op === 'insert') d.splice(i, 0, mu.byte);
        else if (mu.op === 'delete') d.splice(i, 1);
        else if (mu.op === 'gap') {
          // drop the captured tail: it becomes a gap of the same (or a larger) wire length
          g.gap += d.length - i + (mu.len % 3 === 0 ? mu.len : 0);
          d.length = i;
        }
        g.data = Uint8Array.from(d);
      }
      play(segs);
    }),
    params(),
  );
});
