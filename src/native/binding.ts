/**
 * Typed facade over the N-API addon (build/native/obi_native.node). The addon
 * only loads, attaches, drains and touches maps; argument validation and errno
 * → AgentError translation live here.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError, type ErrorCode } from '../errors.ts';

type Handle = { readonly __brand: 'BpfObjectHandle' };

interface NativeAddon {
  open(path: string): Handle;
  setGlobal(h: Handle, name: string, value: Buffer): void;
  setMapMaxEntries(h: Handle, map: string, n: number): void;
  load(h: Handle): void;
  programs(h: Handle): { name: string; section: string }[];
  attach(h: Handle, prog: string): number;
  attachUprobe(h: Handle, prog: string, retprobe: boolean, pid: number, path: string, offset: number): number;
  attachCgroup(h: Handle, prog: string, cgroupDir: string): number;
  attachMap(h: Handle, prog: string, map: string, attachType: number): void;
  setMapAutocreate(h: Handle, map: string, on: boolean): void;
  setAutoload(h: Handle, prog: string, on: boolean): void;
  detach(h: Handle, link: number): void;
  detachAsync(h: Handle, link: number): Promise<void>;
  close(h: Handle): void;
  mapUpdate(h: Handle, map: string, key: Buffer, value: Buffer, flags: number): void;
  mapLookup(h: Handle, map: string, key: Buffer): Buffer | null;
  mapDelete(h: Handle, map: string, key: Buffer): boolean;
  mapKeys(h: Handle, map: string): Buffer[];
  mapBits(h: Handle, map: string, index: number, mask: bigint, set: boolean): void;
  ringbufStart(h: Handle, map: string, intervalMs: number, cb: (batch: Buffer, length: number) => void): void;
  ringbufDrain(h: Handle): Buffer;
  ringbufPeriod(h: Handle): number;
  ringbufLost(h: Handle): number;
  ringbufStop(h: Handle): void;
  libbpfLog(): string;
  /** effective := permitted capabilities (main thread); returns CapEff as hex */
  raiseCapabilities(): string;
  probeProgType(type: number): number;
  setAttachType(h: Handle, prog: string, type: number): void;
  attachUprobeMulti(h: Handle, prog: string, retprobe: boolean, path: string, offset: number): number;
  /** sched_yield(2) */
  schedYield(): void;
  /** the calling thread's fair-scheduler time slice (sched_setattr's sched_runtime); 0 or an errno */
  setSchedSlice(ns: number): number;
}

/**
 * The checkout or the installed tree (`make install`: /opt/obi-ts, the Docker image): the nearest
 * folder above this module holding the launcher `bin/obi-ts` (from src/ when run from source,
 * from build/js/src/ when compiled).
 */
export const projectRoot = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'obi-ts')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const defaultAddonPath = join(projectRoot, 'build', 'native', 'obi_native.node');
export const defaultBpfObjectPath = join(projectRoot, 'build', 'bpf', 'obi.bpf.o');

let cached: NativeAddon | undefined;

export function loadBinding(path = defaultAddonPath): NativeAddon {
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new AgentError('OBI_ERR_NATIVE_LOAD', `native addon not built: ${path} is missing (run "make build")`);
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (cause) {
    throw new AgentError('OBI_ERR_NATIVE_LOAD', `cannot load native addon ${path}: ${(cause as Error).message}`, { cause });
  }
  return cached;
}

/** BPF program types (linux/bpf.h enum bpf_prog_type) that `probeProgType` is asked about */
export const BPF_PROG_TYPE = { KPROBE: 2, TRACEPOINT: 5, SOCK_OPS: 13, SK_SKB: 14, SK_MSG: 16 } as const;

/**
 * Whether the kernel loads a trivial program of `type` for this process (libbpf's feature
 * probe): 1 yes, 0 not supported by the kernel, a negative errno when refused (-1 EPERM: a
 * capability is missing).
 */
