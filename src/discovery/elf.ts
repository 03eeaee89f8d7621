/**
 * Just enough ELF reading for language detection: section names, whether the file asks for
 * a program interpreter (dynamically linked), and a bounded scan of defined function symbols
 * (`rust_panic`, `JVM_*`, `graal_*`). Reads headers and the needed tables with positioned
 * reads; never maps or loads the whole file.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_INTERP = 3;
const STT_FUNC = 2;

/** Symbol tables (plus their string tables) larger than this are not scanned. */
export const MAX_SYMBOL_SCAN_BYTES = 32 * 1024 * 1024;
const MAX_SECTIONS = 65535;

export interface ElfSection {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
  /** virtual address when loaded (sh_addr); 0 for sections that are not loaded */
  readonly addr: number;
}

export interface ElfInfo {
  readonly is64: boolean;
  readonly littleEndian: boolean;
  /** e_machine (62: x86-64, 183: AArch64) */
  readonly machine: number;
  /** has a PT_INTERP program header (dynamically linked executable) */
  readonly hasInterp: boolean;
  readonly sections: readonly ElfSection[];
}

/** What a symbol scan found. */
export type SymbolHint = 'rust' | 'java' | undefined;

/** Upper bound of one read (headers, one table); corrupt headers ask for more. */
const MAX_READ = 64 * 1024 * 1024;

function readAt(fd: number, pos: number, len: number): Buffer | undefined {
  if (!Number.isSafeInteger(pos) || pos < 0 || !Number.isSafeInteger(len) || len < 0 || len > MAX_READ) return undefined;
  if (!Number.isSafeInteger(pos + len)) return undefined;
  const buf = Buffer.allocUnsafe(len);
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, pos + done);
    if (n === 0) return undefined;
    done += n;
  }
  return buf;
}

class Reader {
  readonly dv: DataView;
  readonly le: boolean;
  constructor(buf: Buffer, le: boolean) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.le = le;
  }
  u16(o: number): number {
    return this.dv.getUint16(o, this.le);
  }
  u32(o: number): number {
    return this.dv.getUint32(o, this.le);
  }
  /** 64-bit field as a number; offsets and sizes of real files fit in 2^53 */
  u64(o: number): number {
    return Number(this.dv.getBigUint64(o, this.le));
  }
}

