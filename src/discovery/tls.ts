/**
 * Where a process's TLS code is: the TLS libraries it has mapped (found in
 * /proc/PID/maps) and an executable that carries its own copy (Node.js links
 * OpenSSL into `node`), and at which file offsets the uprobes of
 * bpf/probes/ssl.h go. Files are identified by (device, inode) as the maps file
 * shows them, so one library is resolved and attached once however many
 * processes map it. They are opened through /proc/PID/root/<path> (the process's
 * own view of the file system, so a container's files too; needs only ptrace
 * access, CAP_SYS_PTRACE for processes of other users) and the opened file's
 * device and inode are checked against the mapping; when they differ (the
 * package was upgraded and the path now names another file, or the file was
 * deleted), /proc/PID/map_files/<range> reaches the mapped file itself where
 * the agent may read it (that needs CAP_SYS_ADMIN). A Go executable carries crypto/tls, which is
 * Go code, not a library: discovery/gotls.ts plans its probes. The uprobes are attached
 * through the agent's own descriptor (/proc/self/fd/N), so the attachment does
 * not depend on the process that showed the file still being alive.
 */
import { closeSync, fstatSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { findFunctionSymbols, readElfInfo, withFile } from './elf.ts';
import { findGnutlsCallees, findOpensslCallees, type InternalCallee } from './tls-callee.ts';
import { resolveGoTls } from './gotls.ts';

/** a TLS library family, or Go's crypto/tls linked into a Go executable (discovery/gotls.ts) */
export type TlsLibraryKind = 'openssl' | 'gnutls' | 'go';
type TlsLibrary = Exclude<TlsLibraryKind, 'go'>;

/** A file-backed mapping of a process that may hold TLS code. */
export interface TlsMapping {
  /** `major:minor:inode` (hex device as in /proc/PID/maps, decimal inode) */
  readonly key: string;
  /** the path the process sees */
  readonly path: string;
  /** where the agent opens it: /proc/PID/root/<path> (checked against `key`) */
  readonly openPath: string;
  /** the mapping itself (/proc/PID/map_files/START-END), when the path no longer names the file */
  readonly mapFilesPath?: string;
  /** the library family its name says, or `executable` (a copy linked in, told by its symbols) */
  readonly candidate: TlsLibrary | 'executable';
}

/** One uprobe: `program` of the BPF object on `symbol`, at `offset` in the file. */
export interface TlsProbe {
  readonly symbol: string;
  readonly program: string;
  readonly retprobe: boolean;
  readonly offset: number;
}

export interface TlsResolution {
  /** undefined: no TLS library code in the file (an executable without a linked-in copy) */
  readonly kind: TlsLibraryKind | undefined;
  readonly probes: readonly TlsProbe[];
  /** required symbols that were not found (a stripped library): the file cannot be instrumented */
  readonly missing: readonly string[];
}

interface ProbeSpec {
  readonly symbol: string;
  readonly entry: string;
  /** also a return probe (the shared obi_tls_ret) */
  readonly ret: boolean;
  readonly required: boolean;
}

/** the shared return probe of every data function */
export const TLS_RETURN_PROGRAM = 'obi_tls_ret';

/** What is probed in each library family, and which program goes on each symbol. */
export const TLS_PROBES: Readonly<Record<TlsLibrary, readonly ProbeSpec[]>> = {
  openssl: [
    { symbol: 'SSL_read', entry: 'obi_ssl_read', ret: true, required: true },
    { symbol: 'SSL_write', entry: 'obi_ssl_write', ret: true, required: true },
    // OpenSSL >= 1.1.1 (Python's ssl module uses these)
    { symbol: 'SSL_read_ex', entry: 'obi_ssl_read_ex', ret: true, required: false },
    { symbol: 'SSL_write_ex', entry: 'obi_ssl_write_ex', ret: true, required: false },
    { symbol: 'SSL_shutdown', entry: 'obi_tls_release', ret: false, required: false },
    { symbol: 'SSL_free', entry: 'obi_tls_release', ret: false, required: false },
  ],
  gnutls: [
    { symbol: 'gnutls_record_recv', entry: 'obi_gnutls_recv', ret: true, required: true },
    { symbol: 'gnutls_record_send', entry: 'obi_gnutls_send', ret: true, required: true },
    { symbol: 'gnutls_bye', entry: 'obi_tls_release', ret: false, required: false },
    { symbol: 'gnutls_deinit', entry: 'obi_tls_release', ret: false, required: false },
  ],
};

// libssl.so, libssl.so.3, libssl.so.1.1, libssl-1a2b3c4d.so.3 (a copy bundled by a Python wheel);
// not libssl3.so (Mozilla NSS). libgnutls.so.30; not libgnutls-dane / libgnutls-openssl.
const LIB_PATTERNS: readonly (readonly [RegExp, TlsLibrary])[] = [
  [/^libssl(?:-[0-9a-f]+)?\.so(?:\.\d+)*$/, 'openssl'],
  [/^libgnutls(?:-[0-9a-f]+)?\.so(?:\.\d+)*$/, 'gnutls'],
];

/** The TLS library family a file name says, if any. */
export function libraryKind(path: string): TlsLibrary | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  for (const [re, kind] of LIB_PATTERNS) if (re.test(base)) return kind;
  return undefined;
}

