/**
 * The kernel side of the agent: the BPF object loaded with its load-time globals, its tracepoint
 * programs attached, the PID filter user space keeps, and the kernel counters. Names of maps and
 * globals come from the object itself (src/abi/events.ts, generated), and so does the layout of
 * the PID bitmap.
 */
import {
  OBI_CONN_INFO_SIZE,
  OBI_DATA_EVENT_SIZE,
  ObiConnInfoOffsets,
  OBI_PID_MASK_BITS,
  OBI_PID_MASK_WORDS,
  OBI_PROP_PID_SIZE,
  ObiPropPidOffsets,
  ObiGlobal,
  ObiMap,
  ObiStat,
} from '../abi/events.ts';
import { BPF_ANY, BPF_EXIST, BpfObject, defaultBpfObjectPath } from '../native/binding.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from './log.ts';
import { SIGPROBE_PROGRAMS } from './node-ctx/attach.ts';
import type { TlsCallCounts } from './tls.ts';

export interface KernelOptions {
  /** bytes of payload copied per syscall (`ebpf.capture_size`) */
  readonly captureSize: number;
  /** capture UDP datagrams that look like DNS (the `dns` instrumentation is on) */
  readonly captureUdp?: boolean;
  /** capture unix stream sockets whose first payload is a FastCGI request (bpf/probes/sock_io.h) */
  readonly captureUnix?: boolean;
  /** larger capture of HTTP/1 connections: bytes copied per syscall, and of each HTTP/2 stream's body per direction; 0 off (`ebpf.buffer_sizes.http`; pipeline/large-capture.ts) */
  readonly largeHttp?: number;
  /** ring buffer bytes (`ebpf.ring_buffer_size`) */
  readonly ringBufferSize: number;
  /** records submitted before a forced wake-up (`ebpf.wakeup_len`) */
  readonly wakeupLen: number;
  readonly objectPath?: string;
  readonly log: Logger;
  /** context propagation (pipeline/propagation.ts): what can run, `tcp` (the TCP option) and `headers`
   * (HTTP header injection, sk_msg); either makes the kernel decide request ids and loads the sockops
   * program. What runs is switched at run time (setPropControl) */
  readonly propagation?: { readonly tcp: boolean; readonly headers: boolean };
  /** `headers` without the no-op sk_skb verdict program (a test provokes the self-test's FIONREAD failure with it) */
  readonly headersWithoutSkb?: boolean;
  /** more load-time settings (exec admission globals, uprobe_multi), on each fresh object before load */
  readonly beforeLoad?: (bpf: BpfObject) => void;
}

/** bpf_attach_type: an sk_msg program and a (parser-less) sk_skb verdict program on a sockhash */
const BPF_SK_MSG_VERDICT = 7;
const BPF_SK_SKB_STREAM_VERDICT = 5;

/** the header injection counters (bpf/probes/inject.h) */
export interface HeaderInjectionCounts {
  readonly injected: number;
  readonly present: number;
  readonly boundary: number;
  readonly tls: number;
  readonly other: number;
  readonly evicted: number;
  /** HTTP/2 HEADERS frames given the field */
  readonly h2: number;
  /** HTTP/2 connections no longer followed (a frame header split across writes) */
  readonly h2Lost: number;
}

/** EAGAIN: the verifier gave up because a signal arrived mid-verification */
const EAGAIN = 11;
const LOAD_ATTEMPTS = 5;

/** the sys_enter programs of the write syscalls: context propagation's id decision only */
export const WRITE_ENTER_PROGRAMS = ['obi_enter_write', 'obi_enter_sendto', 'obi_enter_writev', 'obi_enter_sendmsg', 'obi_enter_sendmmsg', 'obi_enter_sendfile64'] as const;

export class Kernel {
  readonly bpf: BpfObject;
  private _links: number[] = [];
  private readonly _pidKey = Buffer.alloc(4);
  private readonly _pidVal = Buffer.alloc(8);

  private constructor(bpf: BpfObject) {
    this.bpf = bpf;
  }

