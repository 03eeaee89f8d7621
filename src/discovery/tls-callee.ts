/**
 * Moves OpenSSL's data probes from the public entry points to the internal function they
 * all call, where the first instruction is one the kernel emulates.
 *
 * `SSL_read`, `SSL_read_ex`, `SSL_write` and `SSL_write_ex` of OpenSSL 1.1.1 and 3.x begin
 * with `sub $imm,%rsp`, which the x86 uprobe code cannot emulate: every hit single-steps the
 * copied instruction, which costs more than the rest of the probe together (see
 * docs/devdocs/kernel.md, "Uprobe placement"). Both read entry points call one internal
 * function, `ssl_read_internal(s, buf, num, &readbytes)`, and both write entry points call
 * `ssl_write_internal(s, buf, num, &written)`; these have exactly the arguments and return
 * convention of `SSL_read_ex`/`SSL_write_ex`, and in the builds we know they begin with
 * `push %r13`/`push %r14`, which the kernel emulates. One probe there sees every call of
 * both entry points, once.
 *
 * The internal functions are not exported, so they are found by decoding the entry points. A
 * target is accepted only when `SSL_*_ex` calls it first thing with its arguments untouched (an
 * optional `endbr64`, one stack adjustment, `call rel32`: nothing can have changed an argument
 * register), `SSL_read`/`SSL_write` call it too (a `call rel32` to the same address in their
 * first bytes), it lies in the same section, and its first instruction is a register `push`.
 * Anything else (another build's layout, a tail call, a clone with other arguments, a 32-bit
 * or non-x86 file) keeps the entry probes.
 *
 * GnuTLS (3.7 in Debian 12) the same way: `gnutls_record_recv` begins with `sub $8,%rsp` and
 * tail-calls (`jmp`) the internal `_gnutls_recv_int(session, type, data, size, seq, ms)` with
 * type 23 (application data), as `gnutls_record_recv_seq` does; `_gnutls_recv_int` begins with
 * `push %r15`. Its other callers read alerts, ChangeCipherSpec and heartbeats (other types), which
 * the probe's program tells apart (bpf/probes/ssl.h). `gnutls_record_send` is `xor %r8d,%r8d;
 * xor %ecx,%ecx; jmp gnutls_record_send2` (through the PLT: pad 0, flags 0), which is exported and
 * begins with `push %r15`, so the data-sending probe goes on `gnutls_record_send2`. Both are
 * accepted only when the code is exactly that shape (see findGnutlsCallees).
 */
import { readSync } from 'node:fs';
import { fileOffsetOf, pltSymbol, type ElfInfo, type ElfSymbol } from './elf.ts';

/** How far into an entry point its call to the internal function may be (SSL_read: 0x1e in Debian's 3.0) */
const SCAN_BYTES = 96;

/** One relocated probe: the internal function's file offset, and what it replaces. */
export interface InternalCallee {
  readonly library: 'openssl' | 'gnutls';
  /** `SSL_read`+`SSL_read_ex`, `gnutls_record_recv` → read; `SSL_write`+`SSL_write_ex`, `gnutls_record_send` → write */
  readonly op: 'read' | 'write';
  /** file offset of the internal function (where the probe goes) */
  readonly fileOffset: number;
  /** virtual address, for logs */
  readonly vaddr: number;
  /** the public symbols whose probes it replaces */
  readonly replaces: readonly string[];
}

function readBytes(fd: number, offset: number, length: number): Buffer | undefined {
  const b = Buffer.alloc(length);
  try {
    const n = readSync(fd, b, 0, length, offset);
    return n === length ? b : n > 0 ? b.subarray(0, n) : undefined;
  } catch {
    return undefined;
  }
}

/** the length of a `push %reg` / `push %r8..%r15` at `i`, else 0 */
function pushLength(code: Buffer, i: number): number {
  if (i < code.length && code[i] >= 0x50 && code[i] <= 0x57) return 1;
  return i + 1 < code.length && code[i] === 0x41 && code[i + 1] >= 0x50 && code[i + 1] <= 0x57 ? 2 : 0;
}

