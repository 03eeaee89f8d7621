/**
 * Real database and cache servers for the DB integration tests, started from scratch on
 * loopback in temporary directories (a fresh CI machine has nothing running), as root:
 * PostgreSQL 15 (initdb + pg_ctl as the postgres user), MariaDB (mariadb-install-db + mariadbd),
 * Redis (redis-server, no persistence) and Memcached.
 *
 * Clients run behind a *gate*: a copy of dash under a unique path, selected by the agent with
 * OTEL_EBPF_AUTO_TARGET_EXE. The gate waits on its stdin until the test has seen it tracked
 * (in the kernel PID filter), then execs the real client in the same process, so the client's
 * very first bytes (startup messages, handshakes) are captured.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, startProcess, waitForPort, type Proc, type TestAgent } from './harness.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export function hasCommand(path: string): boolean {
  return existsSync(path);
}

function uidOf(user: string): { uid: number; gid: number } {
  const out = (spawnSync('getent', ['passwd', user], { encoding: 'utf8' }).stdout ?? '').split(':');
  return { uid: Number(out[2]), gid: Number(out[3]) };
}

// ------------------------------------------------------------------ PostgreSQL

export interface PostgresServer {
  readonly port: number;
  readonly dir: string;
  /** the server log (with `ssl`, one `connection authorized: ...` line per connection, naming SSL) */
  readonly logFile: string;
  /** run SQL as the superuser (not through the gate: not traced) */
  sql(db: string, text: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /**
   * `ssl=on` with a self-signed certificate made here with the openssl CLI (key mode 0600, owned
   * by postgres): clients may then connect with `sslmode=require`.
   */
  readonly ssl?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-pg-'));
  const { uid, gid } = uidOf('postgres');
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const asPg = (cmd: string, args: string[]): Promise<string> => run('runuser', ['-u', 'postgres', '--', cmd, ...args]);
  await asPg(`${PG_BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  let opts = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=20 -c shared_buffers=16MB`;
  if (options.ssl === true) {
    const cert = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
    chmodSync(key, 0o600);
    chownSync(key, uid, gid);
    chownSync(cert, uid, gid);
    opts += ` -c ssl=on -c ssl_cert_file=${cert} -c ssl_key_file=${key} -c log_connections=on`;
  }
  await asPg(`${PG_BIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-s', 'start']);
  await waitForPort(port);
  const sql = (db: string, text: string): Promise<string> =>
    run(`${PG_BIN}/psql`, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-c', text]);
  return {
    port,
    dir,
    logFile: join(dir, 'log'),
    sql,
    stop: async () => {
      try {
        await asPg(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', '-s', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ------------------------------------------------------------------ MariaDB

export interface MariaDbServer {
  readonly port: number;
  readonly socket: string;
  /** run SQL as root over the socket (not traced) */
  sql(text: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startMariaDb(): Promise<MariaDbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-maria-'));
  const data = join(dir, 'data');
  await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=socket']);
  const port = await freePort();
  const socket = join(dir, 'sock');
  const proc = startProcess('mariadbd', [
    '--no-defaults',
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--user=root',
    '--skip-log-bin',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=16M',
    '--innodb-log-file-size=8M',
    '--innodb-flush-log-at-trx-commit=0',
    `--pid-file=${join(dir, 'pid')}`,
    `--log-error=${join(dir, 'err.log')}`,
  ]);
  await waitForPort(port, '127.0.0.1', 30_000);
  const sql = (text: string): Promise<string> => run('mariadb', ['--no-defaults', '-S', socket, '-u', 'root', '-N', '-B', '-e', text]);
  return {
    port,
    socket,
    sql,
    stop: async () => {
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ Redis, Memcached

export interface SimpleServer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<SimpleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-redis-'));
  const port = await freePort();
  const proc = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']);
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startMemcached(): Promise<SimpleServer> {
  const port = await freePort();
  const proc = startProcess('memcached', ['-p', String(port), '-U', '0', '-u', 'nobody', '-l', '127.0.0.1', '-m', '16']);
  await waitForPort(port);
  return { port, stop: () => proc.kill() };
}

// ------------------------------------------------------------------ gated clients

export interface Gate {
  /** the gate executable: select it with OTEL_EBPF_AUTO_TARGET_EXE */
  readonly exe: string;
  cleanup(): void;
}

/** A copy of dash under a unique temporary path (the selector for traced clients). */
export function createGate(): Gate {
  const dir = mkdtempSync(join(tmpdir(), 'obi-gate-'));
  const exe = join(dir, 'obi-dbclient');
  copyFileSync('/bin/dash', exe);
  return { exe, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface GatedRun {
  readonly pid: number;
  readonly code: number | null;
  readonly output: string;
}

/**
 * Run `cmd args` as a traced client: start the gate, wait until the agent tracks it, let it
 * exec the client with `input` on its stdin, and wait for the client to exit.
 */
export async function runGated(
  agent: TestAgent,
  gate: Gate,
  cmd: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GatedRun> {
  const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-dbclient', cmd, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const pid = child.pid!;
  try {
    await agent.waitTracked(pid);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.stdin.end(`go\n${options.input ?? ''}`);
  const timeout = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout)))]);
  clearTimeout(timer);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`${cmd} ${args.join(' ')} timed out: ${output}`);
  }
  return { pid, code, output };
}

export type { Proc };
