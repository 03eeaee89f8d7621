/**
 * The ingest warm-up's synthetic traffic goes through the real decoder, tracker, HTTP/1 parser and
 * record-to-span step: every request makes its two spans (client and server), and the rounds stop at
 * the time budget or the round cap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ObiDataFlags, ObiDirection, ObiRole } from '../abi/events.ts';
import { decodeBatch, type DecodeStats } from '../ingest/decode.ts';
import { bindProtocols } from '../protocols/registry.ts';
import { RandomIdSource } from '../telemetry/ids.ts';
import { createRouteResolver } from '../telemetry/routes/index.ts';
import { WARMUP_CONNECTIONS, WARMUP_MAX_ROUNDS, WARMUP_REQUESTS, WARMUP_ROUND_RECORDS, warmIngest, warmupBatch, type WarmupDeps } from './warmup.ts';

function deps(): WarmupDeps {
  const ids = new RandomIdSource();
  const routes = createRouteResolver({ patterns: [], unmatched: 'heuristic' });
  return { protocols: bindProtocols(), ids, spanCtx: { ids, route: (path, svc) => routes.resolve(path, svc.instanceId) } };
}

const ROLE: Record<number, string> = { [ObiRole.OBI_ROLE_SERVER]: 'server', [ObiRole.OBI_ROLE_CLIENT]: 'client' };
const SPANS_PER_ROUND = 2 * WARMUP_CONNECTIONS * WARMUP_REQUESTS;

test('one round decodes as the kernel frames it: connects, accepts, five records per request, closes', () => {
  const counts = new Map<string, number>();
  const add = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  const stats: DecodeStats = { records: 0, malformed: 0, bytesLost: 0 };
  let lastTs = 0;
  let ordered = true;
  const ts = (t: number): void => {
    if (t <= lastTs) ordered = false;
    lastTs = t;
  };
  decodeBatch(
    warmupBatch(5e14),
    {
      data: (ev, payload) => {
        ts(ev.hdrTsNs);
        const way = ev.direction === ObiDirection.OBI_DIR_INGRESS ? 'reads' : 'writes';
        add((ev.flags & ObiDataFlags.OBI_DATA_SENDFILE) !== 0 ? `${ROLE[ev.role]} sendfile ${ev.len}/${payload.length}` : `${ROLE[ev.role]} ${way} ${payload.length}`);
      },
      conn: (ev) => (ts(ev.hdrTsNs), add(`${ROLE[ev.role]} conn, local port ${ev.tupleLocalPort < 40_000 ? ev.tupleLocalPort : 'peer'}`)),
      close: (ev) => (ts(ev.hdrTsNs), add(`${ROLE[ev.role]} close`)),
      proc: () => add('proc'),
    },
    stats,
  );
  assert.equal(stats.records, WARMUP_ROUND_RECORDS);
  assert.equal(stats.malformed, 0);
  assert.equal(stats.bytesLost, 615 * WARMUP_CONNECTIONS * WARMUP_REQUESTS, 'only the sendfile body goes uncaptured');
  assert.ok(ordered, 'timestamps increase');
  const perConn = WARMUP_CONNECTIONS;
  const perReq = WARMUP_CONNECTIONS * WARMUP_REQUESTS;
  assert.deepEqual(Object.fromEntries([...counts].sort()), {
    'client close': perConn,
    'client conn, local port peer': perConn,
    'client reads 756': perReq, // headers and the 615-byte body
    'client writes 90': perReq,
    'server close': perConn,
    'server conn, local port 8080': perConn,
    'server reads 90': perReq,
    'server sendfile 615/0': perReq,
    'server writes 163': perReq,
  });
});

test('warmIngest: every request makes a client and a server span; the budget ends the rounds', () => {
  let clock = 0;
  const r = warmIngest(deps(), 250, () => (clock += 100));
  // the clock reads 100 at the start, then 200, 300, 400 after rounds 1-3: 300 - 100 >= 250 ends it
  assert.equal(r.rounds, 3);
  assert.equal(r.records, 3 * WARMUP_ROUND_RECORDS);
  assert.equal(r.spans, 3 * SPANS_PER_ROUND);
  assert.equal(r.ms, 400);
});

test('warmIngest: no more than WARMUP_MAX_ROUNDS rounds without a budget', () => {
  const r = warmIngest(deps(), Infinity);
  assert.equal(r.rounds, WARMUP_MAX_ROUNDS);
  assert.equal(r.records, WARMUP_MAX_ROUNDS * WARMUP_ROUND_RECORDS);
  assert.equal(r.spans, WARMUP_MAX_ROUNDS * SPANS_PER_ROUND);
});