const DELETED = ' (deleted)';

/**
 * TLS candidates of one /proc/PID/maps text: mappings of TLS libraries, and the executable's
 * own mapping (`exePath`, as /proc/PID/exe reads) when given. One entry per file.
 */
export function parseTlsMappings(maps: string, exePath: string | undefined, mapFilesDir: string, rootDir?: string): TlsMapping[] {
  const out: TlsMapping[] = [];
  const seen = new Set<string>();
  const exe = exePath?.endsWith(DELETED) ? exePath.slice(0, -DELETED.length) : exePath;
  let lineStart = 0;
  // the next ' /' at or after lineStart: found once and kept while the lines before it have no path
  // (a Node.js process maps thousands of anonymous regions in a row: a search per line was quadratic)
  let slash = -1;
  while (lineStart < maps.length) {
    let lineEnd = maps.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = maps.length;
    if (slash < lineStart && slash !== -2) {
      slash = maps.indexOf(' /', lineStart);
      if (slash < 0) slash = -2; // none left
    }
    if (slash >= 0 && slash < lineEnd) {
      let path = maps.slice(slash + 1, lineEnd);
      if (path.endsWith(DELETED)) path = path.slice(0, -DELETED.length);
      const kind = libraryKind(path);
      const candidate = kind ?? (path === exe ? 'executable' : undefined);
      if (candidate) {
        // start-end perms offset dev inode
        const cols = maps.slice(lineStart, slash).trim().split(/\s+/);
        const key = cols.length >= 5 ? `${cols[3]}:${cols[4]}` : '';
        if (key && cols[4] !== '0' && !seen.has(key)) {
          seen.add(key);
          // map_files names print the addresses without leading zeros
          const range = cols[0].replace(/^0+(?=[0-9a-f])/, '').replace(/-0+(?=[0-9a-f])/, '-');
          const mapFilesPath = `${mapFilesDir}/${range}`;
          out.push(rootDir === undefined ? { key, path, openPath: mapFilesPath, candidate } : { key, path, openPath: `${rootDir}${path}`, mapFilesPath, candidate });
        }
      }
    }
    lineStart = lineEnd + 1;
  }
  return out;
}

/** The TLS candidates a live process has mapped; [] when it is gone or unreadable. */
export function findTlsMappings(pid: number, procRoot = '/proc'): TlsMapping[] {
  let maps: string;
  try {
    maps = readFileSync(`${procRoot}/${pid}/maps`, 'latin1');
  } catch {
    return [];
  }
  let exe: string | undefined;
  try {
    exe = readlinkSync(`${procRoot}/${pid}/exe`);
  } catch {
    exe = undefined;
  }
  return parseTlsMappings(maps, exe, `${procRoot}/${pid}/map_files`, `${procRoot}/${pid}/root`);
}

/** A mapped file opened by the agent, or why it could not be. */
export type OpenedTlsFile =
  | { readonly fd: number; readonly via: 'root' | 'map_files' }
  | { readonly error: 'gone' }
  | { readonly error: 'inaccessible'; readonly detail: string };

/** `major:minor:inode` of a stat (glibc's dev_t encoding), as /proc/PID/maps prints it */
export function statKey(st: { dev: bigint; ino: bigint }): string {
  const dev = st.dev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
}

/**
 * Opens the file behind `m` read-only: its path inside the process's root when that still names
 * the mapped file (same device and inode), else the mapping itself. `gone`: the process exited
 * (another process mapping the same file will do); `inaccessible`: the file cannot be reached.
 */
