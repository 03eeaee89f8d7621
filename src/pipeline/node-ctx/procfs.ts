/**
 * What the Node.js attacher reads from /proc (docs/devdocs/correlation-node.md): the listening
 * TCP sockets a process owns (to find the inspector port it opened and to check that it closed)
 * and the file an address of its memory belongs to (to place its SIGUSR1 handler).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Socket inodes of the fds of `pid`. */
export function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (l.startsWith('socket:[')) out.add(l.slice(8, -1));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

export interface ListenSocket {
  readonly inode: string;
  /** textual address as in /proc/net/tcp (hex), and the port */
  readonly addrHex: string;
  readonly port: number;
  readonly v6: boolean;
}

/** TCP sockets in LISTEN state in `pid`'s network namespace that `pid` holds. */
export function listeningSockets(pid: number): ListenSocket[] {
  const inodes = socketInodes(pid);
  const out: ListenSocket[] = [];
  for (const [file, v6] of [['tcp', false], ['tcp6', true]] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = TCP_LISTEN
      const [addrHex, portHex] = f[1]!.split(':');
      if (inodes.has(f[9]!)) out.push({ inode: f[9]!, addrHex: addrHex!, port: parseInt(portHex!, 16), v6 });
    }
  }
  return out;
}

/** The file mapped at `addr` in `pid` (from /proc/PID/maps) and whether that mapping is executable. */
export function mappingOf(pid: number, addr: bigint): { path: string; exec: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const [lo, hi] = line.slice(0, sp).split('-');
    if (addr < BigInt(`0x${lo}`) || addr >= BigInt(`0x${hi}`)) continue;
    const f = line.split(/\s+/);
    return { path: f.slice(5).join(' '), exec: (f[1] ?? '').includes('x') };
  }
  return undefined;
}

/** The executable of `pid`, or undefined. */
export function exePath(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
