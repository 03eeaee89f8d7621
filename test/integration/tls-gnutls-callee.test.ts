/**
 * GnuTLS's data probes sit on its internal receive (`_gnutls_recv_int`) and on
 * `gnutls_record_send2` where src/discovery/tls-callee.ts finds and verifies them, instead of
 * `gnutls_record_recv`/`gnutls_record_send`, whose first instructions the kernel single-steps.
 * Checked here against the real kernel, Debian's libgnutls.so.30, a real gnutls-serv in echo
 * mode and a real gnutls-cli, both traced: with the entry probes and with the moved probes, the
 * plaintext records captured are the bytes that were sent, one record per message in each
 * direction of each process, and the two placements capture the same records. The session ends
 * with gnutls_bye, whose alert read goes through the internal receive too (a type the probe
 * skips): no record comes of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObiDataFlags, ObiDirection, ObiMap } from '../../src/abi/events.ts';
import { resolveTlsProbes } from '../../src/discovery/tls.ts';
import { decodeBatch } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/pipeline/log.ts';
import { Kernel } from '../../src/pipeline/kernel.ts';
import { preflight } from '../../src/pipeline/preflight.ts';
import { freePort, run, sleep, startProcess, waitFor, waitForPort } from '../helpers/harness.ts';

const LIBGNUTLS = '/usr/lib/x86_64-linux-gnu/libgnutls.so.30';

/** the messages gnutls-cli sends (one stdin write each, under the 4 KiB pipe atomicity) and the server echoes */
const MESSAGES = [4, 17, 300, 1500, 4000].map((n, i) => `#${i}#${String.fromCharCode(97 + i).repeat(n - 4)}\n`);

interface Captured {
  /** `cli>` `cli<` `srv<` `srv>`: process and direction → payload of each record, in order */
  readonly records: Map<string, string[]>;
  /** records whose payload was cut (captured < len) */
  cut: number;
}

async function session(placement: 'entry' | 'callee', certDir: string): Promise<{ captured: Captured; symbols: string[] }> {
  preflight(); // mounts tracefs and bpffs where missing (a fresh boot has neither)
  const kernel = Kernel.load({ captureSize: 8192, ringBufferSize: 1 << 22, wakeupLen: 64, log: createLogger('error', 'text', () => {}) });
  const captured: Captured = { records: new Map(), cut: 0 };
  const pids = new Map<number, string>();
  const stats = { records: 0, malformed: 0, bytesLost: 0 };
  const onBatch = (batch: Buffer): void =>
    decodeBatch(batch, {
      data: (ev, payload) => {
        const who = pids.get(ev.hdrPid);
        if (!who || (ev.flags & ObiDataFlags.OBI_DATA_TLS) === 0) return;
        const key = `${who}${ev.direction === ObiDirection.OBI_DIR_EGRESS ? '>' : '<'}`;
        if (ev.captured < ev.len) captured.cut++;
        captured.records.set(key, [...(captured.records.get(key) ?? []), payload.toString('latin1')]);
      },
      conn: () => {},
      close: () => {},
      proc: () => {},
    }, stats);
  const plan = resolveTlsProbes({ openPath: LIBGNUTLS, candidate: 'gnutls' }, { internalCallees: placement === 'callee' })!;
  assert.deepEqual(plan.missing, []);
  const port = await freePort();
  const srv = startProcess('gnutls-serv', ['--echo', '-p', String(port), '--x509certfile', join(certDir, 'cert.pem'), '--x509keyfile', join(certDir, 'key.pem')]);
  let cli: ReturnType<typeof startProcess> | undefined;
  try {
    for (const p of plan.probes) kernel.bpf.attachUprobe(p.program, { retprobe: p.retprobe, pid: -1, path: LIBGNUTLS, offset: p.offset });
    kernel.bpf.ringbufStart(ObiMap.events, 5, onBatch);
    await waitForPort(port);
    pids.set(srv.pid, 'srv');
    kernel.tracePid(srv.pid, true);
    cli = startProcess('gnutls-cli', ['--x509cafile', join(certDir, 'cert.pem'), '-p', String(port), '127.0.0.1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    pids.set(cli.pid, 'cli');
    kernel.tracePid(cli.pid, true);
    const c = cli;
    await waitFor('handshake', () => c.output().includes('Handshake was completed'), 10_000);
    for (const m of MESSAGES) {
      c.child.stdin!.write(m);
      // the next message is written once this one is back: one record per message
      await waitFor(`echo of ${m.length} bytes`, () => c.output().includes(m), 10_000);
    }
    // stdin closed: gnutls-cli says goodbye (gnutls_bye reads the server's alert) and exits
    c.child.stdin!.end();
    await waitFor('gnutls-cli exit', () => c.child.exitCode !== null, 10_000);
    await sleep(50);
    onBatch(kernel.bpf.ringbufDrain());
  } finally {
    await cli?.kill();
    await srv.kill();
    kernel.bpf.ringbufStop();
    kernel.close();
  }
  assert.equal(stats.malformed, 0);
  return { captured, symbols: [...new Set(plan.probes.filter((p) => p.program !== 'obi_tls_release').map((p) => p.symbol))].sort() };
}

describe('GnuTLS: probes moved to the internal receive and gnutls_record_send2', () => {
  let certDir: string;
  const results = new Map<string, Captured>();

  before(async () => {
    assert.ok(existsSync(LIBGNUTLS), `${LIBGNUTLS} (libgnutls30, installed with gnutls-bin by scripts/install-deps.sh --test)`);
    certDir = mkdtempSync(join(tmpdir(), 'obi-gnutls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  });

  after(() => rmSync(certDir, { recursive: true, force: true }));

  for (const placement of ['entry', 'callee'] as const) {
    test(`${placement} probes: every message once per direction and process, byte for byte`, async () => {
      const { captured, symbols } = await session(placement, certDir);
      assert.deepEqual(symbols, placement === 'entry' ? ['gnutls_record_recv', 'gnutls_record_send'] : ['_gnutls_recv_int', 'gnutls_record_send2']);
      assert.equal(captured.cut, 0);
      assert.deepEqual([...captured.records.keys()].sort(), ['cli<', 'cli>', 'srv<', 'srv>']);
      for (const [key, records] of captured.records) assert.deepEqual(records, MESSAGES, key);
      results.set(placement, captured);
    });
  }

  test('both placements captured the same records', () => {
    assert.equal(results.size, 2, 'both sessions ran');
    assert.deepEqual(results.get('callee')!.records, results.get('entry')!.records);
  });
});