export function openTlsFile(m: TlsMapping): OpenedTlsFile {
  let why = '';
  try {
    const fd = openSync(m.openPath, 'r');
    const key = statKey(fstatSync(fd, { bigint: true }));
    if (key === m.key) return { fd, via: 'root' };
    closeSync(fd);
    why = `${m.openPath} is another file now (${key}, mapped ${m.key}: upgraded or replaced)`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { error: 'gone' };
    why = `cannot open ${m.openPath}: ${code ?? (err as Error).message}`;
  }
  if (m.mapFilesPath) {
    try {
      return { fd: openSync(m.mapFilesPath, 'r'), via: 'map_files' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return { error: 'gone' };
      why += `; ${m.mapFilesPath}: ${code} (reading map_files needs CAP_SYS_ADMIN)`;
    }
  }
  return { error: 'inaccessible', detail: why };
}

/** Which probes `spec` needs, given the symbols found. */
export function planProbes(kind: TlsLibrary, offsets: ReadonlyMap<string, number>): TlsResolution {
  const probes: TlsProbe[] = [];
  const missing: string[] = [];
  for (const s of TLS_PROBES[kind]) {
    const offset = offsets.get(s.symbol);
    if (offset === undefined) {
      if (s.required) missing.push(s.symbol);
      continue;
    }
    probes.push({ symbol: s.symbol, program: s.entry, retprobe: false, offset });
    if (s.ret) probes.push({ symbol: s.symbol, program: TLS_RETURN_PROGRAM, retprobe: true, offset });
  }
  return missing.length > 0 ? { kind, probes: [], missing } : { kind, probes, missing };
}

/** symbols not probed themselves that tls-callee.ts decodes to find the internal callees */
const CALLEE_DECODED: Readonly<Record<TlsLibrary, readonly string[]>> = {
  openssl: [],
  gnutls: ['gnutls_record_recv_seq', 'gnutls_record_send2'],
};

const FIND_CALLEES: Readonly<Record<TlsLibrary, typeof findOpensslCallees>> = {
  openssl: findOpensslCallees,
  gnutls: findGnutlsCallees,
};

/** where the internal callees' probes go, and under which program (their arguments are the `_ex` ones) */
const CALLEE_PROGRAM: Readonly<Record<`${InternalCallee['library']}:${InternalCallee['op']}`, { symbol: string; entry: string }>> = {
  'openssl:read': { symbol: 'ssl_read_internal', entry: 'obi_ssl_read_ex' },
  'openssl:write': { symbol: 'ssl_write_internal', entry: 'obi_ssl_write_ex' },
  // _gnutls_recv_int(session, type, data, ...): the program keeps type 23 (application data)
  'gnutls:read': { symbol: '_gnutls_recv_int', entry: 'obi_gnutls_recv_int' },
  'gnutls:write': { symbol: 'gnutls_record_send2', entry: 'obi_gnutls_send' },
};

/** `plan` with the probes of each callee's public entry points replaced by one probe pair on the callee (see tls-callee.ts) */
export function withInternalCallees(plan: TlsResolution, callees: readonly InternalCallee[]): TlsResolution {
  if (callees.length === 0 || plan.probes.length === 0) return plan;
  const replaced = new Set(callees.flatMap((c) => c.replaces));
  const probes = plan.probes.filter((p) => !replaced.has(p.symbol));
  for (const c of callees) {
    const { symbol, entry } = CALLEE_PROGRAM[`${c.library}:${c.op}`];
    probes.push({ symbol, program: entry, retprobe: false, offset: c.fileOffset }, { symbol, program: TLS_RETURN_PROGRAM, retprobe: true, offset: c.fileOffset });
  }
  return { ...plan, probes };
}

export interface ResolveOptions {
  /** probe OpenSSL's and GnuTLS's internal read/write functions where verified (default true; see tls-callee.ts) */
  readonly internalCallees?: boolean;
  /** look into Go executables for crypto/tls (default true; false: discovery.skip_go_specific_tracers) */
  readonly go?: boolean;
}

/**
 * Reads the symbol tables of `m` and plans its probes. A library whose name says TLS but
 * whose required symbols are missing (stripped) comes back with `missing` set; an
 * executable without a linked-in TLS library comes back with `kind` undefined.
 */
export function resolveTlsProbes(m: Pick<TlsMapping, 'openPath' | 'candidate'>, o: ResolveOptions = {}): TlsResolution | undefined {
  return withFile(m.openPath, (fd) => resolveTlsProbesFd(fd, m.candidate, o));
}

/** resolveTlsProbes on an open file; throws on a read error */
export function resolveTlsProbesFd(fd: number, candidate: TlsMapping['candidate'], o: ResolveOptions = {}): TlsResolution {
  const m = { candidate };
  {
    const info = readElfInfo(fd);
    const kinds: TlsLibrary[] = m.candidate === 'executable' ? ['openssl', 'gnutls'] : [m.candidate];
    if (info && m.candidate === 'executable' && o.go !== false) {
      const go = resolveGoTls(fd, info);
      if (go?.ok) return { kind: 'go', probes: go.probes.map((p) => ({ ...p, retprobe: false })), missing: [] };
      if (go) return { kind: 'go', probes: [], missing: go.missing };
    }
    if (!info) return m.candidate === 'executable' ? { kind: undefined, probes: [], missing: [] } : { kind: m.candidate, probes: [], missing: ['ELF'] };
    const names = kinds.flatMap((k) => [...TLS_PROBES[k].map((s) => s.symbol), ...CALLEE_DECODED[k]]);
    const syms = findFunctionSymbols(fd, info, names);
    for (const kind of kinds) {
      const offsets = new Map<string, number>();
      for (const s of TLS_PROBES[kind]) {
        const sym = syms.get(s.symbol);
        if (sym?.fileOffset !== undefined) offsets.set(s.symbol, sym.fileOffset);
      }
      const planned = planProbes(kind, offsets);
      const plan = planned.missing.length === 0 && o.internalCallees !== false ? withInternalCallees(planned, FIND_CALLEES[kind](fd, info, syms)) : planned;
      if (m.candidate !== 'executable' || plan.missing.length === 0) return plan;
    }
    return { kind: undefined, probes: [], missing: [] };
  }
}
