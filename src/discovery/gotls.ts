/**
 * Where Go's crypto/tls is in a Go executable, and at which file offsets the uprobes of
 * bpf/probes/go_tls.h go. Go links crypto/tls into the program, so the functions are found by
 * name in the executable's symbol table (`.symtab`; a binary built with `-ldflags=-s` has none
 * and is reported as not instrumentable when its `.gopclntab` names crypto/tls). Write is probed at entry only; Read's return side is not a
 * uretprobe (unsafe on Go: goroutine stacks move) but one uprobe on each RET instruction of the
 * function, found by decoding its machine code with iced-x86. Only x86-64 Go >= 1.17 qualifies (the register ABI the programs read); the
 * version comes from the `.go.buildinfo` section (inline since Go 1.18; an older layout stores
 * pointers and is reported as unsupported).
 */
import { createRequire } from 'node:module';
import { readSync } from 'node:fs';
import { MAX_SYMBOL_SCAN_BYTES, findFunctionSymbols, type ElfInfo } from './elf.ts';

/** One uprobe in a Go executable. */
export interface GoTlsProbe {
  readonly symbol: string;
  readonly program: string;
  readonly offset: number;
}

export type GoTlsResolution =
  | { readonly ok: true; readonly version: string; readonly probes: readonly GoTlsProbe[] }
  | { readonly ok: false; readonly version: string | undefined; readonly missing: readonly string[] };

export const GO_TLS_READ = 'crypto/tls.(*Conn).Read';
export const GO_TLS_WRITE = 'crypto/tls.(*Conn).Write';
export const GO_TLS_CLOSE = 'crypto/tls.(*Conn).Close';
export const GO_TLS_RET_PROGRAM = 'obi_go_tls_ret';

/** functions larger than this are not decoded (Read is ~1 KiB) */
const MAX_FUNCTION_BYTES = 64 * 1024;
const EM_X86_64 = 62;
const SHT_SYMTAB = 2;
const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

function readAt(fd: number, pos: number, len: number): Buffer | undefined {
  const buf = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, pos + done);
    if (n === 0) return done > 0 ? buf.subarray(0, done) : undefined;
    done += n;
  }
  return buf;
}

/** Whether the ELF file is an x86-64 one (e_machine). */
function isX8664(fd: number): boolean {
  const h = readAt(fd, 0, 20);
  return !!h && h.length >= 20 && h.readUInt16LE(18) === EM_X86_64;
}

/**
 * The Go version a `.go.buildinfo` section names (`go1.19.8`), or undefined when the section is
 * missing or in the pre-1.18 layout (pointers instead of inline strings).
 */
export function parseBuildInfo(b: Buffer): string | undefined {
  if (b.length < 33 || !b.subarray(0, BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC)) return undefined;
  const flags = b[15];
  if ((flags & 2) === 0) return undefined;
  // varint length, then the bytes
  let len = 0;
  let shift = 0;
  let p = 32;
  for (; p < b.length && shift < 35; p++, shift += 7) {
    len |= (b[p] & 0x7f) << shift;
    if ((b[p] & 0x80) === 0) break;
  }
  p++;
  if (len <= 0 || len > 64 || p + len > b.length) return undefined;
  return b.toString('latin1', p, p + len);
}

/** Whether a Go version string is at least go1.<minor> (devel builds count as new). */
export function goAtLeast(version: string, minor: number): boolean {
  if (version.startsWith('devel')) return true;
  const m = /^go1\.(\d+)/.exec(version);
  return !!m && Number(m[1]) >= minor;
}

interface Iced {
  Decoder: new (bitness: number, data: Uint8Array, options: number) => { ip: bigint; readonly canDecode: boolean; decodeOut(i: unknown): void; free(): void };
  Instruction: new () => { readonly ip: bigint; readonly mnemonic: number; readonly length: number; free(): void };
  DecoderOptions: { None: number };
  Mnemonic: { Ret: number };
}
let iced: Iced | undefined;
/** iced-x86 (WebAssembly) is loaded on the first Go executable, not at start-up */
function loadIced(): Iced {
  iced ??= createRequire(import.meta.url)('iced-x86') as Iced;
  return iced;
}

/** Offsets (from the start of `code`) of the RET instructions of a function's machine code. */
export function findReturns(code: Uint8Array): number[] {
  const x = loadIced();
  const d = new x.Decoder(64, code, x.DecoderOptions.None);
  const ins = new x.Instruction();
  const out: number[] = [];
  try {
    d.ip = 0n;
    while (d.canDecode) {
      d.decodeOut(ins);
      if (ins.mnemonic === x.Mnemonic.Ret) out.push(Number(ins.ip));
    }
  } finally {
    ins.free();
    d.free();
  }
  return out;
}

/**
 * The probes of a Go executable's crypto/tls, or undefined when the file is not a Go program
 * (no `.go.buildinfo` section) or one without crypto/tls. Throws on a read error.
 */
export function resolveGoTls(fd: number, info: ElfInfo): GoTlsResolution | undefined {
  const bi = info.sections.find((s) => s.name === '.go.buildinfo');
  if (!bi) return undefined;
  const version = parseBuildInfo(readAt(fd, bi.offset, Math.min(bi.size, 128)) ?? Buffer.alloc(0));
  if (!version || !goAtLeast(version, 17) || !isX8664(fd)) return { ok: false, version, missing: [`register ABI on x86-64 (Go ${version ?? '< 1.18'})`] };
  if (!info.sections.some((s) => s.type === SHT_SYMTAB)) {
    // stripped: its function names are still in .gopclntab; only a program with crypto/tls is worth reporting
    const pcln = info.sections.find((s) => s.name === '.gopclntab');
    const names = pcln && pcln.size <= MAX_SYMBOL_SCAN_BYTES ? readAt(fd, pcln.offset, pcln.size) : undefined;
    if (!names || names.indexOf(`\0${GO_TLS_READ}\0`, 0, 'latin1') < 0) return undefined;
    return { ok: false, version, missing: ['.symtab (stripped)'] };
  }
  const syms = findFunctionSymbols(fd, info, [GO_TLS_READ, GO_TLS_WRITE, GO_TLS_CLOSE]);
  if (!syms.has(GO_TLS_READ) && !syms.has(GO_TLS_WRITE)) return undefined; // crypto/tls not linked in
  const probes: GoTlsProbe[] = [];
  const missing: string[] = [];
  for (const [symbol, entry, required] of [
    [GO_TLS_READ, 'obi_go_tls_read', true],
    [GO_TLS_WRITE, 'obi_go_tls_write', true],
    [GO_TLS_CLOSE, 'obi_go_tls_close', false],
  ] as const) {
    const sym = syms.get(symbol);
    if (sym?.fileOffset === undefined || (entry === 'obi_go_tls_read' && (sym.size <= 0 || sym.size > MAX_FUNCTION_BYTES))) {
      if (required) missing.push(symbol);
      continue;
    }
    probes.push({ symbol, program: entry, offset: sym.fileOffset });
    if (entry !== 'obi_go_tls_read') continue;
    const code = readAt(fd, sym.fileOffset, sym.size);
    const rets = code && code.length === sym.size ? findReturns(code) : [];
    if (rets.length === 0) {
      missing.push(`${symbol} RET`);
      continue;
    }
    for (const r of rets) probes.push({ symbol, program: GO_TLS_RET_PROGRAM, offset: sym.fileOffset + r });
  }
  // a probe cannot be found for the Close of a program that never closes a TLS connection; it is optional
  return missing.length > 0 ? { ok: false, version, missing } : { ok: true, version, probes };
}
