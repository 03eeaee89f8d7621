/**
 * Redis (RESP2 / RESP3) protocol support: `redisParser` implements the shared ProtocolParser
 * contract; `redisQueryText` builds `db.query.text` with argument values masked.
 */
import type { ProtocolParser } from '../common/contract.ts';
import type { ProtocolDescriptor, ProtocolSettings } from '../common/descriptor.ts';
import { detectRedis, findRedisFrameBoundary } from './detect.ts';
import { newRedisState, parseRedisFrame } from './parse.ts';
import type { RedisState } from './parse.ts';
import { stitchRedis } from './stitch.ts';
import { DEFAULT_REDIS_DB_CACHE_SIZE, RedisDbCache } from './dbcache.ts';
import type { RedisCommandFrame, RedisOperation, RedisReplyFrame } from './types.ts';

export interface RedisParserOptions {
  /** `ebpf.redis_db_cache`: `SELECT n` → `db.namespace` only when enabled (default: disabled, as in OBI) */
  readonly dbCache?: { readonly enabled: boolean; readonly maxSize?: number };
}

/** A Redis parser; with the DB cache enabled its connections share one cache of `maxSize` (default 1000). */
export function createRedisParser(opts: RedisParserOptions = {}): ProtocolParser<RedisCommandFrame, RedisReplyFrame, RedisOperation, RedisState> {
  const cache = opts.dbCache?.enabled === true ? new RedisDbCache(opts.dbCache.maxSize ?? DEFAULT_REDIS_DB_CACHE_SIZE) : undefined;
  return Object.freeze({
    newState: () => newRedisState(cache),
    findFrameBoundary: findRedisFrameBoundary,
    parseFrame: parseRedisFrame as ProtocolParser<RedisCommandFrame, RedisReplyFrame, RedisOperation, RedisState>['parseFrame'],
    stitch: stitchRedis,
  });
}

/** Redis with OBI's defaults (no DB cache: no `db.namespace`). */
export const redisParser: ProtocolParser<RedisCommandFrame, RedisReplyFrame, RedisOperation, RedisState> = createRedisParser();

/** commands whose arguments are all secret */
const ALL_SECRET = new Set(['AUTH', 'HELLO', 'MIGRATE']);
/** commands whose first argument is a sub-command, kept with the key after it */
const WITH_SUBCOMMAND = new Set(['CLIENT', 'CONFIG', 'OBJECT', 'XINFO', 'XGROUP', 'SCRIPT', 'FUNCTION', 'CLUSTER', 'COMMAND', 'MEMORY', 'PUBSUB', 'ACL', 'MODULE', 'LATENCY', 'SLOWLOG', 'DEBUG']);

/**
 * `db.query.text` of a Redis command: the command and its key, each other argument as `?`
 * (`SET user:1 ?`, `HSET h ? ?`, `CONFIG SET maxmemory ?`, `AUTH ?`). Undefined when the command was not
 * captured.
 */
export function redisQueryText(op: RedisOperation): string | undefined {
  const cmd = op.operation;
  if (cmd === undefined) return undefined;
  const n = op.argc - 1;
  if (n <= 0) return cmd;
  let keep = ALL_SECRET.has(cmd) ? 0 : WITH_SUBCOMMAND.has(cmd) ? 2 : 1;
  let text = cmd;
  for (let i = 0; i < n; i++) {
    const arg = i === 0 ? op.firstArg : i === 1 ? op.secondArg : undefined;
    if (i < keep && arg !== undefined) text += ` ${arg}`;
    else {
      keep = 0;
      text += ' ?';
    }
  }
  return text;
}


/** Redis RESP2/RESP3 (category `db`). */
export const redis: ProtocolDescriptor<RedisOperation> = Object.freeze({
  name: 'redis',
  wire: 'redis',
  category: 'db',
  detect: detectRedis,
  createParser: (s?: ProtocolSettings) => createRedisParser(s === undefined ? {} : { dbCache: { enabled: s.redis_db_cache.enabled, maxSize: s.redis_db_cache.max_size } }),
  queryText: redisQueryText,
});

export { detectRedis, findRedisFrameBoundary, isRedisCommand, isRedisReply } from './detect.ts';
export { parseRedisFrame, newRedisState, MAX_ARG, MAX_DEPTH, MAX_LINE } from './parse.ts';
export type { RedisState } from './parse.ts';
export { stitchRedis } from './stitch.ts';
export { DEFAULT_REDIS_DB_CACHE_SIZE, RedisDbCache } from './dbcache.ts';
export type { RedisDbHolder } from './dbcache.ts';
export type { RedisCommandFrame, RedisFrame, RedisOperation, RedisReplyFrame } from './types.ts';
