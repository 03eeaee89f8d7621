/**
 * The /proc side of discovery: what a process is (exe, argv, parent, start time, listening TCP
 * ports, language) and a one-pass scan of all user processes.
 *
 * Listening ports are resolved per network namespace: a process's sockets are looked up in
 * /proc/PID/net/tcp{,6}, which shows the namespace the process lives in, so processes in
 * containers (other netns) get their ports too. In a scan every namespace's tables are parsed
 * once (keyed by the inode of /proc/PID/ns/net), not once per process, and only when some
 * process of that namespace holds a socket at all.
 *
 * Everything here is synchronous (the CLI's periodic scan and the exec-event path call it);
 * every read tolerates the process vanishing mid-way.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { defaultLanguageDetector, type LanguageDetector } from './language.ts';
import type { ProcessInfo } from './types.ts';

const DELETED = ' (deleted)';

let clkTck: number | undefined;
/** USER_HZ as `getconf CLK_TCK` reports it (read once; 100 on Linux if getconf is unavailable). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    clkTck = 100;
    try {
      const v = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }), 10);
      if (Number.isInteger(v) && v > 0) clkTck = v;
    } catch {
      // keep 100: the kernel exports USER_HZ = 100 in /proc on every Linux architecture
    }
  }
  return clkTck;
}

const bootTimes = new Map<string, number>();
/** Boot time (`btime` of /proc/stat) in ms since the epoch; cached per proc root. */
export function bootTimeMs(procRoot = '/proc'): number {
  let v = bootTimes.get(procRoot);
  if (v === undefined) {
    v = 0;
    try {
      const m = /^btime\s+(\d+)/m.exec(readFileSync(`${procRoot}/stat`, 'latin1'));
      if (m) v = Number(m[1]) * 1000;
    } catch {
      // no /proc/stat: start times become relative to the epoch, still ordered
    }
    bootTimes.set(procRoot, v);
  }
  return v;
}

/** PIDs of /proc (thread-group leaders only: /proc does not list threads), ascending. */
export function listPids(procRoot = '/proc'): number[] {
  const out: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

/** Fields of /proc/PID/stat the discovery needs. */
export interface ProcStat {
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  /** start time in clock ticks after boot */
  readonly startTicks: number;
}

/**
 * Parses /proc/PID/stat. `comm` may hold spaces and parentheses, so it spans from the first
 * `(` to the *last* `)`; the numeric fields follow.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] = state (field 3), rest[1] = ppid (field 4), rest[19] = starttime (field 22)
  if (rest.length < 20) return undefined;
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { comm: text.slice(open + 1, close), state: rest[0], ppid, startTicks };
}

/** argv from /proc/PID/cmdline (NUL-separated, NUL-terminated). */
export function parseCmdline(buf: Buffer): string[] {
  if (buf.length === 0) return [];
  const end = buf[buf.length - 1] === 0 ? buf.length - 1 : buf.length;
  return buf.toString('utf8', 0, end).split('\0');
}

const SP = 0x20;
const NL = 0x0a;

/** A 1–4 digit hex port at buf[start, end), or -1. */
function hexPort(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 4) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * Adds the LISTEN sockets (state `0A`) of a /proc/net/tcp or tcp6 text to `out` as
 * inode → local port. Columns: sl, local_address (`HEXADDR:HEXPORT`), rem_address, st,
 * tx:rx queue, tr:when, retrnsmt, uid, timeout, inode, …; the header line is skipped.
 */
export function parseTcpListen(buf: Buffer, out: Map<number, number>): Map<number, number> {
  let i = buf.indexOf(NL);
  if (i < 0) return out;
  i++;
  const n = buf.length;
  while (i < n) {
    let lineEnd = buf.indexOf(NL, i);
    if (lineEnd < 0) lineEnd = n;
    let col = 0;
    let port = -1;
    let listen = false;
    let j = i;
    while (j < lineEnd) {
      while (j < lineEnd && buf[j] === SP) j++;
      if (j >= lineEnd) break;
      const start = j;
      while (j < lineEnd && buf[j] !== SP) j++;
      if (col === 1) {
        const colon = buf.lastIndexOf(0x3a, j - 1);
        if (colon > start) port = hexPort(buf, colon + 1, j);
      } else if (col === 3) {
        listen = j - start === 2 && buf[start] === 0x30 && (buf[start + 1] === 0x41 || buf[start + 1] === 0x61);
        if (!listen) break;
      } else if (col === 9) {
        let inode = 0;
        for (let k = start; k < j && inode >= 0; k++) {
          const d = buf[k] - 48;
          inode = d >= 0 && d <= 9 ? inode * 10 + d : -1;
        }
        if (port >= 0 && inode > 0 && Number.isSafeInteger(inode)) out.set(inode, port);
        break;
      }
      col++;
    }
    i = lineEnd + 1;
  }
  return out;
}

/**
 * inode → port of the listening TCP sockets in `netDir`/tcp and `netDir`/tcp6
 * (default `/proc/net`, the agent's own network namespace).
 */
export function listenPortsByInode(procRoot = '/proc', netDir = `${procRoot}/net`): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of ['tcp', 'tcp6']) {
    try {
      parseTcpListen(readFileSync(`${netDir}/${f}`), out);
    } catch {
      // no IPv6, or the directory is gone
    }
  }
  return out;
}

