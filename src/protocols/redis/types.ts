/**
 * Redis (RESP2 / RESP3) frames and records.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DbRecord } from '../common/records.ts';

/** One command sent to the server (a RESP array of bulk strings, or an inline command line). */
export interface RedisCommandFrame extends FrameTiming {
  readonly kind: 'command';
  /** command name, upper case; undefined when it was not captured */
  readonly command?: string;
  /** first argument (the key for most commands), as captured (at most 128 bytes) */
  readonly firstArg?: string;
  /** second argument when the command has a sub-command (`CLIENT SETNAME x`, `CONFIG GET y`) */
  readonly secondArg?: string;
  /** number of elements, command name included */
  readonly argc: number;
  /** part of the command was not captured */
  readonly truncated: boolean;
}

/** One top-level value sent by the server. */
export interface RedisReplyFrame extends FrameTiming {
  readonly kind: 'reply';
  /** RESP type byte of the value (`+ - : $ * % ~ > _ , # ! = ( |`) */
  readonly type: number;
  /** for `-` and `!` errors: the error text (prefix and message) */
  readonly error?: string;
  /** for aggregates: element count (-1 for a null aggregate) */
  readonly count: number;
  /** for aggregates: the first element when it is a short string, lower case */
  readonly first?: string;
  /** for aggregates of three elements: the third when it is an integer */
  readonly third?: number;
}

export type RedisFrame = RedisCommandFrame | RedisReplyFrame;

/** One command and its outcome. */
export interface RedisOperation extends DbRecord {
  readonly system: 'redis';
  readonly firstArg?: string;
  readonly secondArg?: string;
  readonly argc: number;
  /** the reply was not fully seen (captured bytes lost); timings are the last bytes seen */
  readonly truncated: boolean;
}
