/**
 * The server spans of one connection that passed the Node.js linker without a report
 * (telemetry/node-links.ts): when each passed, when it ran, and its ids, for a report that comes
 * later. At most `cap`, the oldest overwritten; a slot taken by a report is removed in place.
 *
 * Kept in typed arrays, not as objects: every server span of an attached process leaves an entry
 * that lives for its connection's next `cap` requests, hundreds of milliseconds under load, long
 * enough for V8 to promote an object (and the span's id strings and request ctx it held) to the
 * old generation. Beside the bench's Node.js server that promotion held the agent's steady RSS at
 * 159-179 MB; with these arrays, 122-123 MB (docs/devdocs/architecture.md, "Memory").
 * The ids are stored as bytes and made into strings again only for the rare late report.
 */
import { SpanCtx } from '../common/trace.ts';

/** what a client span takes from its server span (node-links.ts) */
export interface PassedIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  /** the server span's place in its trace, for the spans joined under the client later */
  readonly ctx: SpanCtx;
}

/** bytes of one slot's ids: trace id, span id */
const ID_BYTES = 24;
const HEX = /^[0-9a-f]*$/;

export class PassedServers {
  private readonly _cap: number;
  /** per slot: when it passed (agent clock), its span's start and end (NaN once taken) */
  private _ns: Float64Array;
  private _ids: Buffer;
  private _flags: Uint8Array;
  /** oldest slot */
  private _head = 0;
  /** slots from `_head`, taken ones included */
  private _n = 0;
  /** slots not taken */
  private _live = 0;

  constructor(cap: number) {
    this._cap = Math.max(1, cap);
    const first = Math.min(this._cap, 4); // most connections carry a few requests: grown on demand
    this._ns = new Float64Array(first * 3);
    this._ids = Buffer.alloc(first * ID_BYTES);
    this._flags = new Uint8Array(first);
  }

  /** entries not taken */
  get size(): number {
    return this._live;
  }

  /**
   * A server span passed at `atNs`; false (nothing kept) when its ids are not the lowercase hex
   * of W3C trace context (a span the linker cannot name later).
   */
  push(atNs: number, startNs: number, endNs: number, traceId: string, spanId: string, traceFlags: number): boolean {
    if (traceId.length !== 32 || spanId.length !== 16 || !HEX.test(traceId) || !HEX.test(spanId)) return false;
    if (this._n === this._slots && this._slots < this._cap) this._grow();
    if (this._n === this._slots) {
      if (!Number.isNaN(this._ns[this._head * 3 + 1]!)) this._live--;
      this._head = (this._head + 1) % this._slots;
      this._n--;
    }
    const i = (this._head + this._n) % this._slots;
    this._ns[i * 3] = atNs;
    this._ns[i * 3 + 1] = startNs;
    this._ns[i * 3 + 2] = endNs;
    this._ids.write(traceId, i * ID_BYTES, 16, 'hex');
    this._ids.write(spanId, i * ID_BYTES + 16, 8, 'hex');
    this._flags[i] = traceFlags;
    this._n++;
    this._live++;
    return true;
  }

  /** the oldest entry whose span ran at `t` (start ≤ t ≤ end), taken: its ids; undefined when none */
  take(t: number): PassedIds | undefined {
    for (let k = 0; k < this._n; k++) {
      const i = (this._head + k) % this._slots;
      const start = this._ns[i * 3 + 1]!;
      if (start <= t && t <= this._ns[i * 3 + 2]!) {
        this._ns[i * 3 + 1] = NaN;
        this._live--;
        const traceId = this._ids.toString('hex', i * ID_BYTES, i * ID_BYTES + 16);
        const spanId = this._ids.toString('hex', i * ID_BYTES + 16, i * ID_BYTES + 24);
        const traceFlags = this._flags[i]!;
        return { traceId, spanId, traceFlags, ctx: SpanCtx.passed(traceId, spanId, traceFlags) };
      }
    }
    return undefined;
  }

  /** does an entry not taken start after `t` (a later request of the connection passed)? */
  startsAfter(t: number): boolean {
    for (let k = 0; k < this._n; k++) if (this._ns[((this._head + k) % this._slots) * 3 + 1]! > t) return true;
    return false;
  }

  /** forgets the entries that passed before `boundNs`; the number left */
  expire(boundNs: number): number {
    while (this._n > 0) {
      const i = this._head;
      if (this._ns[i * 3]! >= boundNs) break;
      if (!Number.isNaN(this._ns[i * 3 + 1]!)) this._live--;
      this._head = (i + 1) % this._slots;
      this._n--;
    }
    return this._live;
  }

  private get _slots(): number {
    return this._flags.length;
  }

  /** doubles the slots (up to the cap), the entries moved to the start in order */
  private _grow(): void {
    const from = this._slots;
    const to = Math.min(this._cap, from * 2);
    const ns = new Float64Array(to * 3);
    const ids = Buffer.alloc(to * ID_BYTES);
    const flags = new Uint8Array(to);
    for (let k = 0; k < this._n; k++) {
      const i = (this._head + k) % from;
      ns.set(this._ns.subarray(i * 3, i * 3 + 3), k * 3);
      this._ids.copy(ids, k * ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES);
      flags[k] = this._flags[i]!;
    }
    this._ns = ns;
    this._ids = ids;
    this._flags = flags;
    this._head = 0;
  }
}