/** Inode of a `type:[inode]` link target (`socket:[123]`, `net:[4026531840]`), else -1. */
function bracketInode(link: string, prefix: string): number {
  if (!link.startsWith(prefix) || link.charCodeAt(link.length - 1) !== 93) return -1;
  const v = Number(link.slice(prefix.length, -1));
  return Number.isInteger(v) ? v : -1;
}

/** Inode of the network namespace of `pid` (from /proc/PID/ns/net), undefined if unreadable. */
export function readNetNs(pid: number | 'self', procRoot = '/proc'): number | undefined {
  try {
    const v = bracketInode(readlinkSync(`${procRoot}/${pid}/ns/net`), 'net:[');
    return v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Inodes of the sockets `pid` holds open (its /proc/PID/fd links `socket:[inode]`). */
export function socketInodes(pid: number, procRoot = '/proc'): number[] {
  const dir = `${procRoot}/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`${dir}/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (link.charCodeAt(0) !== 115 /* s */) continue;
    const inode = bracketInode(link, 'socket:[');
    if (inode >= 0) out.push(inode);
  }
  return out;
}

/** The ports of `listening` (inode → port) that `inodes` hold, ascending, unique. */
export function portsOf(inodes: readonly number[], listening: ReadonlyMap<number, number>): number[] {
  let ports: number[] | undefined;
  for (const inode of inodes) {
    const port = listening.get(inode);
    if (port === undefined) continue;
    ports ??= [];
    if (!ports.includes(port)) ports.push(port);
  }
  return ports ? ports.sort((a, b) => a - b) : [];
}

/** Local ports of `pid`'s sockets present in `listening` (inode → port), ascending, unique. */
export function socketPorts(pid: number, listening: ReadonlyMap<number, number>, procRoot = '/proc'): number[] {
  if (listening.size === 0) return [];
  return portsOf(socketInodes(pid, procRoot), listening);
}

/** NUL-separated `KEY=value` environment of `pid`; undefined if unreadable (needs root for others' processes). */
export function readEnviron(pid: number, procRoot = '/proc'): Map<string, string> | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(`${procRoot}/${pid}/environ`);
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0, start);
    if (end < 0) end = buf.length;
    const eq = buf.indexOf(0x3d, start);
    if (eq > start && eq < end) {
      const key = buf.toString('utf8', start, eq);
      if (!env.has(key)) env.set(key, buf.toString('utf8', eq + 1, end));
    }
    start = end + 1;
  }
  return env;
}

