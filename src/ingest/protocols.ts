/**
 * The protocols the ingest stage can recognise, in detection order (reference
 * §4.6), each bound to the function that turns its records into spans.
 * Adding a protocol = one entry here plus its folder under src/protocols/.
 */
import type { ServiceIdentity } from '../common/service.ts';
import type { FrameTiming, ProtocolParser } from '../protocols/common/contract.ts';
import { http1Parser } from '../protocols/http1/index.ts';
import type { HttpExchange } from '../protocols/http1/types.ts';
import { maskSql } from '../protocols/common/sql.ts';
import { memcachedParser, memcachedQueryText } from '../protocols/memcached/index.ts';
import type { McOperation } from '../protocols/memcached/types.ts';
import { createMysqlParser, mysqlParser } from '../protocols/mysql/index.ts';
import type { MysqlOperation } from '../protocols/mysql/types.ts';
import { createPgParser, pgParser } from '../protocols/postgres/index.ts';
import type { PgOperation } from '../protocols/postgres/types.ts';
import { createRedisParser, redisParser, redisQueryText } from '../protocols/redis/index.ts';
import type { RedisOperation } from '../protocols/redis/types.ts';
import { dbSpan } from '../telemetry/db.ts';
import type { IdSource } from '../telemetry/ids.ts';
import { httpSpan, type Span } from '../telemetry/span.ts';
import type { ConnInfo } from '../common/conn.ts';
import type { RouteResolver } from '../telemetry/types.ts';

/** What a span builder may use besides the record. */
export interface SpanContext {
  readonly ids: IdSource;
  readonly route: RouteResolver;
  /** `db.query.text` is selected (`attributes.select.traces`): DB spans carry it, literals masked */
  readonly queryText?: boolean;
}

export interface ProtocolBinding<Rec = unknown> {
  /** name used by `instrumentations` (http, sql, redis, memcached, ...) */
  readonly instrumentation: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly parser: ProtocolParser<FrameTiming, FrameTiming, Rec, any>;
  toSpan(rec: Rec, conn: ConnInfo, service: ServiceIdentity, ctx: SpanContext): Span | undefined;
}

export const httpBinding: ProtocolBinding<HttpExchange> = {
  instrumentation: 'http',
  parser: http1Parser,
  toSpan: (rec, conn, service, ctx) => httpSpan(rec, conn, service, ctx.route, ctx.ids),
};

export const postgresBinding: ProtocolBinding<PgOperation> = {
  instrumentation: 'sql',
  parser: pgParser,
  toSpan: (rec, conn, service, ctx) =>
    dbSpan(rec, conn, service, ctx.ids, ctx.queryText === true && rec.query !== undefined ? { queryText: maskSql(rec.query, 'postgresql') } : undefined),
};

export const mysqlBinding: ProtocolBinding<MysqlOperation> = {
  instrumentation: 'sql',
  parser: mysqlParser,
  toSpan: (rec, conn, service, ctx) =>
    dbSpan(rec, conn, service, ctx.ids, ctx.queryText === true && rec.query !== undefined ? { queryText: maskSql(rec.query, 'mysql') } : undefined),
};

export const redisBinding: ProtocolBinding<RedisOperation> = {
  instrumentation: 'redis',
  parser: redisParser,
  toSpan: (rec, conn, service, ctx) => dbSpan(rec, conn, service, ctx.ids, ctx.queryText === true ? { queryText: redisQueryText(rec) } : undefined),
};

export const memcachedBinding: ProtocolBinding<McOperation> = {
  instrumentation: 'memcached',
  parser: memcachedParser,
  toSpan: (rec, conn, service, ctx) => dbSpan(rec, conn, service, ctx.ids, ctx.queryText === true ? { queryText: memcachedQueryText(rec) } : undefined),
};

/** detection order: the first binding whose parser detects the first bytes owns the connection */
export const DEFAULT_PROTOCOLS: readonly ProtocolBinding[] = [
  httpBinding as ProtocolBinding,
  postgresBinding as ProtocolBinding,
  mysqlBinding as ProtocolBinding,
  redisBinding as ProtocolBinding,
  memcachedBinding as ProtocolBinding,
];

/** The parser settings of `ebpf.*` (OBI's DB caches); each omitted one keeps its default. */
export interface ProtocolOptions {
  /** `ebpf.postgres_prepared_statements_cache_size` (default 1024) */
  readonly postgresPreparedStatementsCacheSize?: number;
  /** `ebpf.mysql_prepared_statements_cache_size` (default 1024) */
  readonly mysqlPreparedStatementsCacheSize?: number;
  /** `ebpf.redis_db_cache` (default disabled: no `db.namespace` for Redis; max_size 1000) */
  readonly redisDbCache?: { readonly enabled: boolean; readonly maxSize?: number };
}

/** ProtocolOptions from the `ebpf` section of the configuration. */
export function protocolOptionsFromConfig(ebpf: {
  readonly postgres_prepared_statements_cache_size: number;
  readonly mysql_prepared_statements_cache_size: number;
  readonly redis_db_cache: { readonly enabled: boolean; readonly max_size: number };
}): ProtocolOptions {
  return {
    postgresPreparedStatementsCacheSize: ebpf.postgres_prepared_statements_cache_size,
    mysqlPreparedStatementsCacheSize: ebpf.mysql_prepared_statements_cache_size,
    redisDbCache: { enabled: ebpf.redis_db_cache.enabled, maxSize: ebpf.redis_db_cache.max_size },
  };
}

/** DEFAULT_PROTOCOLS, in the same order, with parsers built from `opts`. */
export function createProtocols(opts: ProtocolOptions = {}): readonly ProtocolBinding[] {
  return DEFAULT_PROTOCOLS.map((b) => {
    if (b === postgresBinding) return { ...postgresBinding, parser: createPgParser({ preparedStatementsCacheSize: opts.postgresPreparedStatementsCacheSize }) } as ProtocolBinding;
    if (b === mysqlBinding) return { ...mysqlBinding, parser: createMysqlParser({ preparedStatementsCacheSize: opts.mysqlPreparedStatementsCacheSize }) } as ProtocolBinding;
    if (b === redisBinding) return { ...redisBinding, parser: createRedisParser({ dbCache: opts.redisDbCache }) } as ProtocolBinding;
    return b;
  });
}
