/**
 * What pairing TLS plaintext with its socket needs besides the connections themselves (used by
 * ConnectionTracker): plaintext held until its session's socket is known, and closed TLS
 * connections kept a moment for plaintext the library decrypts after the close. Both bounded.
 */

/** TLS sessions whose socket is not known yet, and what each may hold until it is (bytes, segments) */
const MAX_UNPAIRED_SESSIONS = 1024;
const MAX_UNPAIRED_BYTES = 64 * 1024;
const MAX_UNPAIRED_SEGMENTS = 16;
/**
 * A TLS library may decrypt records it read before its session was shut down or its socket
 * closed (Node.js decrypts the last ReadyForQuery of a failed query after node-postgres has
 * written Terminate and shut the session down); the kernel no longer names the socket of that
 * plaintext, which then goes to the connection of its session (pid, SSL*). A TLS connection
 * closed with requests unanswered lingers this long for it (and at most this many).
 */
export const TLS_LINGER_NS = 1e9;
const MAX_LINGERING = 1024;

/** a TLS plaintext segment that arrived before its session's socket was known (copied out of the batch) */
export interface HeldSegment {
  readonly ingress: boolean;
  readonly payload: Buffer;
  readonly len: number;
  readonly tsNs: number;
}

interface Held {
  readonly segs: HeldSegment[];
  bytes: number;
}

/** Plaintext of TLS sessions (pid, SSL*) whose socket is not known yet. */
export class HeldPlaintext {
  /** segments dropped: over a session's caps, the oldest session evicted, or its process gone */
  dropped = 0;
  private readonly _byPid = new Map<number, Map<bigint, Held>>();
  private _sessions = 0;

  get sessions(): number {
    return this._sessions;
  }

  /** keep a copy of `seg` for session (pid, sslId); false when it was dropped */
  hold(pid: number, sslId: bigint, seg: HeldSegment): boolean {
    let m = this._byPid.get(pid);
    let h = m?.get(sslId);
    if (!h) {
      if (this._sessions >= MAX_UNPAIRED_SESSIONS) this._dropOldest();
      m = this._byPid.get(pid);
      if (!m) {
        m = new Map();
        this._byPid.set(pid, m);
      }
      h = { segs: [], bytes: 0 };
      m.set(sslId, h);
      this._sessions++;
    }
    if (h.segs.length >= MAX_UNPAIRED_SEGMENTS || h.bytes + seg.payload.length > MAX_UNPAIRED_BYTES) {
      this.dropped++;
      return false;
    }
    h.segs.push({ ...seg, payload: Buffer.from(seg.payload) });
    h.bytes += seg.payload.length;
    return true;
  }

  /** what session (pid, sslId) said before its socket was known, in order; forgotten here */
  take(pid: number, sslId: bigint): readonly HeldSegment[] | undefined {
    const m = this._byPid.get(pid);
    const h = m?.get(sslId);
    if (!m || !h) return undefined;
    m.delete(sslId);
    if (m.size === 0) this._byPid.delete(pid);
    this._sessions--;
    return h.segs;
  }

  /** the process is gone: its held plaintext is dropped */
  dropPid(pid: number): void {
    const m = this._byPid.get(pid);
    if (!m) return;
    for (const h of m.values()) this.dropped += h.segs.length;
    this._sessions -= m.size;
    this._byPid.delete(pid);
  }

  private _dropOldest(): void {
    for (const [pid, m] of this._byPid) {
      for (const [ssl, h] of m) {
        m.delete(ssl);
        if (m.size === 0) this._byPid.delete(pid);
        this._sessions--;
        this.dropped += h.segs.length;
        return;
      }
    }
  }
}

/**
 * Closed TLS connections (keyed by pid and SSL*) waiting a moment for late plaintext, oldest first.
 * A connection that stops lingering without late plaintext is flushed at its close time: its
 * unanswered requests end when the connection did, not when the agent next looked.
 */
export class Lingering<C extends { readonly pid: number }> {
  private readonly _byKey = new Map<string, { readonly conn: C; readonly closeNs: number }>();
  private readonly _finish: (conn: C, tsNs: number) => void;

  /** `finish` flushes a connection that stops lingering */
  constructor(finish: (conn: C, tsNs: number) => void) {
    this._finish = finish;
  }

  get size(): number {
    return this._byKey.size;
  }

  /** linger `conn` of session (pid, sslId), closed at `closeNs`, until `closeNs + TLS_LINGER_NS` */
  add(pid: number, sslId: bigint, conn: C, closeNs: number): void {
    if (this._byKey.size >= MAX_LINGERING) this._end(this._byKey.keys().next().value as string);
    const key = `${pid}:${sslId}`;
    this._end(key);
    this._byKey.set(key, { conn, closeNs });
  }

  get(pid: number, sslId: bigint): C | undefined {
    return this._byKey.get(`${pid}:${sslId}`)?.conn;
  }

  /** stop lingering (session, pid): the connection is flushed at `tsNs` (its late plaintext's time) */
  end(pid: number, sslId: bigint, tsNs: number): void {
    this._end(`${pid}:${sslId}`, tsNs);
  }

  /** flush those whose time is up (a clock reading or an event's time, in the kernel's monotonic ns) */
  expire(nowNs: number): void {
    for (const [key, l] of this._byKey) {
      if (l.closeNs + TLS_LINGER_NS >= nowNs) return;
      this._end(key);
    }
  }

  /** flush those of `pid` (every one when undefined) */
  endAll(pid: number | undefined): void {
    if (this._byKey.size === 0) return;
    for (const [key, l] of [...this._byKey]) if (pid === undefined || l.conn.pid === pid) this._end(key);
  }

  conns(): IterableIterator<C> {
    return [...this._byKey.values()].map((l) => l.conn)[Symbol.iterator]();
  }

  private _end(key: string, tsNs?: number): void {
    const l = this._byKey.get(key);
    if (!l) return;
    this._byKey.delete(key);
    this._finish(l.conn, tsNs ?? l.closeNs);
  }
}
