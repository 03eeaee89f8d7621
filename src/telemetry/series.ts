/**
 * Label-value tuples → dense series ids, shared by the metric families of one label list
 * (see {@link SeriesIndex}). A family's hot path resolves a label set once per record to an id
 * here (a trie of Maps keyed by label values: no allocation when the series exists), then does
 * array arithmetic on that id.
 */
export type LabelValue = string | number | boolean;

type Trie = Map<string, Trie | number>;

/** ES2024 string methods (the project's lib is ES2023; Node 24 has them) */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * Label-value tuples → dense series ids (0, 1, 2, …).
 *
 * Expiry (`prometheus_export.ttl` / `otel_metrics_export.ttl`): every `id()` call stamps the
 * series with {@link SeriesIndex.now} (set by the owner once per batch, so the hot path reads
 * no clock); {@link SeriesIndex.expire} removes the series not stamped since a cutoff from the
 * trie, tells the `onRemove` listeners (the histograms and counters sharing the index zero
 * that series) and hands the id out again later. Memory stays bounded by the live series.
 */
/**
 * The trie key and stored value of a label value: its string form, well-formed (Prometheus label
 * values must be valid UTF-8: lone surrogates become U+FFFD). The trie is keyed by the same form
 * that is stored, so a series is found again when it is removed.
 */
function keyOf(v: LabelValue): string {
  const s = (typeof v === 'string' ? v : String(v)) as unknown as WellFormed;
  return s.isWellFormed() ? (s as unknown as string) : s.toWellFormed();
}

export class SeriesIndex {
  /** number of labels in a tuple */
  readonly width: number;
  /** time stamped on the series looked up by `id()` (ms; any monotonic unit the owner likes) */
  now = 0;
  private _root: Trie = new Map();
  private _values: string[][] = [];
  /** last `now` each id was looked up at */
  private _seen: number[] = [];
  /** false for ids removed by `expire` and not handed out again */
  private _alive: boolean[] = [];
  private _free: number[] = [];
  private _removeListeners: ((id: number) => void)[] = [];

  constructor(width: number) {
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`width must be a non-negative integer, got ${width}`);
    this.width = width;
  }

  /** one past the highest id handed out (ids below it may be free: see `live`) */
  get size(): number {
    return this._values.length;
  }

  /** number of series currently in the index */
  get live(): number {
    return this._values.length - this._free.length;
  }

  /** Label values (as exposed strings) of an id. */
  valuesOf(id: number): readonly string[] {
    return this._values[id];
  }

  /** true if `id` names a series (not expired) */
  has(id: number): boolean {
    return this._alive[id] === true;
  }

  /** Call `fn(id)` whenever a series is removed by `expire` (before its id can be reused). */
  onRemove(fn: (id: number) => void): void {
    this._removeListeners.push(fn);
  }

  /**
   * Id of the tuple `vals[0..width)`, allocated on first sight. Numbers and booleans are
   * keyed by their string form, so `404` and `'404'` are the same series.
   */
  id(vals: readonly LabelValue[]): number {
    const w = this.width;
    let id: number | undefined;
    if (w === 0) {
      id = this._alive[0] === true ? 0 : this._add(vals);
      this._seen[id] = this.now;
      return id;
    }
    let node = this._root;
    for (let i = 0; i < w - 1; i++) {
      const k = keyOf(vals[i]);
      let next = node.get(k) as Trie | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(k, next);
      }
      node = next;
    }
    const k = keyOf(vals[w - 1]);
    id = node.get(k) as number | undefined;
    if (id === undefined) {
      id = this._add(vals);
      node.set(k, id);
    }
    this._seen[id] = this.now;
    return id;
  }

  /**
   * Remove every series last looked up before `cutoff` (compared with the stamps of
   * {@link SeriesIndex.now}); returns how many were removed.
   */
  expire(cutoff: number): number {
    let removed = 0;
    const n = this._values.length;
    for (let id = 0; id < n; id++) {
      if (this._alive[id] !== true || this._seen[id] >= cutoff) continue;
      this._remove(id);
      removed++;
    }
    return removed;
  }

  /**
   * Remove one series now (a gauge series whose entity went away); the families sharing the
   * index are told, and the id is handed out again later. No-op for an id not in use.
   */
  remove(id: number): void {
    if (this._alive[id] !== true) return;
    this._remove(id);
  }

  /**
   * Remove now every series whose label at `position` is `value` (the series of a service
   * instance that went away); returns how many. Walks the trie down to `position` only, then the
   * subtrees under `value`: the cost is the number of distinct label prefixes plus the series removed.
   */
  removeWhere(position: number, value: string): number {
    if (!(position >= 0 && position < this.width)) throw new RangeError(`position must be in [0, ${this.width}), got ${position}`);
    const ids: number[] = [];
    const collect = (node: Trie | number, depth: number): void => {
      if (typeof node === 'number') ids.push(node);
      else for (const child of node.values()) collect(child, depth + 1);
    };
    const walk = (node: Trie, depth: number): void => {
      if (depth === position) {
        const hit = node.get(keyOf(value));
        if (hit !== undefined) collect(hit, depth + 1);
        return;
      }
      for (const child of node.values()) walk(child as Trie, depth + 1);
    };
    walk(this._root, 0);
    for (const id of ids) this._remove(id);
    return ids.length;
  }

  private _remove(id: number): void {
    const vals = this._values[id];
    const w = this.width;
    if (w > 0) {
      // walk down keeping the path, delete the leaf, prune maps left empty
      const path: Trie[] = [this._root];
      let node = this._root;
      for (let i = 0; i < w - 1; i++) {
        node = node.get(vals[i]) as Trie;
        path.push(node);
      }
      path[w - 1].delete(vals[w - 1]);
      for (let i = w - 1; i > 0 && path[i].size === 0; i--) path[i - 1].delete(vals[i - 1]);
    }
    this._alive[id] = false;
    for (const fn of this._removeListeners) fn(id);
    this._free.push(id);
  }

  private _add(vals: readonly LabelValue[]): number {
    const strs: string[] = new Array(this.width);
    for (let i = 0; i < this.width; i++) strs[i] = keyOf(vals[i]);
    const reused = this._free.pop();
    if (reused !== undefined) {
      this._values[reused] = strs;
      this._alive[reused] = true;
      return reused;
    }
    this._values.push(strs);
    this._alive.push(true);
    this._seen.push(this.now);
    return this._values.length - 1;
  }
}