/**
 * The target of the call an `_ex` entry point makes with its arguments untouched: the function
 * must begin with an optional `endbr64`, then a stack adjustment that touches no argument
 * register (`sub $imm8,%rsp` or one `push`), then `call rel32`. Then %rdi, %rsi, %rdx and %rcx
 * reach the callee exactly as the caller passed them, so the callee sees `SSL_*_ex`'s arguments.
 */
function passThroughCall(fd: number, sym: ElfSymbol): number | undefined {
  if (sym.fileOffset === undefined) return undefined;
  const code = readBytes(fd, sym.fileOffset, 16);
  if (!code) return undefined;
  let i = 0;
  if (code.length >= 4 && code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) i = 4;
  if (i + 4 <= code.length && code[i] === 0x48 && code[i + 1] === 0x83 && code[i + 2] === 0xec) i += 4;
  else i += pushLength(code, i);
  if (i + 5 > code.length || code[i] !== 0xe8) return undefined;
  return sym.value + i + 5 + code.readInt32LE(i + 1);
}

/** whether some `call rel32` (opcode E8) in the first SCAN_BYTES of `sym` goes to `target` */
function callsTarget(fd: number, sym: ElfSymbol, target: number): boolean {
  if (sym.fileOffset === undefined) return false;
  const len = Math.min(SCAN_BYTES, sym.size > 0 ? sym.size : SCAN_BYTES);
  const code = readBytes(fd, sym.fileOffset, len);
  if (!code) return false;
  for (let i = 0; i + 5 <= code.length; i++) {
    if (code[i] === 0xe8 && sym.value + i + 5 + code.readInt32LE(i + 1) === target) return true;
  }
  return false;
}

/** `push %reg` (50+r) or `push %r8..%r15` (41 50+r): emulated by the x86 uprobe code */
export function startsWithPush(code: Buffer): boolean {
  return pushLength(code, 0) > 0;
}

/** the executable section that holds `vaddr`, as [start, end) */
function sectionOf(info: ElfInfo, vaddr: number): readonly [number, number] | undefined {
  for (const s of info.sections) {
    if (s.addr !== 0 && s.size > 0 && vaddr >= s.addr && vaddr < s.addr + s.size) return [s.addr, s.addr + s.size];
  }
  return undefined;
}

function findCallee(fd: number, info: ElfInfo, a: ElfSymbol | undefined, b: ElfSymbol | undefined, op: InternalCallee['op']): InternalCallee | undefined {
  if (!a || !b) return undefined;
  const vaddr = passThroughCall(fd, b);
  if (vaddr === undefined || !callsTarget(fd, a, vaddr)) return undefined;
  const home = sectionOf(info, a.value);
  if (!home || vaddr < home[0] || vaddr >= home[1]) return undefined;
  const fileOffset = fileOffsetOf(info, vaddr);
  if (fileOffset === undefined) return undefined;
  const head = readBytes(fd, fileOffset, 2);
  if (!head || !startsWithPush(head)) return undefined;
  return { library: 'openssl', op, fileOffset, vaddr, replaces: [a.name, b.name] };
}

/**
 * The internal read and write functions of an OpenSSL file, each only where it is found and
 * verified as the module comment says. x86-64 only (the instruction test is x86's).
 */
export function findOpensslCallees(fd: number, info: ElfInfo, syms: ReadonlyMap<string, ElfSymbol>): InternalCallee[] {
  if (!info.is64 || !info.littleEndian || info.machine !== EM_X86_64) return [];
  const out: InternalCallee[] = [];
  const read = findCallee(fd, info, syms.get('SSL_read'), syms.get('SSL_read_ex'), 'read');
  if (read) out.push(read);
  const write = findCallee(fd, info, syms.get('SSL_write'), syms.get('SSL_write_ex'), 'write');
  if (write) out.push(write);
  return out;
}

function bytesAt(code: Buffer, i: number, want: readonly number[]): boolean {
  if (i + want.length > code.length) return false;
  for (let k = 0; k < want.length; k++) if (code[i + k] !== want[k]) return false;
  return true;
}

/** `mov %rsi,%rdx`: the caller's buffer becomes the callee's third argument */
const MOV_RSI_RDX = [0x48, 0x89, 0xf2];
/** `mov $0x17,%esi`: the record type, application data (23) */
const MOV_ESI_APPDATA = [0xbe, 0x17, 0x00, 0x00, 0x00];

