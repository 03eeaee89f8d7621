/**
 * Test helpers: a minimal ELF64 little-endian file builder and a fake /proc tree in a temp dir.
 * Used by the discovery unit tests only.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeSymbol {
  readonly name: string;
  /** STT_* type; 2 = FUNC, 1 = OBJECT */
  readonly type?: number;
  readonly value?: number;
  readonly size?: number;
}

export interface FakeElfSpec {
  /** extra (empty, PROGBITS) section names, e.g. '.gopclntab' */
  readonly sections?: readonly string[];
  /** symbols of a .symtab (with its .strtab) */
  readonly symbols?: readonly FakeSymbol[];
  /** add a PT_INTERP program header (dynamically linked) */
  readonly interp?: boolean;
}

/** Builds a tiny but well-formed ELF64 LE file. */
export function buildElf(spec: FakeElfSpec): Buffer {
  const names = ['', ...(spec.sections ?? []), ...(spec.symbols ? ['.symtab', '.strtab'] : []), '.shstrtab'];
  // .shstrtab content
  let shstr = '\0';
  const nameOff: number[] = [0];
  for (let i = 1; i < names.length; i++) {
    nameOff.push(shstr.length);
    shstr += `${names[i]}\0`;
  }
  // .strtab and .symtab content
  let strtab = '\0';
  const symtab = Buffer.alloc(24 * ((spec.symbols?.length ?? 0) + 1));
  spec.symbols?.forEach((s, i) => {
    const o = 24 * (i + 1);
    symtab.writeUInt32LE(strtab.length, o);
    strtab += `${s.name}\0`;
    symtab[o + 4] = (1 << 4) | (s.type ?? 2); // GLOBAL binding
    symtab.writeBigUInt64LE(BigInt(s.value ?? 0x1000), o + 8);
    symtab.writeBigUInt64LE(BigInt(s.size ?? 16), o + 16);
  });

  const phnum = spec.interp ? 1 : 0;
  const ehdr = 64;
  const phoff = ehdr;
  let off = phoff + 56 * phnum;
  const interpStr = Buffer.from('/lib64/ld-linux-x86-64.so.2\0');
  const interpOff = off;
  if (spec.interp) off += interpStr.length;
  const symOff = off;
  if (spec.symbols) off += symtab.length;
  const strOff = off;
  const strBuf = Buffer.from(strtab, 'latin1');
  if (spec.symbols) off += strBuf.length;
  const shstrOff = off;
  const shstrBuf = Buffer.from(shstr, 'latin1');
  off += shstrBuf.length;
  off = (off + 7) & ~7;
  const shoff = off;
  const total = shoff + 64 * names.length;
  const b = Buffer.alloc(total);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(62, 18); // x86-64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(phnum ? phoff : 0), 32);
  b.writeBigUInt64LE(BigInt(shoff), 40);
  b.writeUInt16LE(ehdr, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(phnum, 56);
  b.writeUInt16LE(64, 58);
  b.writeUInt16LE(names.length, 60);
  b.writeUInt16LE(names.length - 1, 62);
  if (spec.interp) {
    b.writeUInt32LE(3, phoff); // PT_INTERP
    b.writeBigUInt64LE(BigInt(interpOff), phoff + 8);
    b.writeBigUInt64LE(BigInt(interpStr.length), phoff + 32);
    interpStr.copy(b, interpOff);
  }
  if (spec.symbols) {
    symtab.copy(b, symOff);
    strBuf.copy(b, strOff);
  }
  shstrBuf.copy(b, shstrOff);
  for (let i = 1; i < names.length; i++) {
    const o = shoff + 64 * i;
    b.writeUInt32LE(nameOff[i], o);
    const n = names[i];
    let type = 1; // PROGBITS
    let secOff = 0;
    let size = 0;
    let link = 0;
    let entsize = 0;
    if (n === '.symtab') {
      type = 2;
      secOff = symOff;
      size = symtab.length;
      link = i + 1;
      entsize = 24;
    } else if (n === '.strtab') {
      type = 3;
      secOff = strOff;
      size = strBuf.length;
    } else if (n === '.shstrtab') {
      type = 3;
      secOff = shstrOff;
      size = shstrBuf.length;
    }
    b.writeUInt32LE(type, o + 4);
    b.writeBigUInt64LE(BigInt(secOff), o + 24);
    b.writeBigUInt64LE(BigInt(size), o + 32);
    b.writeUInt32LE(link, o + 40);
    b.writeBigUInt64LE(BigInt(entsize), o + 56);
  }
  return b;
}

export interface FakeProcess {
  readonly pid: number;
  readonly ppid?: number;
  readonly comm?: string;
  readonly startTicks?: number;
  /** link target of exe; omit for a kernel thread */
  readonly exe?: string;
  /** write this ELF/text at `exe` (inside the fake root's `files/` dir is up to the caller) */
  readonly argv?: readonly string[];
  readonly fds?: readonly string[];
  readonly netNs?: number;
  /** per-process net/tcp and net/tcp6 texts (the netns it lives in) */
  readonly tcp?: string;
  readonly tcp6?: string;
  readonly maps?: string;
  readonly environ?: Readonly<Record<string, string>>;
}

export const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
export const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** One /proc/net/tcp row; `local` like `0100007F:1F90`. */
export function tcpRow(sl: number, local: string, remote: string, state: string, inode: number): string {
  return `${String(sl).padStart(4)}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

export class FakeProc {
  readonly dir: string;
  readonly root: string;
  readonly files: string;

  constructor(btime = 1_700_000_000) {
    this.dir = mkdtempSync(join(tmpdir(), 'obi-fakeproc-'));
    this.root = join(this.dir, 'proc');
    this.files = join(this.dir, 'files');
    mkdirSync(this.root);
    mkdirSync(this.files);
    mkdirSync(join(this.root, 'net'));
    writeFileSync(join(this.root, 'stat'), `cpu  1 2 3 4\nintr 5\nctxt 6\nbtime ${btime}\nprocesses 7\n`);
    writeFileSync(join(this.root, 'net', 'tcp'), TCP_HEADER);
    writeFileSync(join(this.root, 'net', 'tcp6'), TCP6_HEADER);
  }

  /** Writes a file under files/ and returns its absolute path. */
  file(name: string, content: string | Buffer): string {
    const p = join(this.files, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
    return p;
  }

  add(p: FakeProcess): void {
    const d = join(this.root, String(p.pid));
    mkdirSync(join(d, 'fd'), { recursive: true });
    mkdirSync(join(d, 'ns'));
    mkdirSync(join(d, 'net'));
    const fields = [p.pid, `(${p.comm ?? 'x'})`, 'S', p.ppid ?? 1, p.pid, p.pid, 0, -1, 4194560];
    while (fields.length < 21) fields.push(0);
    fields.push(p.startTicks ?? 0); // field 22
    while (fields.length < 52) fields.push(0);
    writeFileSync(join(d, 'stat'), `${fields.join(' ')}\n`);
    writeFileSync(join(d, 'cmdline'), p.argv ? `${p.argv.join('\0')}\0` : '');
    if (p.exe !== undefined) symlinkSync(p.exe, join(d, 'exe'));
    p.fds?.forEach((target, i) => symlinkSync(target, join(d, 'fd', String(i))));
    if (p.netNs !== undefined) symlinkSync(`net:[${p.netNs}]`, join(d, 'ns', 'net'));
    writeFileSync(join(d, 'net', 'tcp'), p.tcp ?? TCP_HEADER);
    writeFileSync(join(d, 'net', 'tcp6'), p.tcp6 ?? TCP6_HEADER);
    writeFileSync(join(d, 'maps'), p.maps ?? '');
    if (p.environ) {
      writeFileSync(join(d, 'environ'), Object.entries(p.environ).map(([k, v]) => `${k}=${v}\0`).join(''));
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
