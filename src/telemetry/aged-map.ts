/**
 * A map whose entries age from the time they were last set, visited oldest first. A JS `Map`
 * keeps insertion order, but entries deleted at its front stay as holes that every walk from the
 * front skips again until the table is rebuilt: with thousands of entries set and dropped per
 * second, "delete the oldest" and "expire the old ones" walked those holes at each call (most of
 * the Node.js linker's time under load). Here the order is a queue with a head index; an entry set
 * again or deleted leaves a stale slot that is skipped once and compacted away.
 */
interface Slot<V> {
  readonly key: string;
  readonly value: V;
  readonly atNs: number;
}

export class AgedMap<V> {
  private readonly _map = new Map<string, Slot<V>>();
  private _order: Slot<V>[] = [];
  private _head = 0;

  get size(): number {
    return this._map.size;
  }

  get(key: string): V | undefined {
    return this._map.get(key)?.value;
  }

  /** sets `key`, aged from `atNs` (the newest: `atNs` never goes back) */
  set(key: string, value: V, atNs: number): void {
    const slot = { key, value, atNs };
    this._map.set(key, slot);
    this._order.push(slot);
  }

  delete(key: string): boolean {
    return this._map.delete(key);
  }

  /** the oldest entry, if any */
  oldest(): { key: string; value: V; atNs: number } | undefined {
    const order = this._order;
    let found: Slot<V> | undefined;
    while (this._head < order.length) {
      const slot = order[this._head]!;
      if (this._map.get(slot.key) === slot) {
        found = slot;
        break;
      }
      this._head++; // stale: set again later, or deleted
    }
    this._compact();
    return found;
  }

  /** removes the oldest entry and returns it */
  shift(): { key: string; value: V; atNs: number } | undefined {
    const slot = this.oldest();
    if (slot === undefined) return undefined;
    this._map.delete(slot.key);
    this._head++;
    this._compact();
    return slot;
  }

  keys(): IterableIterator<string> {
    return this._map.keys();
  }

  *values(): IterableIterator<V> {
    for (const s of this._map.values()) yield s.value;
  }

  clear(): void {
    this._map.clear();
    this._order = [];
    this._head = 0;
  }

  private _compact(): void {
    if (this._head > 1024 && this._head * 2 > this._order.length) {
      this._order = this._order.slice(this._head);
      this._head = 0;
    }
  }
}
