/**
 * Memcached text and binary protocol: frames and records.
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DbRecord } from '../common/records.ts';

export interface McRequestFrame extends FrameTiming {
  readonly binary: boolean;
  /** command, upper case, variants folded as OBI does (`gets` → `GET`, `gats` → `GAT`, binary GETK/GETQ → `GET`) */
  readonly command?: string;
  /** keys named by the command (at most {@link MAX_KEYS}) */
  readonly keys: readonly string[];
  /** keys named in total */
  readonly keyCount: number;
  /** text `noreply`, or a binary quiet opcode: no answer on success */
  readonly quiet: boolean;
  /** binary: the opaque echoed by the answer */
  readonly opaque: number;
  readonly truncated: boolean;
}

export interface McResponseFrame extends FrameTiming {
  readonly binary: boolean;
  /** `ERROR`, `CLIENT_ERROR`, `SERVER_ERROR` (binary statuses mapped to these) */
  readonly errorType?: string;
  readonly errorMessage?: string;
  /** binary: status and opaque */
  readonly status: number;
  readonly opaque: number;
  /** values returned (retrievals) */
  readonly values: number;
  readonly truncated: boolean;
}

export type McFrame = McRequestFrame | McResponseFrame;

export interface McOperation extends DbRecord {
  readonly system: 'memcached';
  readonly keys: readonly string[];
  readonly keyCount: number;
  /** sent with noreply / a quiet opcode: no answer, the span has no duration */
  readonly noreply: boolean;
  readonly binary: boolean;
  /** retrievals: values found */
  readonly hits?: number;
  readonly truncated: boolean;
}

/** keys kept per command */
export const MAX_KEYS = 8;
