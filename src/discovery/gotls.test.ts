import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readElfInfo } from './elf.ts';
import { GO_TLS_CLOSE, GO_TLS_READ, GO_TLS_RET_PROGRAM, GO_TLS_WRITE, findReturns, goAtLeast, parseBuildInfo, resolveGoTls } from './gotls.ts';
import { resolveTlsProbes, resolveTlsProbesFd } from './tls.ts';

test('.go.buildinfo: the inline version of Go >= 1.18; the older pointer layout and junk give none', () => {
  const head = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(head);
  head[14] = 8; // pointer size
  head[15] = 2; // inline strings
  const v = Buffer.from('go1.19.8', 'latin1');
  const b = Buffer.concat([head, Buffer.from([v.length]), v, Buffer.from([0x20])]);
  assert.equal(parseBuildInfo(b), 'go1.19.8');
  const old = Buffer.from(b);
  old[15] = 0;
  assert.equal(parseBuildInfo(old), undefined);
  assert.equal(parseBuildInfo(Buffer.alloc(64)), undefined);
  assert.equal(parseBuildInfo(b.subarray(0, 36)), undefined); // the string cut off
  assert.ok(goAtLeast('go1.19.8', 17) && goAtLeast('go1.17', 17) && goAtLeast('go1.22rc1', 17) && goAtLeast('devel +abc', 17));
  assert.ok(!goAtLeast('go1.16.15', 17) && !goAtLeast('gccgo', 17));
});

test('RET instructions by decoding, not by byte value', () => {
  const code = Buffer.from([
    0x48, 0x89, 0xc3, //              mov %rax,%rbx (0xc3 as a ModRM byte)
    0xb8, 0xc3, 0x00, 0x00, 0x00, //  mov $0xc3,%eax
    0xc3, //                          ret                @8
    0x0f, 0x1f, 0x44, 0x00, 0x00, //  nopl 0x0(%rax,%rax,1)
    0xc2, 0x08, 0x00, //              ret $8             @14
    0x49, 0x3b, 0x66, 0x10, //        cmp 0x10(%r14),%rsp
    0xc3, //                          ret                @21
  ]);
  assert.deepEqual(findReturns(code), [8, 14, 21]);
  assert.deepEqual(findReturns(Buffer.alloc(0)), []);
});

test('a Go program built here: Read at entry and on every RET (as go tool objdump lists them), Write and Close at entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'obi-gotls-'));
  try {
    writeFileSync(join(dir, 'main.go'), 'package main\nimport ("crypto/tls"; "os")\nfunc main() { c, err := tls.Dial("tcp", os.Args[1], nil); if err == nil { c.Write([]byte("x")); b := make([]byte, 9); c.Read(b); c.Close() } }\n');
    // the integration tests' build cache (build/test-go/cache): the standard library is compiled once
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: join(dir, 'gopath'), GOCACHE: join(import.meta.dirname, '../../build/test-go/cache'), GOFLAGS: '' };
    execFileSync('go', ['build', '-o', join(dir, 'app'), join(dir, 'main.go')], { env, stdio: 'pipe' });
    execFileSync('go', ['build', '-ldflags=-s', '-o', join(dir, 'stripped'), join(dir, 'main.go')], { env, stdio: 'pipe' });
    writeFileSync(join(dir, 'nt.go'), 'package main\nimport "fmt"\nfunc main() { fmt.Println("no tls") }\n');
    execFileSync('go', ['build', '-o', join(dir, 'notls'), join(dir, 'nt.go')], { env, stdio: 'pipe' });
    execFileSync('go', ['build', '-ldflags=-s', '-o', join(dir, 'notls-stripped'), join(dir, 'nt.go')], { env, stdio: 'pipe' });

    // the reference: RET addresses of Read from the toolchain's disassembler, symbol addresses from go tool nm
    const dump = execFileSync('go', ['tool', 'objdump', '-s', '^crypto/tls\\.\\(\\*Conn\\)\\.Read$', join(dir, 'app')], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
    const rets = [...dump.matchAll(/\s0x([0-9a-f]+)\s+c3\s+RET/g)].map((m) => parseInt(m[1], 16));
    assert.ok(rets.length >= 2, dump.slice(0, 400));
    const nm = execFileSync('go', ['tool', 'nm', join(dir, 'app')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const addr = (name: string): number => parseInt(nm.split('\n').find((l) => l.endsWith(` T ${name}`))!.trim().split(/\s+/)[0], 16);

    const fd = openSync(join(dir, 'app'), 'r');
    try {
      const info = readElfInfo(fd)!;
      const text = info.sections.find((s) => s.name === '.text')!;
      const off = (vaddr: number): number => vaddr - text.addr + text.offset;
      const r = resolveGoTls(fd, info);
      assert.ok(r?.ok, JSON.stringify(r));
      assert.match(r.version, /^go1\.\d+/);
      const by = (program: string) => r.probes.filter((p) => p.program === program).map((p) => [p.symbol, p.offset]);
      assert.deepEqual(by('obi_go_tls_read'), [[GO_TLS_READ, off(addr(GO_TLS_READ))]]);
      assert.deepEqual(by(GO_TLS_RET_PROGRAM), rets.map((a) => [GO_TLS_READ, off(a)]));
      assert.deepEqual(by('obi_go_tls_write'), [[GO_TLS_WRITE, off(addr(GO_TLS_WRITE))]]);
      assert.deepEqual(by('obi_go_tls_close'), [[GO_TLS_CLOSE, off(addr(GO_TLS_CLOSE))]]);
      // discovery.skip_go_specific_tracers: a Go program is then a generic executable
      assert.deepEqual(resolveTlsProbesFd(fd, 'executable', { go: false }), { kind: undefined, probes: [], missing: [] });
    } finally {
      closeSync(fd);
    }
    // through the TLS attach path: kind go, plain uprobes only (never a uretprobe on Go code)
    const plan = resolveTlsProbes({ openPath: join(dir, 'app'), candidate: 'executable' })!;
    assert.equal(plan.kind, 'go');
    assert.ok(plan.probes.length === rets.length + 3 && plan.probes.every((p) => !p.retprobe));
    // stripped: instrumentable in principle, so reported (symbol_not_found), not silently skipped
    assert.deepEqual(resolveTlsProbes({ openPath: join(dir, 'stripped'), candidate: 'executable' }), { kind: 'go', probes: [], missing: ['.symtab (stripped)'] });
    // a Go program without crypto/tls is no TLS candidate at all
    assert.deepEqual(resolveTlsProbes({ openPath: join(dir, 'notls'), candidate: 'executable' }), { kind: undefined, probes: [], missing: [] });
    assert.deepEqual(resolveTlsProbes({ openPath: join(dir, 'notls-stripped'), candidate: 'executable' }), { kind: undefined, probes: [], missing: [] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