/**
 * The target of the tail call (`jmp rel32` or `rel8`) in `sym`'s first bytes that comes after both a
 * `mov %rsi,%rdx` and a `mov $0x17,%esi`: `_gnutls_recv_int(session, 23, data, ...)`.
 */
function recvTailCall(fd: number, sym: ElfSymbol | undefined): number | undefined {
  if (sym?.fileOffset === undefined) return undefined;
  const code = readBytes(fd, sym.fileOffset, Math.min(SCAN_BYTES * 2, sym.size > 0 ? sym.size : SCAN_BYTES * 2));
  if (!code) return undefined;
  let data = false;
  let type = false;
  for (let i = 0; i + 2 <= code.length; i++) {
    if (bytesAt(code, i, MOV_RSI_RDX)) data = true;
    else if (bytesAt(code, i, MOV_ESI_APPDATA)) type = true;
    else if (!data || !type) continue;
    else if (code[i] === 0xe9 && i + 5 <= code.length) return sym.value + i + 5 + code.readInt32LE(i + 1);
    else if (code[i] === 0xeb) return sym.value + i + 2 + code.readInt8(i + 1);
  }
  return undefined;
}

/** a function that starts with a register push, in the section that holds `near` */
function pushCallee(fd: number, info: ElfInfo, vaddr: number, near: number): number | undefined {
  const home = sectionOf(info, near);
  if (!home || vaddr < home[0] || vaddr >= home[1]) return undefined;
  const fileOffset = fileOffsetOf(info, vaddr);
  if (fileOffset === undefined) return undefined;
  const head = readBytes(fd, fileOffset, 2);
  return head && startsWithPush(head) ? fileOffset : undefined;
}

/**
 * `gnutls_record_send` as `[endbr64] xor %r8d,%r8d; xor %ecx,%ecx; jmp X` (either order of the
 * two), where X is `gnutls_record_send2` or its PLT stub: the address of `gnutls_record_send2`.
 */
function sendForwardsToSend2(fd: number, info: ElfInfo, send: ElfSymbol, send2: ElfSymbol): boolean {
  if (send.fileOffset === undefined) return false;
  const code = readBytes(fd, send.fileOffset, 16);
  if (!code) return false;
  let i = bytesAt(code, 0, [0xf3, 0x0f, 0x1e, 0xfa]) ? 4 : 0;
  const r8 = [0x45, 0x31, 0xc0];
  const ecx = [0x31, 0xc9];
  if (bytesAt(code, i, r8) && bytesAt(code, i + 3, ecx)) i += 5;
  else if (bytesAt(code, i, ecx) && bytesAt(code, i + 2, r8)) i += 5;
  else return false;
  if (code[i] !== 0xe9 || i + 5 > code.length) return false;
  const target = send.value + i + 5 + code.readInt32LE(i + 1);
  return target === send2.value || pltSymbol(fd, info, target) === send2.name;
}

/**
 * GnuTLS's internal receive and `gnutls_record_send2`, each only where found and verified as
 * the module comment says. x86-64 only.
 */
export function findGnutlsCallees(fd: number, info: ElfInfo, syms: ReadonlyMap<string, ElfSymbol>): InternalCallee[] {
  if (!info.is64 || !info.littleEndian || info.machine !== EM_X86_64) return [];
  const out: InternalCallee[] = [];
  const recv = syms.get('gnutls_record_recv');
  const recvSeq = syms.get('gnutls_record_recv_seq');
  const target = recvTailCall(fd, recv);
  if (recv && target !== undefined && recvTailCall(fd, recvSeq) === target) {
    const fileOffset = pushCallee(fd, info, target, recv.value);
    if (fileOffset !== undefined) out.push({ library: 'gnutls', op: 'read', fileOffset, vaddr: target, replaces: [recv.name] });
  }
  const send = syms.get('gnutls_record_send');
  const send2 = syms.get('gnutls_record_send2');
  if (send && send2 && sendForwardsToSend2(fd, info, send, send2)) {
    const fileOffset = pushCallee(fd, info, send2.value, send.value);
    if (fileOffset !== undefined) out.push({ library: 'gnutls', op: 'write', fileOffset, vaddr: send2.value, replaces: [send.name] });
  }
  return out;
}

const EM_X86_64 = 62;
