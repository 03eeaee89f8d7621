/**
 * The kernel's traceparent scan (bpf/probes/propagation.h, prop_traceparent): with propagation on,
 * a traced server's request read takes its trace id and parent from a `traceparent` header, matched
 * case-insensitively after a '\n' wherever it falls in the 8-byte words the scan reads. Checked
 * with the real BPF programs on a real Python server that reads each request on a fresh connection;
 * the requests come from an untraced Python client, the header's line starting at each of the 8
 * byte offsets, in three spellings, and near-misses that must not match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObiCtxFlags, ObiDirection, ObiMap, ObiPropMode } from '../../src/abi/events.ts';
import { decodeBatch } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/pipeline/log.ts';
import { Kernel } from '../../src/pipeline/kernel.ts';
import { preflight } from '../../src/pipeline/preflight.ts';
import { run, startProcess, waitFor } from '../helpers/harness.ts';

// reads one request per connection (up to the blank line), answers 204, closes
const SERVER = `
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', 0)); l.listen(64)
print(l.getsockname()[1], flush=True)
while True:
    c, _ = l.accept()
    got = b''
    while b'\\r\\n\\r\\n' not in got:
        d = c.recv(4096)
        if not d: break
        got += d
    c.sendall(b'HTTP/1.1 204 No Content\\r\\nContent-Length: 0\\r\\n\\r\\n'); c.close()
`;

// sends each request of the JSON list on argv[2] to port argv[1], one connection each, in one write
const CLIENT = `
import json, socket, sys
for r in json.loads(sys.argv[2]):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.sendall(r.encode('latin1'))
    while s.recv(4096): pass
    s.close()
`;

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

interface Case {
  path: string;
  request: string;
  /** the header the kernel must take, or undefined: none */
  want?: { trace: string; parent: string };
}

function request(path: string, pad: number, line: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(pad)}\r\n${line}\r\nAccept: */*\r\n\r\n`;
}

function cases(): Case[] {
  const out: Case[] = [];
  const names = ['traceparent', 'TraceParent', 'TRACEPARENT'];
  // "GET /tp-N-M HTTP/1.1\r\nHost: x\r\nX-Pad: " is 37 bytes: pads 0..7 put the header's '\n' at every offset mod 8
  for (let pad = 0; pad < 8; pad++) {
    for (const [k, name] of names.entries()) {
      const trace = TRACE.slice(0, 30) + String(pad) + String(k);
      out.push({ path: `/tp-${pad}-${k}`, request: request(`/tp-${pad}-${k}`, pad, `${name}: 00-${trace}-${PARENT}-01`), want: { trace, parent: PARENT } });
    }
  }
  const miss = (tag: string, pad: number, line: string): void => void out.push({ path: `/miss-${tag}`, request: request(`/miss-${tag}`, pad, line) });
  miss('colon', 3, `traceparent\x1a 00-${TRACE}-${PARENT}-01`); // ':' is compared exactly, not case-folded
  miss('name', 5, `traceparenx: 00-${TRACE}-${PARENT}-01`);
  miss('prefix', 0, `x-traceparent: 00-${TRACE}-${PARENT}-01`);
  miss('version', 6, `traceparent: 01-${TRACE}-${PARENT}-01`);
  miss('zero', 1, `traceparent: 00-${'0'.repeat(32)}-${PARENT}-01`);
  miss('hex', 2, `traceparent: 00-${TRACE.slice(0, 31)}g-${PARENT}-01`);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('kernel traceparent scan: every byte offset, any letter case; near-misses start a fresh trace', async () => {
  preflight(); // mounts tracefs and bpffs where missing (a fresh boot has neither)
  const kernel = Kernel.load({
    captureSize: 1024,
    ringBufferSize: 1 << 22,
    wakeupLen: 64,
    propagation: { tcp: true, headers: false },
    log: createLogger('error', 'text', () => {}),
  });
  const srv = startProcess('python3', ['-c', SERVER]);
  const reads = new Map<string, { flags: number; trace: string; parent: string }>();
  const stats = { records: 0, malformed: 0, bytesLost: 0 };
  try {
    await waitFor('the server port', () => /^\d+\n/.test(srv.output()), 10_000);
    const port = Number.parseInt(srv.output(), 10);
    kernel.tracePid(srv.pid, true);
    kernel.setPropMode(srv.pid, ObiPropMode.OBI_PROP_ROOT);
    kernel.bpf.ringbufStart(ObiMap.events, 5, (batch) =>
      decodeBatch(batch, {
        data: (ev, payload) => {
          if (ev.hdrPid !== srv.pid || ev.direction !== ObiDirection.OBI_DIR_INGRESS) return;
          const path = /^GET (\S+) /.exec(payload.toString('latin1'))?.[1];
          if (path) reads.set(path, { flags: ev.ctxFlags, trace: hex(ev.traceId), parent: hex(ev.parentId) });
        },
        conn: () => {},
        close: () => {},
        proc: () => {},
      }, stats),
    );
    const all = cases();
    await run('python3', ['-c', CLIENT, String(port), JSON.stringify(all.map((c) => c.request))]);
    await waitFor('every request read', () => all.every((c) => reads.has(c.path)), 10_000);
    assert.equal(stats.malformed, 0);
    for (const c of all) {
      const got = reads.get(c.path)!;
      assert.ok(got.flags & ObiCtxFlags.OBI_CTX_SET, `${c.path}: ids set (flags ${got.flags})`);
      if (c.want) {
        assert.ok(got.flags & ObiCtxFlags.OBI_CTX_HEADER, `${c.path}: taken from the header (flags ${got.flags})`);
        assert.deepEqual({ trace: got.trace, parent: got.parent }, c.want, c.path);
      } else {
        assert.equal(got.flags & ObiCtxFlags.OBI_CTX_HEADER, 0, `${c.path}: no header taken (flags ${got.flags})`);
        assert.equal(got.parent, '0'.repeat(16), `${c.path}: no parent`);
        assert.notEqual(got.trace, TRACE, c.path);
      }
    }
  } finally {
    kernel.bpf.ringbufStop();
    await srv.kill();
    kernel.close();
  }
});