  /**
   * Load the object with its globals set, retrying a load interrupted by a signal (a profiler's
   * SIGPROF, a terminal resize) on a fresh object, then attach every tracepoint program (uprobes
   * are attached per library file by the TLS instrumenter).
   */
  static load(o: KernelOptions): Kernel {
    const t0 = performance.now();
    const wakeupBytes = Math.min(Math.floor(o.ringBufferSize / 2), o.wakeupLen * (OBI_DATA_EVENT_SIZE + o.captureSize));
    let bpf: BpfObject;
    for (let attempt = 1; ; attempt++) {
      bpf = new BpfObject(o.objectPath ?? defaultBpfObjectPath);
      bpf.setGlobal(ObiGlobal.capture_size, o.captureSize);
      bpf.setGlobal(ObiGlobal.wakeup_bytes, BigInt(wakeupBytes), 8);
      bpf.setGlobal(ObiGlobal.self_pid, process.pid);
      bpf.setGlobal(ObiGlobal.capture_udp, Buffer.from([o.captureUdp === true ? 1 : 0]));
      bpf.setGlobal(ObiGlobal.capture_unix, Buffer.from([o.captureUnix === true ? 1 : 0]));
      bpf.setGlobal(ObiGlobal.large_http, o.largeHttp ?? 0);
      const prop = o.propagation ?? { tcp: false, headers: false };
      bpf.setGlobal(ObiGlobal.prop_ids, Buffer.from([prop.tcp || prop.headers ? 1 : 0]));
      bpf.setGlobal(ObiGlobal.prop_opt, Buffer.from([prop.tcp ? 1 : 0]));
      bpf.setGlobal(ObiGlobal.prop_hdr, Buffer.from([prop.headers ? 1 : 0]));
      // the sockops program loads only for propagation (loading it needs CAP_NET_ADMIN), sk_msg/sk_skb only for headers
      if (!prop.tcp && !prop.headers) {
        // a write's sys_enter only decides propagation (bpf/probes/sock_io.h): without it every
        // write on the host would pay a tracepoint hit for nothing
        for (const name of WRITE_ENTER_PROGRAMS) bpf.setAutoload(name, false);
        bpf.setAutoload('obi_sockops', false);
        bpf.setMapAutocreate(ObiMap.prop_sockmap, false); // creating a sockhash needs CAP_NET_ADMIN too
      }
      if (!prop.headers) {
        bpf.setAutoload('obi_sk_msg', false);
        bpf.setAutoload('obi_sk_skb', false);
      }
      // the same budget for HTTP/2 streams' bodies (bpf/protocols/http2.h body capture)
      bpf.setGlobal(ObiGlobal.h2_body_bytes, o.largeHttp ?? 0);
      bpf.setMapMaxEntries(ObiMap.events, o.ringBufferSize);
      o.beforeLoad?.(bpf);
      try {
        bpf.load();
        break;
      } catch (err) {
        bpf.close();
        if ((err as { errno?: number }).errno !== EAGAIN || attempt >= LOAD_ATTEMPTS) throw err;
        o.log.warn('BPF load interrupted (EAGAIN); retrying', { attempt });
      }
    }
    const k = new Kernel(bpf);
    const propagating = o.propagation?.tcp === true || o.propagation?.headers === true;
    const tLoad = performance.now();
    const attached: string[] = [];
    for (const p of bpf.programs()) {
      // sockops: per cgroup (pipeline/propagation.ts), when loaded; sk_msg/sk_skb: on the sockhash, below
      if (/^u(ret)?probe/.test(p.section) || p.section === 'sockops' || p.section === 'sk_msg' || p.section === 'sk_skb') continue;
      // the SIGUSR1 probe: attached by the Node.js attacher only while it waits for an answer (pipeline/node-ctx/attach.ts)
      if ((SIGPROBE_PROGRAMS as readonly string[]).includes(p.name)) continue;
      if (!propagating && (WRITE_ENTER_PROGRAMS as readonly string[]).includes(p.name)) continue; // not loaded
      k._links.push(bpf.attach(p.name));
      attached.push(p.section.replace(/^(raw_)?tracepoint\//, ''));
    }
    if (o.propagation?.headers === true) {
      bpf.attachMap('obi_sk_msg', ObiMap.prop_sockmap, BPF_SK_MSG_VERDICT);
      if (o.headersWithoutSkb !== true) bpf.attachMap('obi_sk_skb', ObiMap.prop_sockmap, BPF_SK_SKB_STREAM_VERDICT);
      attached.push('sk_msg', ...(o.headersWithoutSkb === true ? [] : ['sk_skb']));
    }
    o.log.info('BPF programs attached', {
      programs: attached.length,
      load_ms: (tLoad - t0).toFixed(1),
      attach_ms: (performance.now() - tLoad).toFixed(1),
      hooks: attached.join(','),
      capture_size: o.captureSize,
      large_http: o.largeHttp ?? 0,
      ring_buffer_size: o.ringBufferSize,
      wakeup_bytes: wakeupBytes,
    });
    return k;
  }

  /** Trace `pid` (or stop): its entry in `pids` (the list) and its bit in `pidmask` (the fast filter), set atomically. */
  tracePid(pid: number, on: boolean): void {
    if (!Number.isInteger(pid) || pid <= 0 || pid >= OBI_PID_MASK_WORDS * OBI_PID_MASK_BITS) throw new RangeError(`pid out of range: ${pid}`);
    this._pidKey.writeUInt32LE(pid);
    if (on) this.bpf.mapUpdate(ObiMap.pids, this._pidKey, this._pidVal, BPF_ANY);
    else this.bpf.mapDelete(ObiMap.pids, this._pidKey);
    this.bpf.mapBits(ObiMap.pidmask, Math.floor(pid / OBI_PID_MASK_BITS), 1n << BigInt(pid % OBI_PID_MASK_BITS), on);
  }

  /** whether `pid`'s bit is set in the fast filter */
  pidBit(pid: number): boolean {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(Math.floor(pid / OBI_PID_MASK_BITS));
    const w = this.bpf.mapLookup(ObiMap.pidmask, key);
    return w !== null && (w.readBigUInt64LE(0) & (1n << BigInt(pid % OBI_PID_MASK_BITS))) !== 0n;
  }

  /** the PID list's keys (tests: exited processes leave nothing behind) */
  pids(): number[] {
    return this.bpf.mapKeys(ObiMap.pids).map((k) => k.readUInt32LE(0));
  }

  /** pids present in the kernel `conns` map */
  connPids(): number[] {
    return this.bpf.mapKeys(ObiMap.conns).map((k) => k.readUInt32LE(0));
  }

  get eventsSubmitted(): bigint {
    return this.bpf.percpuSum(ObiMap.stats, ObiStat.OBI_STAT_EVENTS);
  }

  get eventsDropped(): bigint {
    return this.bpf.percpuSum(ObiMap.stats, ObiStat.OBI_STAT_DROPPED);
  }

  /**
   * Stop capturing the socket I/O of (pid, fd), a connection user space recognises no protocol on,
   * if the kernel's entry for it is still the socket `sockId` (an fd closed and reused since is left
   * alone). The entry goes with the fd's close. False when there is no such entry (closed, evicted).
   */
  muteConn(pid: number, fd: number, sockId: bigint): boolean {
    const key = Buffer.alloc(8);
    key.writeUInt32LE(pid, 0);
    key.writeUInt32LE(fd >>> 0, 4);
    const v = this.bpf.mapLookup(ObiMap.conns, key);
    if (v === null || v.length < OBI_CONN_INFO_SIZE || v.readBigUInt64LE(ObiConnInfoOffsets.sockId) !== sockId) return false;
    if (v[ObiConnInfoOffsets.muted] === 1) return true;
    v[ObiConnInfoOffsets.muted] = 1;
    try {
      // BPF_EXIST: a close that deleted it meanwhile is not undone. The update replaces the element,
      // so a flag the kernel set on it in between (tls, h2) is lost: on a connection no protocol was
      // recognised on that costs nothing, since its socket I/O is skipped from now on
      this.bpf.mapUpdate(ObiMap.conns, key, v, BPF_EXIST);
      return true;
    } catch (err) {
      if (!AgentError.is(err)) throw err;
      return false;
    }
  }

  /** socket reads and writes of muted connections the kernel skipped */
  get mutedIo(): bigint {
    return this.bpf.percpuSum(ObiMap.stats, ObiStat.OBI_STAT_MUTED);
  }

  /**
   * TLS library reads and writes the uprobes intercepted: of selected processes, and of other
   * processes running the same library file (the probes are per file: their calls pay the uprobe trap
   * too, and the program returns at once)
   */
  get tlsCalls(): TlsCallCounts {
    const sum = (i: number): number => Number(this.bpf.percpuSum(ObiMap.stats, i));
    return { selected: sum(ObiStat.OBI_STAT_TLS_CALLS), other: sum(ObiStat.OBI_STAT_TLS_CALLS_OTHER) };
  }

  /** the larger HTTP capture's kernel counters: records submitted, bytes past the prefix, records lost */
  get largeCapture(): { records: number; bytes: number; dropped: number } {
    const sum = (i: number): number => Number(this.bpf.percpuSum(ObiMap.stats, i));
    return { records: sum(ObiStat.OBI_STAT_LARGE_RECORDS), bytes: sum(ObiStat.OBI_STAT_LARGE_BYTES), dropped: sum(ObiStat.OBI_STAT_LARGE_DROPPED) };
  }

  /** context propagation counters: TCP options written, options read, server requests given a remote parent by one */
  get propagation(): { written: number; read: number; used: number } {
    const sum = (i: number): number => Number(this.bpf.percpuSum(ObiMap.stats, i));
    return { written: sum(ObiStat.OBI_STAT_PROP_WRITTEN), read: sum(ObiStat.OBI_STAT_PROP_READ), used: sum(ObiStat.OBI_STAT_PROP_USED) };
  }

  /** `headers`: the sk_msg program's counters (probes/inject.h) */
  get injection(): HeaderInjectionCounts {
    const sum = (i: number): number => Number(this.bpf.percpuSum(ObiMap.stats, i));
    return {
      injected: sum(ObiStat.OBI_STAT_HDR_INJECTED),
      present: sum(ObiStat.OBI_STAT_HDR_PRESENT),
      boundary: sum(ObiStat.OBI_STAT_HDR_BOUNDARY),
      tls: sum(ObiStat.OBI_STAT_HDR_TLS),
      other: sum(ObiStat.OBI_STAT_HDR_OTHER),
      evicted: sum(ObiStat.OBI_STAT_HDR_EVICTED),
      h2: sum(ObiStat.OBI_STAT_HDR_H2),
      h2Lost: sum(ObiStat.OBI_STAT_HDR_H2_LOST),
    };
  }

  /** what runs now (enum obi_prop_ctl bits): header injection on new connections, the TCP option */
  setPropControl(bits: number): void {
    const val = Buffer.alloc(4);
    val.writeUInt32LE(bits);
    this.bpf.mapUpdate(ObiMap.prop_ctl, Buffer.alloc(4), val, BPF_ANY);
  }

  /** how the kernel decides the client request ids of `pid` (enum obi_prop_mode), or undefined to forget it */
  setPropMode(pid: number, mode: number | undefined): void {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid);
    if (mode === undefined) {
      this.bpf.mapDelete(ObiMap.prop_pids, key);
      return;
    }
    const val = Buffer.alloc(OBI_PROP_PID_SIZE);
    val.writeUInt32LE(mode, ObiPropPidOffsets.mode);
    this.bpf.mapUpdate(ObiMap.prop_pids, key, val, BPF_ANY);
  }

  /** Detach the tracepoints (each costs an RCU grace period), leaving maps readable for a last drain. */
  detach(): void {
    for (const l of this._links) {
      try {
        this.bpf.detach(l);
      } catch {
        /* already gone */
      }
    }
    this._links = [];
  }

  close(): void {
    this.detach();
    this.bpf.close();
  }
}
