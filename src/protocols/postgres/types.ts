/**
 * PostgreSQL frontend/backend protocol v3: frames and records.
 *
 * A request frame is one *unit* the server answers with exactly one ReadyForQuery: a simple
 * Query, an extended-protocol batch ending with Sync (Parse / Bind / Describe / Execute ...),
 * a FunctionCall, or the startup message (answered after authentication). A response frame is
 * everything the server sent up to and including that ReadyForQuery (a *cycle*).
 */
import type { FrameTiming } from '../common/contract.ts';
import type { DbRecord } from '../common/records.ts';

/** One Execute of an extended-protocol batch. */
export interface PgExecute {
  /** the statement text (from its Parse, remembered per connection); undefined if never seen */
  readonly query?: string;
  /** the prepared statement's name (`''` for the unnamed statement) */
  readonly statement: string;
}

export interface PgRequestFrame extends FrameTiming {
  readonly kind: 'query' | 'extended' | 'startup' | 'function';
  /** simple query text (possibly cut by the capture) */
  readonly query?: string;
  /** extended batch: its Executes, in order */
  readonly executes: readonly PgExecute[];
  /** extended batch: statement texts of its Parse messages (named for a failed Parse) */
  readonly parses: readonly string[];
  /** part of the unit was not captured */
  readonly truncated: boolean;
}

export interface PgError {
  /** SQLSTATE (`42P01`) */
  readonly code?: string;
  readonly message?: string;
  readonly severity?: string;
  /** Executes completed before the error (the one that failed is the next) */
  readonly afterCompletions: number;
  readonly atNs: number;
}

export interface PgResponseFrame extends FrameTiming {
  readonly kind: 'cycle';
  /** CommandComplete tags / EmptyQueryResponse / PortalSuspended, in order, with their time */
  readonly completions: readonly { readonly tag?: string; readonly atNs: number }[];
  readonly error?: PgError;
  /** the cycle was not fully seen */
  readonly truncated: boolean;
}

export type PgFrame = PgRequestFrame | PgResponseFrame;

/** One statement execution. */
export interface PgOperation extends DbRecord {
  readonly system: 'postgresql';
  /** statement text as captured (mask it before export) */
  readonly query?: string;
  /** prepared statement name, for executes of named statements */
  readonly statement?: string;
  readonly truncated: boolean;
}
