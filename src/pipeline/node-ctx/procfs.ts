/**
 * What the Node.js attacher reads from /proc (docs/devdocs/correlation-node.md): the listening
 * TCP sockets a process owns (to find the inspector port it opened and to check that it closed)
 * and the file an address of its memory belongs to (to place its SIGUSR1 handler).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

const FD_SLICE = 64;

/**
 * Socket inodes of the fds of `pid`. Asynchronous, as is every /proc read of the attacher's loop:
 * reading /proc/PID/net/tcp walks the kernel's whole connection hash (~3 ms per table on a 24 GB
 * host, whatever the number of sockets), and the agent's thread must keep draining meanwhile.
 */
export async function socketInodes(pid: number): Promise<Set<string>> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  // in slices: a server with 10 000 connections must not queue 10 000 reads on libuv's 4 threads at once
  for (let i = 0; i < fds.length; i += FD_SLICE) {
    const links = await Promise.all(fds.slice(i, i + FD_SLICE).map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))); // '' = closed meanwhile
    for (const l of links) if (l.startsWith('socket:[')) out.add(l.slice(8, -1));
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
export async function listeningSockets(pid: number): Promise<ListenSocket[]> {
  const [inodes, tables] = await Promise.all([
    socketInodes(pid),
    Promise.all((['tcp', 'tcp6'] as const).map((f) => readFile(`/proc/${pid}/net/${f}`, 'latin1').catch(() => undefined))),
  ]);
  const out: ListenSocket[] = [];
  tables.forEach((text, i) => {
    if (text === undefined) return;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = TCP_LISTEN
      const [addrHex, portHex] = f[1]!.split(':');
      if (inodes.has(f[9]!)) out.push({ inode: f[9]!, addrHex: addrHex!, port: parseInt(portHex!, 16), v6: i === 1 });
    }
  });
  return out;
}

/** The file mapped at `addr` in `pid` (from /proc/PID/maps) and whether that mapping is executable. */
export async function mappingOf(pid: number, addr: bigint): Promise<{ path: string; exec: boolean } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/maps`, 'latin1');
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
export async function exePath(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