/** Parses the ELF header, program headers (for PT_INTERP) and section headers of an open file. */
export function readElfInfo(fd: number): ElfInfo | undefined {
  const ident = readAt(fd, 0, 64);
  if (!ident || ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) return undefined;
  const is64 = ident[4] === 2;
  if (!is64 && ident[4] !== 1) return undefined;
  const le = ident[5] === 1;
  if (!le && ident[5] !== 2) return undefined;
  const h = new Reader(ident, le);
  const machine = h.u16(18);
  const phoff = is64 ? h.u64(32) : h.u32(28);
  const shoff = is64 ? h.u64(40) : h.u32(32);
  const phentsize = h.u16(is64 ? 54 : 42);
  let phnum = h.u16(is64 ? 56 : 44);
  const shentsize = h.u16(is64 ? 58 : 46);
  let shnum = h.u16(is64 ? 60 : 48);
  let shstrndx = h.u16(is64 ? 62 : 50);

  const shdrSize = is64 ? 64 : 40;
  let sec0: Reader | undefined;
  if (shoff !== 0 && shentsize >= shdrSize) {
    const b = readAt(fd, shoff, shdrSize);
    if (b) sec0 = new Reader(b, le);
  }
  // Extended numbering: the real counts live in section header 0.
  if (sec0 && shnum === 0) shnum = is64 ? sec0.u64(32) : sec0.u32(20);
  if (sec0 && shstrndx === 0xffff) shstrndx = sec0.u32(is64 ? 40 : 24);
  if (sec0 && phnum === 0xffff) phnum = sec0.u32(is64 ? 44 : 28);

  let hasInterp = false;
  const phdrSize = is64 ? 56 : 32;
  if (phoff !== 0 && phentsize >= phdrSize && phnum > 0 && phnum <= MAX_SECTIONS) {
    const b = readAt(fd, phoff, phentsize * phnum);
    if (b) {
      const r = new Reader(b, le);
      for (let i = 0; i < phnum; i++) {
        if (r.u32(i * phentsize) === PT_INTERP) {
          hasInterp = true;
          break;
        }
      }
    }
  }

  const sections: ElfSection[] = [];
  if (shoff === 0 || shentsize < shdrSize || shnum === 0 || shnum > MAX_SECTIONS) {
    return { is64, littleEndian: le, machine, hasInterp, sections };
  }
  const table = readAt(fd, shoff, shentsize * shnum);
  if (!table) return { is64, littleEndian: le, machine, hasInterp, sections };
  const r = new Reader(table, le);
  const raw: { nameOff: number; type: number; offset: number; size: number; link: number; entsize: number; addr: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = i * shentsize;
    raw.push(
      is64
        ? { nameOff: r.u32(o), type: r.u32(o + 4), addr: r.u64(o + 16), offset: r.u64(o + 24), size: r.u64(o + 32), link: r.u32(o + 40), entsize: r.u64(o + 56) }
        : { nameOff: r.u32(o), type: r.u32(o + 4), addr: r.u32(o + 12), offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24), entsize: r.u32(o + 36) },
    );
  }
  let names: Buffer | undefined;
  const strSec = raw[shstrndx];
  if (strSec && strSec.size > 0 && strSec.size <= 1 << 20) names = readAt(fd, strSec.offset, strSec.size);
  for (const s of raw) {
    let name = '';
    if (names && s.nameOff < names.length) {
      const end = names.indexOf(0, s.nameOff);
      name = names.toString('latin1', s.nameOff, end < 0 ? names.length : end);
    }
    sections.push({ name, type: s.type, offset: s.offset, size: s.size, link: s.link, entsize: s.entsize, addr: s.addr });
  }
  return { is64, littleEndian: le, machine, hasInterp, sections };
}

const RUST_PANIC = Buffer.from('rust_panic', 'latin1');
const JVM_ = Buffer.from('JVM_', 'latin1');
const GRAAL_ = Buffer.from('graal_', 'latin1');

function startsWithAt(buf: Buffer, off: number, prefix: Buffer): boolean {
  if (off + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[off + i] !== prefix[i]) return false;
  return true;
}

/**
 * Scans `.symtab` and `.dynsym` for defined function symbols (STT_FUNC, value ≠ 0, size ≠ 0)
 * whose name contains `rust_panic` (→ rust) or starts with `JVM_` / `graal_` (→ java).
 * The first defined symbol that matches decides, in table order (OBI ignores java hints after
 * a Rust one, so the two orders agree).
 * Tables above MAX_SYMBOL_SCAN_BYTES are skipped; a string table without any of the markers is
 * rejected with one `indexOf` and its symbols are never decoded.
 */
