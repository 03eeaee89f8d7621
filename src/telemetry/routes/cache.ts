/**
 * Bounded string→string cache for route resolution, approximating LRU with two generations:
 * lookups hit `young` first, then `old` (a hit in `old` is promoted to `young`); when `young` holds
 * `capacity / 2` entries, `old` is dropped, `young` becomes `old` and a fresh `young` starts.
 * An entry used at least once per generation is never dropped, at most `capacity` entries are held,
 * and a hit costs one or two Map lookups (no reordering, unlike a strict LRU's delete+set).
 */
export class RouteCache {
  readonly capacity: number;
  private readonly _generation: number;
  private _young = new Map<string, string>();
  private _old = new Map<string, string>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError('capacity must be an integer >= 2');
    this.capacity = capacity;
    this._generation = capacity >>> 1;
  }

  get size(): number {
    return this._young.size + this._old.size;
  }

  get(key: string): string | undefined {
    const v = this._young.get(key);
    if (v !== undefined) return v;
    const o = this._old.get(key);
    if (o !== undefined) {
      this._old.delete(key);
      this._insert(key, o);
    }
    return o;
  }

  set(key: string, value: string): void {
    if (this._young.has(key)) {
      this._young.set(key, value);
      return;
    }
    this._old.delete(key);
    this._insert(key, value);
  }

  clear(): void {
    this._young = new Map();
    this._old = new Map();
  }

  private _insert(key: string, value: string): void {
    if (this._young.size >= this._generation) {
      this._old = this._young;
      this._young = new Map();
    }
    this._young.set(key, value);
  }
}
