/** Load generators: wrk (HTTP/1.1 keep-alive, --latency) and redis-benchmark (no pipelining). */
import { parseRedisCsv, parseWrk, type RedisBenchRow, type WrkResult } from './parse.ts';
import { runCommand } from './proc.ts';

export interface WrkOptions {
  readonly url: string;
  /** whole seconds (wrk takes no fractions) */
  readonly durationS: number;
  readonly threads: number;
  readonly connections: number;
  /** a wrk Lua script (`-s`): method, body, headers */
  readonly script?: string;
}

export async function wrk(o: WrkOptions): Promise<WrkResult> {
  const out = await runCommand('wrk', [`-t${o.threads}`, `-c${o.connections}`, `-d${Math.max(1, Math.round(o.durationS))}s`, '--timeout', '5s', '--latency', ...(o.script !== undefined ? ['-s', o.script] : []), o.url]);
  return parseWrk(out);
}

export interface RedisBenchOptions {
  readonly port: number;
  /** `set` or `get` */
  readonly test: string;
  readonly requests: number;
  readonly clients: number;
  /** key space (-r) */
  readonly keyspace: number;
}

export async function redisBenchmark(o: RedisBenchOptions): Promise<RedisBenchRow & { wallS: number }> {
  const t0 = performance.now();
  const out = await runCommand('redis-benchmark', [
    '-h', '127.0.0.1', '-p', String(o.port), '-t', o.test, '-n', String(o.requests), '-c', String(o.clients),
    '-r', String(o.keyspace), '-P', '1', '--csv',
  ]);
  const wallS = (performance.now() - t0) / 1000;
  const rows = parseRedisCsv(out);
  const row = rows.find((r) => r.test.toLowerCase() === o.test.toLowerCase());
  if (!row) throw new Error(`redis-benchmark printed no ${o.test} row:\n${out}`);
  return { ...row, wallS };
}