export function scanSymbols(fd: number, info: ElfInfo): SymbolHint {
  for (const sec of info.sections) {
    if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) continue;
    const strSec = info.sections[sec.link];
    if (!strSec || sec.size === 0 || strSec.size === 0) continue;
    if (sec.size + strSec.size > MAX_SYMBOL_SCAN_BYTES) continue;
    const strs = readAt(fd, strSec.offset, strSec.size);
    if (!strs) continue;

    // Positions of `rust_panic` with the start of the string holding each.
    const rust: number[] = [];
    for (let p = strs.indexOf(RUST_PANIC); p >= 0; p = strs.indexOf(RUST_PANIC, p + 1)) {
      const start = strs.lastIndexOf(0, p) + 1;
      rust.push(start, p);
    }
    const maybeJava = strs.indexOf(JVM_) >= 0 || strs.indexOf(GRAAL_) >= 0;
    if (rust.length === 0 && !maybeJava) continue;

    const minEnt = info.is64 ? 24 : 16;
    const entsize = sec.entsize || minEnt;
    if (entsize < minEnt) continue;
    const symBuf = readAt(fd, sec.offset, sec.size);
    if (!symBuf) continue;
    const r = new Reader(symBuf, info.littleEndian);
    const count = Math.floor(sec.size / entsize);
    for (let i = 1; i < count; i++) {
      const o = i * entsize;
      const nameOff = r.u32(o);
      let type: number;
      let value: number;
      let size: number;
      if (info.is64) {
        type = symBuf[o + 4] & 0xf;
        value = r.u64(o + 8);
        size = r.u64(o + 16);
      } else {
        value = r.u32(o + 4);
        size = r.u32(o + 8);
        type = symBuf[o + 12] & 0xf;
      }
      if (type !== STT_FUNC || value === 0 || size === 0 || nameOff >= strs.length) continue;
      if (maybeJava && (startsWithAt(strs, nameOff, JVM_) || startsWithAt(strs, nameOff, GRAAL_))) return 'java';
      for (let k = 0; k < rust.length; k += 2) {
        if (nameOff >= rust[k] && nameOff <= rust[k + 1]) return 'rust';
      }
    }
  }
  return undefined;
}

const SHT_NOBITS = 8;

/** A defined function symbol found by name. */
export interface ElfSymbol {
  readonly name: string;
  /** st_value: the virtual address */
  readonly value: number;
  readonly size: number;
  /** where the code is in the file (what a uprobe is attached at); undefined if no section holds it */
  readonly fileOffset: number | undefined;
  /** `.dynsym` or `.symtab` */
  readonly table: string;
}

/** File offset of a virtual address, through the loaded section that holds it. */
export function fileOffsetOf(info: ElfInfo, vaddr: number): number | undefined {
  for (const s of info.sections) {
    if (s.addr === 0 || s.type === SHT_NOBITS || s.size === 0) continue;
    if (vaddr >= s.addr && vaddr < s.addr + s.size) return vaddr - s.addr + s.offset;
  }
  return undefined;
}

/**
 * Finds defined function symbols (STT_FUNC, value ≠ 0; an IFUNC's value is its resolver, not code to probe) by exact name: `.dynsym` first,
 * then `.symtab` for the names still missing (a stripped binary has no `.symtab`; a static
 * copy of a library, like OpenSSL inside `node`, may export only some names). The string table
 * is searched for each name first, so a table without any of them costs one `indexOf` per name
 * and its symbols are never decoded. Tables above MAX_SYMBOL_SCAN_BYTES are skipped.
 */