/** Reads the resolved executable path, '' when there is none (kernel thread, zombie, gone). */
export function readExe(pid: number, procRoot = '/proc'): string {
  try {
    const p = readlinkSync(`${procRoot}/${pid}/exe`);
    return p.endsWith(DELETED) ? p.slice(0, -DELETED.length) : p;
  } catch {
    return '';
  }
}

export interface ScanOptions {
  readonly procRoot?: string;
  readonly languageDetector?: LanguageDetector;
  /** USER_HZ; default from `getconf CLK_TCK` */
  readonly clockTicks?: number;
}

/** State shared by the reads of one scan: namespace → listen table, constants. */
class ScanContext {
  readonly procRoot: string;
  readonly detector: LanguageDetector;
  readonly btimeMs: number;
  readonly ticks: number;
  readonly tables = new Map<number, Map<number, number>>();

  constructor(opts: ScanOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.detector = opts.languageDetector ?? defaultLanguageDetector;
    this.btimeMs = bootTimeMs(this.procRoot);
    this.ticks = opts.clockTicks ?? clockTicksPerSecond();
  }

  listenTable(pid: number, netNs: number | undefined): Map<number, number> {
    if (netNs === undefined) return listenPortsByInode(this.procRoot, `${this.procRoot}/${pid}/net`);
    let t = this.tables.get(netNs);
    if (!t) {
      t = listenPortsByInode(this.procRoot, `${this.procRoot}/${pid}/net`);
      this.tables.set(netNs, t);
    }
    return t;
  }

  read(pid: number, skipKernelThreads: boolean): ProcessInfo | undefined {
    const root = this.procRoot;
    // the exe link first: a scan drops kernel threads before reading anything else of them
    const exePath = readExe(pid, root);
    if (exePath === '' && skipKernelThreads) return undefined;
    let stat: ProcStat | undefined;
    try {
      stat = parseStat(readFileSync(`${root}/${pid}/stat`, 'latin1'));
    } catch {
      return undefined; // gone
    }
    if (!stat) return undefined;
    let cmdline: string[] = [];
    try {
      cmdline = parseCmdline(readFileSync(`${root}/${pid}/cmdline`));
    } catch {
      // gone meanwhile: keep what we have
    }
    const netNs = readNetNs(pid, root);
    // The fd walk comes first: a namespace's TCP tables (the costly read: the kernel walks its
    // whole socket hash to produce them) are only loaded once some process there holds a socket.
    let listenPorts: number[] = [];
    if (exePath !== '') {
      const inodes = socketInodes(pid, root);
      if (inodes.length > 0) listenPorts = portsOf(inodes, this.listenTable(pid, netNs));
    }
    const language = exePath === '' ? 'generic' : this.detector.detect(pid, exePath, root);
    const info: ProcessInfo = {
      pid,
      ppid: stat.ppid,
      exePath,
      cmdline,
      listenPorts,
      startTimeMs: this.btimeMs + Math.round((stat.startTicks * 1000) / this.ticks),
      language,
      netNs,
    };
    return info;
  }
}

/** Everything discovery knows of one process; undefined if it does not exist (any more). */
export function readProcess(pid: number, procRoot = '/proc', opts: Omit<ScanOptions, 'procRoot'> = {}): ProcessInfo | undefined {
  return new ScanContext({ ...opts, procRoot }).read(pid, false);
}

/**
 * All user processes (kernel threads and zombies, which have no executable, are skipped) in one
 * pass: each network namespace's TCP tables are parsed once for the whole scan.
 */
export function scanAll(opts: ScanOptions = {}): ProcessInfo[] {
  const ctx = new ScanContext(opts);
  const out: ProcessInfo[] = [];
  for (const pid of listPids(ctx.procRoot)) {
    const p = ctx.read(pid, true);
    if (p) out.push(p);
  }
  return out;
}
