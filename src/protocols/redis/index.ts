/**
 * Redis (RESP2 / RESP3) protocol support: `redisParser` implements the shared ProtocolParser
 * contract; `redisQueryText` builds `db.query.text` with argument values masked.
 */
import type { ProtocolParser } from '../common/contract.ts';
import { detectRedis, findRedisFrameBoundary } from './detect.ts';
import { newRedisState, parseRedisFrame } from './parse.ts';
import type { RedisState } from './parse.ts';
import { stitchRedis } from './stitch.ts';
import type { RedisCommandFrame, RedisFrame, RedisOperation, RedisReplyFrame } from './types.ts';

export const redisParser: ProtocolParser<RedisCommandFrame, RedisReplyFrame, RedisOperation, RedisState> = Object.freeze({
  name: 'redis',
  detect: detectRedis,
  newState: newRedisState,
  findFrameBoundary: findRedisFrameBoundary,
  parseFrame: parseRedisFrame as ProtocolParser<RedisCommandFrame, RedisReplyFrame, RedisOperation, RedisState>['parseFrame'],
  stitch: stitchRedis,
});

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

export { detectRedis, findRedisFrameBoundary, isRedisCommand, isRedisReply } from './detect.ts';
export { parseRedisFrame, newRedisState, MAX_ARG, MAX_DEPTH, MAX_LINE } from './parse.ts';
export type { RedisState } from './parse.ts';
export { stitchRedis } from './stitch.ts';
export type { RedisCommandFrame, RedisFrame, RedisOperation, RedisReplyFrame } from './types.ts';