export function findFunctionSymbols(fd: number, info: ElfInfo, names: readonly string[]): Map<string, ElfSymbol> {
  const found = new Map<string, ElfSymbol>();
  const order = [SHT_DYNSYM, SHT_SYMTAB];
  for (const wanted of order) {
    for (const sec of info.sections) {
      if (sec.type !== wanted) continue;
      const missing = names.filter((n) => !found.has(n));
      if (missing.length === 0) return found;
      const strSec = info.sections[sec.link];
      if (!strSec || sec.size === 0 || strSec.size === 0) continue;
      if (sec.size + strSec.size > MAX_SYMBOL_SCAN_BYTES) continue;
      const strs = readAt(fd, strSec.offset, strSec.size);
      if (!strs) continue;
      // string-table offsets of each wanted name (a name may be stored more than once)
      const byOff = new Map<number, string>();
      for (const n of missing) {
        const needle = Buffer.from(`\0${n}\0`, 'latin1');
        for (let p = strs.indexOf(needle); p >= 0; p = strs.indexOf(needle, p + 1)) byOff.set(p + 1, n);
      }
      if (byOff.size === 0) continue;
      const minEnt = info.is64 ? 24 : 16;
      const entsize = sec.entsize || minEnt;
      if (entsize < minEnt) continue;
      const symBuf = readAt(fd, sec.offset, sec.size);
      if (!symBuf) continue;
      const r = new Reader(symBuf, info.littleEndian);
      const count = Math.floor(sec.size / entsize);
      for (let i = 1; i < count; i++) {
        const o = i * entsize;
        const name = byOff.get(r.u32(o));
        if (name === undefined || found.has(name)) continue;
        let type: number;
        let value: number;
        let size: number;
        let shndx: number;
        if (info.is64) {
          type = symBuf[o + 4] & 0xf;
          shndx = r.u16(o + 6);
          value = r.u64(o + 8);
          size = r.u64(o + 16);
        } else {
          value = r.u32(o + 4);
          size = r.u32(o + 8);
          type = symBuf[o + 12] & 0xf;
          shndx = r.u16(o + 14);
        }
        if (type !== STT_FUNC || value === 0 || shndx === 0) continue;
        found.set(name, { name, value, size, fileOffset: fileOffsetOf(info, value), table: sec.name });
      }
    }
  }
  return found;
}

const SHT_RELA = 4;
const R_X86_64_JUMP_SLOT = 7;
/** .rela.plt sections larger than this are not read (a large library has ~1,000 entries: 24 KB) */
const MAX_RELA_BYTES = 4 * 1024 * 1024;

/**
 * The function an x86-64 PLT stub at `vaddr` jumps to, by name: the stub is `jmp *slot(%rip)`
 * (`ff 25`, optionally after `endbr64` and a `bnd` prefix, as in `.plt.sec`), and the slot's
 * R_X86_64_JUMP_SLOT relocation names the symbol the dynamic linker puts there. Undefined for
 * anything else. 64-bit little-endian files only.
 */
export function pltSymbol(fd: number, info: ElfInfo, vaddr: number): string | undefined {
  if (!info.is64 || !info.littleEndian) return undefined;
  const at = fileOffsetOf(info, vaddr);
  if (at === undefined) return undefined;
  const code = readAt(fd, at, 11);
  if (!code) return undefined;
  let i = 0;
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) i = 4;
  if (code[i] === 0xf2) i++;
  if (i + 6 > code.length || code[i] !== 0xff || code[i + 1] !== 0x25) return undefined;
  const slot = vaddr + i + 6 + code.readInt32LE(i + 2);
  for (const rela of info.sections) {
    if (rela.type !== SHT_RELA || rela.size === 0 || rela.size > MAX_RELA_BYTES) continue;
    const syms = info.sections[rela.link];
    const strs = syms ? info.sections[syms.link] : undefined;
    if (!syms || !strs || syms.type !== SHT_DYNSYM) continue;
    const buf = readAt(fd, rela.offset, rela.size);
    if (!buf) continue;
    for (let o = 0; o + 24 <= buf.length; o += 24) {
      if (Number(buf.readBigUInt64LE(o)) !== slot) continue;
      const infoLo = buf.readUInt32LE(o + 8);
      const symIndex = buf.readUInt32LE(o + 12);
      if (infoLo !== R_X86_64_JUMP_SLOT || symIndex === 0) return undefined;
      const sym = readAt(fd, syms.offset + symIndex * (syms.entsize || 24), 4);
      if (!sym) return undefined;
      const stName = sym.readUInt32LE(0);
      if (stName >= strs.size) return undefined;
      const name = readAt(fd, strs.offset + stName, Math.min(256, strs.size - stName));
      if (!name) return undefined;
      const end = name.indexOf(0);
      return end > 0 ? name.toString('latin1', 0, end) : undefined;
    }
  }
  return undefined;
}

/** Opens `path`, runs `fn` on the descriptor, closes it; undefined if it cannot be opened. */
export function withFile<T>(path: string, fn: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return fn(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
