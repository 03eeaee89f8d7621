/**
 * The drain batch of the ring buffer (native/src/ringbuf.c) is one Buffer the ring keeps: every
 * drain is written into it, and a drain that does not fit grows it (the records read so far kept,
 * in order) and goes on in the same drain. Checked with the real BPF programs and a real Python
 * process that ping-pongs 1000-byte messages between two of its own TCP sockets on loopback:
 * every byte each socket sent and received arrives, once, in order. Once the traffic stops, the
 * pages a burst grew the Buffer into go back to the kernel (they read as zeros again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiDirection, ObiMap } from '../../src/abi/events.ts';
import { decodeBatch } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/pipeline/log.ts';
import { Kernel } from '../../src/pipeline/kernel.ts';
import { preflight } from '../../src/pipeline/preflight.ts';
import { startProcess, waitFor } from '../helpers/harness.ts';

const PAGE = 4096;

const MSG = 1000;
const CAPTURE = 1024;
const RING = 1 << 24;
// a forced wake-up once half the ring (8 MiB) is waiting: Kernel.load's min(ring / 2, wakeup_len records)
const WAKEUP_LEN = 8192;
const INITIAL_BATCH = 1 << 20;

// n messages from one socket to the other, each read in full before the next is sent; `pause_ms` between messages
const PINGPONG = `
import socket, sys, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
a = socket.create_connection(l.getsockname()); b, _ = l.accept()
print('ready', flush=True)
n, pause = (int(x) for x in sys.stdin.readline().split())
for i in range(n):
    a.sendall((b'msg %06d ' % i).ljust(${MSG}, b'.'))
    got = 0
    while got < ${MSG}:
        got += len(b.recv(${MSG} - got))
    if pause: time.sleep(pause / 1000)
print('done', flush=True)
`;

function expected(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `msg ${String(i).padStart(6, '0')} `.padEnd(MSG, '.');
  return s;
}

interface Seen {
  /** the Python process, once started */
  pid: number;
  egress: string[];
  ingress: string[];
}

function collector(seen: Seen): (batch: Buffer) => void {
  const stats = { records: 0, malformed: 0, bytesLost: 0 };
  return (batch) => {
    decodeBatch(batch, {
      data: (ev, payload) => {
        if (ev.hdrPid !== seen.pid) return;
        (ev.direction === ObiDirection.OBI_DIR_EGRESS ? seen.egress : seen.ingress).push(payload.toString('latin1'));
      },
      conn: () => {},
      close: () => {},
      proc: () => {},
    }, stats);
    assert.equal(stats.malformed, 0);
  };
}

async function pingpong(kernel: Kernel, seen: Seen, n: number, pauseMs: number): Promise<void> {
  const p = startProcess('python3', ['-c', PINGPONG], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await waitFor('ready', () => p.output().includes('ready'), 10_000);
    kernel.tracePid(p.pid, true);
    seen.pid = p.pid;
    p.child.stdin!.write(`${n} ${pauseMs}\n`);
    await waitFor('done', () => p.output().includes('done'), 60_000);
  } finally {
    await p.kill();
  }
}

test('ring drain batch: one Buffer for every drain; a drain past its size grows it and keeps every record in order', async () => {
  preflight(); // mounts tracefs and bpffs where missing (a fresh boot has neither)
  const kernel = Kernel.load({ captureSize: CAPTURE, ringBufferSize: RING, wakeupLen: WAKEUP_LEN, log: createLogger('error', 'text', () => {}) });
  try {
    // paced: many small drains every 5 ms, all written into the one Buffer of its first size
    {
      const seen: Seen = { pid: 0, egress: [], ingress: [] };
      const buffers = new Set<ArrayBufferLike>();
      let drains = 0;
      const collect = collector(seen);
      kernel.bpf.ringbufStart(ObiMap.events, 5, (batch) => {
        drains++;
        buffers.add(batch.buffer);
        collect(batch);
      });
      await pingpong(kernel, seen, 200, 2);
      const want = expected(200);
      await waitFor('every paced message read back', () => seen.ingress.join('').length >= want.length, 5_000);
      kernel.bpf.ringbufStop();
      assert.equal(seen.egress.join(''), want);
      assert.equal(seen.ingress.join(''), want);
      assert.ok(drains >= 10, `${drains} drains`);
      assert.equal(buffers.size, 1, `${buffers.size} Buffers for ${drains} drains`);
      assert.equal([...buffers][0].byteLength, INITIAL_BATCH);
    }
    // unpaced, with no timer drain in the test's time: the forced wake-up at 8 MiB waiting drains
    // it all at once, growing the 1 MiB Buffer to 16 MiB within the one drain; the rest comes after
    {
      const seen: Seen = { pid: 0, egress: [], ingress: [] };
      const drains: { length: number; capacity: number }[] = [];
      const collect = collector(seen);
      kernel.bpf.ringbufStart(ObiMap.events, 600_000, (batch) => {
        drains.push({ length: batch.byteLength, capacity: batch.buffer.byteLength });
        collect(batch);
      });
      const n = 4500; // 9000 records of 1136 bytes: 9.75 MiB
      await pingpong(kernel, seen, n, 0);
      collect(kernel.bpf.ringbufDrain());
      // the spill held the records past the 1 MiB Buffer and kept each (a failed malloc would count here)
      assert.equal(kernel.bpf.ringbufLost(), 0);
      kernel.bpf.ringbufStop();
      const want = expected(n);
      assert.equal(seen.egress.join(''), want);
      assert.equal(seen.ingress.join(''), want);
      // (a forced wake-up before it, for a process event, carries a few records)
      const shown = drains.map((d) => `${d.length}/${d.capacity}`).join(', ');
      const big = drains.findIndex((d) => d.length >= RING / 2);
      assert.ok(big >= 0, `no drain of the 8 MiB waiting at the wake-up; drains (length/capacity): ${shown}`);
      assert.equal(drains[big].capacity, 16 * INITIAL_BATCH, shown);
      assert.ok(drains.slice(0, big).every((d) => d.capacity === INITIAL_BATCH), shown);
    }
    // a burst with the timer running, then quiet: within a trim period or two (1 s each) the
    // Buffer's pages past its first 1 MiB are released; they held records, and now read as zeros
    {
      const seen: Seen = { pid: 0, egress: [], ingress: [] };
      const collect = collector(seen);
      let kept: ArrayBufferLike | undefined;
      let longest = 0;
      kernel.bpf.ringbufStart(ObiMap.events, 250, (batch) => {
        if (batch.buffer !== kept) longest = 0;
        kept = batch.buffer;
        longest = Math.max(longest, batch.byteLength);
        collect(batch);
      });
      await pingpong(kernel, seen, 4500, 0);
      const want = expected(4500);
      await waitFor('every burst message read back', () => seen.ingress.join('').length >= want.length, 5_000);
      assert.equal(seen.ingress.join(''), want);
      assert.ok(kept && longest > 2 * INITIAL_BATCH, `the longest drain into the last Buffer was ${longest} bytes`);
      // the longest drain's records filled these bytes (every one decoded above); unreleased, they stay
      const tail = new Uint8Array(kept, INITIAL_BATCH + PAGE, longest - INITIAL_BATCH - PAGE);
      await waitFor('the pages past 1 MiB released', () => tail.every((b) => b === 0), 5_000);
      // the first MiB is kept: the last drain before the quiet is still there
      assert.ok(new Uint8Array(kept, 0, PAGE).some((b) => b !== 0));
      kernel.bpf.ringbufStop();
    }
  } finally {
    kernel.close();
  }
});
