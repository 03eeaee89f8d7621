/**
 * The drain timer of the ring buffer (native/src/ringbuf.c) backs off while the ring stays empty:
 * its period doubles after every 10 empty drains, up to 100 ms, and the first drain that finds a
 * record brings it back to the period asked for. Checked with the real BPF programs, a real
 * Python HTTP server traced and curl as its client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiDirection, ObiMap } from '../../src/abi/events.ts';
import { decodeBatch } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/pipeline/log.ts';
import { Kernel } from '../../src/pipeline/kernel.ts';
import { preflight } from '../../src/pipeline/preflight.ts';
import { freePort, run, startProcess, waitFor, waitForPort } from '../helpers/harness.ts';

const BASE_MS = 5;

test('ring drain: the timer backs off 5 -> 100 ms on an empty ring and returns to 5 ms with the first records', async () => {
  preflight(); // mounts tracefs and bpffs where missing (a fresh boot has neither)
  const kernel = Kernel.load({ captureSize: 1024, ringBufferSize: 1 << 22, wakeupLen: 64, log: createLogger('error', 'text', () => {}) });
  const port = await freePort();
  const srv = startProcess('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1']);
  const requests: string[] = [];
  const stats = { records: 0, malformed: 0, bytesLost: 0 };
  const onBatch = (batch: Buffer): void =>
    decodeBatch(batch, {
      data: (ev, payload) => {
        if (ev.hdrPid === srv.pid && ev.direction === ObiDirection.OBI_DIR_INGRESS) requests.push(payload.toString('latin1'));
      },
      conn: () => {},
      close: () => {},
      proc: () => {},
    }, stats);
  try {
    await waitForPort(port);
    kernel.bpf.ringbufStart(ObiMap.events, BASE_MS, onBatch);
    assert.equal(kernel.bpf.ringbufPeriod(), BASE_MS);
    const seen = new Set<number>([BASE_MS]);
    const sampler = setInterval(() => seen.add(kernel.bpf.ringbufPeriod()), 1);
    try {
      // 10 empty drains at each of 5, 10, 20, 40 and 80 ms: ~1.6 s when nothing else on the host execs
      await waitFor('the period at its 100 ms cap', () => kernel.bpf.ringbufPeriod() === 100, 20_000);
    } finally {
      clearInterval(sampler);
    }
    assert.deepEqual([...seen].filter((p) => ![5, 10, 20, 40, 80, 100].includes(p)), [], `periods seen: ${[...seen].join(', ')}`);
    assert.ok(seen.has(40) && seen.has(80), `doubling steps seen: ${[...seen].join(', ')}`);

    kernel.tracePid(srv.pid, true);
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/ringbuf-idle`]);
    await waitFor('the request read, delivered', () => requests.some((r) => r.startsWith('GET /ringbuf-idle HTTP/1.1\r\n')), 5_000);
    assert.equal(kernel.bpf.ringbufPeriod(), BASE_MS);
    assert.equal(stats.malformed, 0);
  } finally {
    await srv.kill();
    kernel.bpf.ringbufStop();
    kernel.close();
  }
});