export function probeProgType(type: number, addon = loadBinding()): number {
  return addon.probeProgType(type);
}

/** sched_yield(2): the threads queued on this CPU run before the caller goes on */
export function schedYield(addon = loadBinding()): void {
  addon.schedYield();
}

/**
 * The calling thread's time slice under the fair scheduler (Linux >= 6.12: sched_attr's
 * sched_runtime for SCHED_OTHER, clamped by the kernel to 100 µs..100 ms); 0, or the errno (EINVAL on older kernels).
 */
export function setSchedSlice(ns: number, addon = loadBinding()): number {
  return addon.setSchedSlice(ns);
}

/** enum bpf_attach_type BPF_TRACE_UPROBE_MULTI (Linux >= 6.6) */
const BPF_TRACE_UPROBE_MULTI = 48;

/**
 * Whether uprobes can be attached through BPF links (uprobe_multi, Linux >= 6.6). The uprobe
 * perf PMU, the other way, refuses a process without CAP_SYS_ADMIN even with CAP_PERFMON.
 */
export function uprobeMultiSupported(kernel = release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 6));
}

/** map update flags (linux/bpf.h) */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

function translate(err: unknown, fallback: ErrorCode, what: string, addon?: NativeAddon): AgentError {
  if (AgentError.is(err)) return err;
  const e = err as Error & { code?: string; errno?: number };
  const code: ErrorCode = e.code === 'OBI_ERR_BPF_MAP' || e.code === 'OBI_ERR_BPF_LOAD' ? e.code : fallback;
  let message = `${what}: ${e.message}`;
  if (code === 'OBI_ERR_BPF_LOAD' && addon) {
    const log = addon.libbpfLog().trim();
    if (log) message += `\nlibbpf said (tail):\n${log.split('\n').slice(-12).join('\n')}`;
  }
  const out = new AgentError(code, message, { cause: err });
  (out as AgentError & { errno?: number }).errno = e.errno;
  return out;
}

/** One BPF object file: open → set tunables → load → attach → maps/ring buffer → close. */
export class BpfObject {
  readonly path: string;
  private readonly _addon: NativeAddon;
  private _h: Handle | undefined;
  private _loaded = false;
  private _uprobeMulti = false;

  constructor(path = defaultBpfObjectPath, addon = loadBinding()) {
    this.path = path;
    this._addon = addon;
    if (!existsSync(path)) throw new AgentError('OBI_ERR_BPF_LOAD', `BPF object not built: ${path} is missing (run "make build")`);
    this._h = this._call(() => addon.open(path), 'OBI_ERR_BPF_LOAD', `open ${path}`);
  }

  private get _handle(): Handle {
    if (!this._h) throw new AgentError('OBI_ERR_BPF_LOAD', `BPF object ${this.path} is closed`);
    return this._h;
  }

  private _call<T>(fn: () => T, code: ErrorCode, what: string): T {
    try {
      return fn();
    } catch (err) {
      throw translate(err, code, what, this._addon);
    }
  }

