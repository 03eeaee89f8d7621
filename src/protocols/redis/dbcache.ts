/**
 * OBI's Redis database-number cache (`ebpf.redis_db_cache`): which DB index each connection
 * selected with `SELECT n`, for `db.namespace`. Disabled by default, as in OBI: then no
 * connection remembers its `SELECT`. Enabled, at most `maxSize` connections remember theirs;
 * the one that selected least recently forgets it first. A connection leaves the cache when it
 * closes (or sends `RESET`).
 */

/** What the cache holds of a connection's parser state. */
export interface RedisDbHolder {
  db?: string;
}

export const DEFAULT_REDIS_DB_CACHE_SIZE = 1000;

export class RedisDbCache {
  readonly maxSize: number;
  /** connections that remember a DB index, least recently selected first */
  private readonly _lru = new Set<RedisDbHolder>();

  constructor(maxSize = DEFAULT_REDIS_DB_CACHE_SIZE) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`redis db cache max_size must be a positive integer, got ${maxSize}`);
    this.maxSize = maxSize;
  }

  get size(): number {
    return this._lru.size;
  }

  /** `holder` selected DB `db`: remember it, and forget the least recent one beyond maxSize */
  select(holder: RedisDbHolder, db: string): void {
    holder.db = db;
    this._lru.delete(holder);
    this._lru.add(holder);
    if (this._lru.size > this.maxSize) {
      const oldest = this._lru.values().next().value as RedisDbHolder;
      this._lru.delete(oldest);
      oldest.db = undefined;
    }
  }

  /** the connection closed or reset: it no longer counts */
  forget(holder: RedisDbHolder): void {
    holder.db = undefined;
    this._lru.delete(holder);
  }
}
