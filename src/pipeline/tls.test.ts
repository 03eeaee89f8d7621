import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TlsMapping, TlsResolution } from '../discovery/tls.ts';
import { planProbes, TLS_PROBES } from '../discovery/tls.ts';
import type { Logger } from './log.ts';
import { TlsInstrumenter, type UprobeAttacher } from './tls.ts';

class FakeBpf implements UprobeAttacher {
  next = 0;
  readonly live = new Map<number, { prog: string; path: string; offset: number; retprobe: boolean }>();
  failOn?: string;
  attachUprobe(prog: string, o: { retprobe: boolean; pid: number; path: string; offset: number }): number {
    assert.equal(o.pid, -1, 'attached for every process mapping the file');
    if (prog === this.failOn) throw new Error(`cannot attach ${prog}`);
    this.live.set(this.next, { prog, path: o.path, offset: o.offset, retprobe: o.retprobe });
    return this.next++;
  }
  /** detaches of links not attached (the instrumenter swallows a detach's failure) */
  unknownDetaches = 0;
  detachAsync(link: number): Promise<void> {
    if (!this.live.delete(link)) this.unknownDetaches++;
    return Promise.resolve();
  }
}

const quiet = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  const f = (lvl: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(`${lvl} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: f('DEBUG'), info: f('INFO'), warn: f('WARN'), error: f('ERROR') };
};

const lib = (key: string, path: string, candidate: TlsMapping['candidate']): TlsMapping => ({ key, path, openPath: `/proc/x/map_files/${key}`, candidate });
const LIBSSL = lib('fe:00:1', '/usr/lib/libssl.so.3', 'openssl');
const GNUTLS = lib('fe:00:2', '/usr/lib/libgnutls.so.30', 'gnutls');
const NODE = lib('fe:00:3', '/usr/bin/node', 'executable');
const PYTHON = lib('fe:00:4', '/usr/bin/python3', 'executable');
const STRIPPED = lib('fe:00:5', '/opt/app/libssl.so.1.1', 'openssl');

function resolver(calls: string[]): (m: TlsMapping) => TlsResolution | undefined {
  const full = (kind: 'openssl' | 'gnutls') => planProbes(kind, new Map(TLS_PROBES[kind].map((s, i) => [s.symbol, 0x100 * (i + 1)])));
  return (m) => {
    calls.push(m.key);
    if (m === LIBSSL || m.key === LIBSSL.key) return full('openssl');
    if (m.key === GNUTLS.key) return full('gnutls');
    if (m.key === NODE.key) return full('openssl');
    if (m.key === STRIPPED.key) return planProbes('openssl', new Map());
    return { kind: undefined, probes: [], missing: [] };
  };
}

function setup(maps: Map<number, TlsMapping[]>) {
  const bpf = new FakeBpf();
  const log = quiet();
  const errors: string[] = [];
  const resolved: string[] = [];
  const tls = new TlsInstrumenter({
    bpf,
    log,
    recheckMs: 0,
    followUpMs: [],
    lingerMs: 0,
    onError: (name, type) => void errors.push(`${name}:${type}`),
    findMappings: (pid) => maps.get(pid) ?? [],
    resolve: resolver(resolved),
  });
  return { bpf, log, errors, resolved, tls };
}

test('one attachment per file, shared by its users, detached after the last one', () => {
  const maps = new Map([[10, [PYTHON, LIBSSL]], [11, [PYTHON, LIBSSL]], [20, [NODE]]]);
  const { bpf, tls, resolved, errors } = setup(maps);
  tls.instrument(10, 'python');
  tls.instrument(11, 'python');
  tls.instrument(20, 'node');
  assert.deepEqual(resolved, [PYTHON.key, LIBSSL.key, NODE.key], 'each file resolved once');
  assert.equal(bpf.live.size, 20);
  assert.deepEqual(tls.libraries().map((l) => [l.path, l.kind, l.links, l.users]), [
    ['/usr/lib/libssl.so.3', 'openssl', 10, [10, 11]],
    ['/usr/bin/node', 'openssl', 10, [20]],
  ]);
  const onLibssl = [...bpf.live.values()].filter((l) => l.path === LIBSSL.openPath);
  assert.equal(onLibssl.filter((l) => l.retprobe).length, 4);
  assert.ok(onLibssl.filter((l) => l.retprobe).every((l) => l.prog === 'obi_tls_ret'));
  tls.release(10);
  assert.equal(bpf.live.size, 20);
  tls.release(11);
  assert.equal(bpf.live.size, 10);
  assert.deepEqual(tls.libraries().map((l) => l.path), ['/usr/bin/node']);
  tls.release(11); // twice: no-op
  tls.instrument(10, 'python'); // a new user attaches again
  assert.equal(bpf.live.size, 20);
  assert.deepEqual(errors, [], 'an executable without TLS code is no error');
  tls.close();
  assert.equal(bpf.live.size, 0);
  assert.deepEqual(tls.libraries(), []);
});

test('dlopen and dlclose are followed by the re-check; a process that is gone keeps its files until released', () => {
  const maps = new Map<number, TlsMapping[]>([[10, [PYTHON]]]);
  const { bpf, tls } = setup(maps);
  tls.instrument(10, 'python');
  assert.equal(bpf.live.size, 0);
  maps.set(10, [PYTHON, GNUTLS]);
  tls.recheck();
  assert.deepEqual(tls.libraries().map((l) => [l.kind, l.users]), [['gnutls', [10]]]);
  assert.equal(bpf.live.size, 6);
  maps.set(10, [PYTHON]);
  tls.recheck();
  assert.equal(bpf.live.size, 0, 'unmapped: detached');
  assert.equal(bpf.unknownDetaches, 0);
  maps.set(10, [PYTHON, GNUTLS]);
  tls.recheck();
  maps.delete(10); // the process died; its exit event has not been handled yet
  tls.recheck();
  assert.equal(bpf.live.size, 6);
  tls.release(10);
  assert.equal(bpf.live.size, 0);
});

test('exec replaces the image: the old files are released, the new ones attached', () => {
  const maps = new Map<number, TlsMapping[]>([[10, [NODE]]]);
  const { bpf, tls } = setup(maps);
  tls.instrument(10, 'node');
  assert.equal(bpf.live.size, 10);
  maps.set(10, [PYTHON, LIBSSL]);
  tls.instrument(10, 'node');
  assert.deepEqual(tls.libraries().map((l) => l.path), ['/usr/lib/libssl.so.3']);
  assert.equal(bpf.live.size, 10);
});

test('a library without symbols is an instrumentation error, reported once per process', () => {
  const maps = new Map([[10, [STRIPPED]], [11, [STRIPPED]]]);
  const { bpf, tls, errors, log, resolved } = setup(maps);
  tls.instrument(10, 'app');
  tls.recheck();
  tls.recheck();
  tls.instrument(11, 'other');
  assert.deepEqual(errors, ['app:symbol_not_found', 'other:symbol_not_found']);
  assert.deepEqual(resolved, [STRIPPED.key], 'not resolved again');
  assert.equal(bpf.live.size, 0);
  assert.equal(log.lines.filter((l) => l.startsWith('WARN TLS library not instrumented')).length, 2);
  assert.match(log.lines.find((l) => l.startsWith('WARN'))!, /missing SSL_read, SSL_write/);
  assert.deepEqual(tls.unusable().map((u) => u.reason), ['symbol_not_found']);
});

test('an attach failure rolls back the links already made and is reported', () => {
  const maps = new Map([[10, [LIBSSL]]]);
  const { bpf, tls, errors } = setup(maps);
  bpf.failOn = 'obi_ssl_write_ex';
  tls.instrument(10, 'nginx');
  assert.equal(bpf.live.size, 0);
  assert.deepEqual(errors, ['nginx:attaching_uprobe']);
  assert.deepEqual(tls.libraries(), []);
});

test('an unreadable file is an inspection error of a live process, and is tried again', () => {
  const bpf = new FakeBpf();
  const errors: string[] = [];
  let readable = false;
  let alive = true;
  const tls = new TlsInstrumenter({
    bpf,
    log: quiet(),
    recheckMs: 0,
    followUpMs: [],
    onError: (n, t) => void errors.push(`${n}:${t}`),
    findMappings: (pid) => {
      if (pid === 1) return [LIBSSL];
      const r = alive ? [LIBSSL] : [];
      alive = false; // pid 2: its maps are read once, then it is gone
      return r;
    },
    resolve: (m) => (readable ? resolver([])(m) : undefined),
  });
  tls.instrument(1, 'x');
  tls.recheck();
  assert.deepEqual(errors, ['x:inspection_failed']);
  // a process that exits between reading its maps and opening the file: no error, and the
  // library is not written off for the others
  tls.instrument(2, 'short-lived');
  assert.deepEqual(errors, ['x:inspection_failed']);
  readable = true;
  tls.recheck();
  assert.equal(bpf.live.size, 10);
  assert.deepEqual(tls.libraries()[0].users, [1]);
});

test('follow-up re-checks find libraries the loader maps after exec', async () => {
  const maps = new Map<number, TlsMapping[]>([[10, []]]);
  const bpf = new FakeBpf();
  const tls = new TlsInstrumenter({ bpf, log: quiet(), recheckMs: 0, followUpMs: [5], findMappings: (pid) => maps.get(pid) ?? [], resolve: resolver([]) });
  tls.instrument(10, 'curl');
  maps.set(10, [LIBSSL]);
  assert.equal(bpf.live.size, 0);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(bpf.live.size, 10);
  tls.close();
  assert.equal(bpf.live.size, 0);
});