  /** Set a `const volatile` global before load: u32/u64 numbers or raw bytes. */
  setGlobal(name: string, value: number | bigint | Buffer, width: 4 | 8 = 4): void {
    let buf: Buffer;
    if (Buffer.isBuffer(value)) buf = value;
    else {
      buf = Buffer.alloc(width);
      if (width === 4) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
          throw new AgentError('OBI_ERR_BPF_LOAD', `global ${name}: ${String(value)} is not a u32`);
        }
        buf.writeUInt32LE(value);
      } else buf.writeBigUInt64LE(BigInt(value));
    }
    this._call(() => this._addon.setGlobal(this._handle, name, buf), 'OBI_ERR_BPF_LOAD', `set global ${name}`);
  }

  setMapMaxEntries(map: string, n: number): void {
    if (!Number.isInteger(n) || n <= 0) throw new AgentError('OBI_ERR_BPF_MAP', `map ${map}: max entries ${n} invalid`);
    this._call(() => this._addon.setMapMaxEntries(this._handle, map, n), 'OBI_ERR_BPF_MAP', `size map ${map}`);
  }

  /**
   * Before load: the uprobe programs (sections uprobe/uretprobe) are loaded for uprobe_multi
   * links, and attachUprobe makes such links (no CAP_SYS_ADMIN needed); see uprobeMultiSupported.
   */
  useUprobeMulti(): void {
    for (const p of this.programs()) {
      if (/^u(ret)?probe/.test(p.section)) this._call(() => this._addon.setAttachType(this._handle, p.name, BPF_TRACE_UPROBE_MULTI), 'OBI_ERR_BPF_LOAD', `set attach type of ${p.name}`);
    }
    this._uprobeMulti = true;
  }

  load(): void {
    this._call(() => this._addon.load(this._handle), 'OBI_ERR_BPF_LOAD', `load ${this.path}`);
    this._loaded = true;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  programs(): { name: string; section: string }[] {
    return this._addon.programs(this._handle);
  }

  /** attach by section (tracepoint/raw_tracepoint); returns a link id */
  attach(prog: string): number {
    return this._call(() => this._addon.attach(this._handle, prog), 'OBI_ERR_BPF_LOAD', `attach ${prog}`);
  }

  attachUprobe(prog: string, opts: { retprobe: boolean; pid: number; path: string; offset: number }): number {
    if (this._uprobeMulti && opts.pid === -1) {
      return this._call(
        () => this._addon.attachUprobeMulti(this._handle, prog, opts.retprobe, opts.path, opts.offset),
        'OBI_ERR_BPF_LOAD',
        `attach uprobe ${prog} to ${opts.path}+0x${opts.offset.toString(16)}`,
      );
    }
    return this._call(
      () => this._addon.attachUprobe(this._handle, prog, opts.retprobe, opts.pid, opts.path, opts.offset),
      'OBI_ERR_BPF_LOAD',
      `attach uprobe ${prog} to ${opts.path}+0x${opts.offset.toString(16)}`,
    );
  }

  /** before load: whether load() loads `prog` (a sockops program needs CAP_NET_ADMIN to load) */
  setAutoload(prog: string, on: boolean): void {
    this._call(() => this._addon.setAutoload(this._handle, prog, on), 'OBI_ERR_BPF_LOAD', `set autoload of ${prog}`);
  }

  /** attach a cgroup program (sockops) to one cgroup v2 directory; returns a link id */
  attachCgroup(prog: string, cgroupDir: string): number {
    return this._call(() => this._addon.attachCgroup(this._handle, prog, cgroupDir), 'OBI_ERR_BPF_LOAD', `attach ${prog} to cgroup ${cgroupDir}`);
  }

  /** before load: whether load() creates `map` (a sockhash needs CAP_NET_ADMIN) */
  setMapAutocreate(map: string, on: boolean): void {
    this._call(() => this._addon.setMapAutocreate(this._handle, map, on), 'OBI_ERR_BPF_MAP', `set autocreate of ${map}`);
  }

  /** attach an sk_msg / sk_skb program to a sockhash (for the object's life) */
  attachMap(prog: string, map: string, attachType: number): void {
    this._call(() => this._addon.attachMap(this._handle, prog, map, attachType), 'OBI_ERR_BPF_LOAD', `attach ${prog} to map ${map}`);
  }

  detach(link: number): void {
    this._call(() => this._addon.detach(this._handle, link), 'OBI_ERR_BPF_LOAD', `detach link ${link}`);
  }

  /**
   * Detach on a libuv worker: the link is gone from this object at once, the kernel teardown
   * (RCU grace periods, ~70 ms per tracepoint or probe link) does not block the event loop.
   */
  detachAsync(link: number): Promise<void> {
    return this._call(() => this._addon.detachAsync(this._handle, link), 'OBI_ERR_BPF_LOAD', `detach link ${link}`);
  }

  mapUpdate(map: string, key: Buffer, value: Buffer, flags = BPF_ANY): void {
    this._call(() => this._addon.mapUpdate(this._handle, map, key, value, flags), 'OBI_ERR_BPF_MAP', `update ${map}`);
  }

  mapLookup(map: string, key: Buffer): Buffer | null {
    return this._call(() => this._addon.mapLookup(this._handle, map, key), 'OBI_ERR_BPF_MAP', `lookup ${map}`);
  }

  mapDelete(map: string, key: Buffer): boolean {
    return this._call(() => this._addon.mapDelete(this._handle, map, key), 'OBI_ERR_BPF_MAP', `delete ${map}`);
  }

  mapKeys(map: string): Buffer[] {
    return this._call(() => this._addon.mapKeys(this._handle, map), 'OBI_ERR_BPF_MAP', `keys of ${map}`);
  }

  /**
   * Atomically set (or clear) the bits of `mask` in u64 slot `index` of an mmapable ARRAY map, as
   * the kernel changes the same words concurrently.
   */
  mapBits(map: string, index: number, mask: bigint, set: boolean): void {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`index must be a u32, got ${index}`);
    if (mask < 0n || mask > 0xffffffffffffffffn) throw new RangeError(`mask must be a u64, got ${mask}`);
    this._call(() => this._addon.mapBits(this._handle, map, index, mask, set), 'OBI_ERR_BPF_MAP', `bits of ${map}`);
  }

  /** Sum of a per-CPU u64 array slot over all CPUs. */
  percpuSum(map: string, index: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    const v = this.mapLookup(map, key);
    if (!v) return 0n;
    let sum = 0n;
    for (let o = 0; o + 8 <= v.length; o += 8) sum += v.readBigUInt64LE(o);
    return sum;
  }

  /**
   * Drain `map` every `intervalMs` (and on forced wake-ups); one callback per drain, none for an
   * empty one. While the ring stays empty the period doubles after every 10 empty drains, up to
   * 100 ms; a drain that finds records, or a forced wake-up, restores `intervalMs`.
   * `batch` is a view of the one Buffer the ring keeps and writes every drain into: it, and every
   * view of it, is valid during the call only. Copy what must outlive it.
   */
  ringbufStart(map: string, intervalMs: number, onBatch: (batch: Buffer) => void): void {
    const cb = (batch: Buffer, length: number): void => onBatch(batch.subarray(0, length));
    this._call(() => this._addon.ringbufStart(this._handle, map, intervalMs, cb), 'OBI_ERR_BPF_MAP', `start ring buffer ${map}`);
  }

  /** one synchronous drain (shutdown), into a Buffer of its own */
  ringbufDrain(): Buffer {
    return this._call(() => this._addon.ringbufDrain(this._handle), 'OBI_ERR_BPF_MAP', 'drain ring buffer');
  }

  /** the drain timer's period now, in ms: `intervalMs`, or longer while the ring is idle */
  ringbufPeriod(): number {
    return this._call(() => this._addon.ringbufPeriod(this._handle), 'OBI_ERR_BPF_MAP', 'ring buffer period');
  }

  /** records the drains consumed from the ring but could not keep (no memory for the batch): lost, and counted here */
  ringbufLost(): number {
    return this._call(() => this._addon.ringbufLost(this._handle), 'OBI_ERR_BPF_MAP', 'ring buffer lost records');
  }

  ringbufStop(): void {
    this._call(() => this._addon.ringbufStop(this._handle), 'OBI_ERR_BPF_MAP', 'stop ring buffer');
  }

  /** Detach everything and free the object (idempotent). */
  close(): void {
    if (this._h) this._addon.close(this._h);
    this._h = undefined;
  }
}
