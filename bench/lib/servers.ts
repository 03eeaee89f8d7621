/**
 * The applications under test, each started fresh per run in a temp dir: nginx
 * (1 worker, static file, `sendfile on`, optionally TLS), the Node.js http server
 * (plain, or with the OpenTelemetry Node SDK registered), and redis-server.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenOf, runCommand, startChild, waitFor, waitForPort, type Child } from './proc.ts';

export interface App {
  readonly name: string;
  readonly port: number;
  /** the main process */
  readonly pid: number;
  /** every process whose CPU counts as the application's (nginx: master + workers) */
  pids(): number[];
  stop(): Promise<void>;
  output(): string;
}

/** size of the static file nginx serves (the measurements in docs/devdocs/kernel.md used ~600 B) */
export const STATIC_FILE_BYTES = 612;

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** a self-signed P-256 certificate for 127.0.0.1, made once per bench run */
export async function makeCert(dir: string): Promise<TlsFiles> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await runCommand('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert,
  ]);
  chmodSync(key, 0o644);
  return { cert, key };
}

export async function startNginx(port: number, tls?: TlsFiles): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-bench-nginx-'));
  chmodSync(dir, 0o755); // the worker runs as nobody
  const root = join(dir, 'www');
  mkdirSync(root);
  const head = '<!DOCTYPE html>\n<html><head><title>obi-ts bench</title></head><body>';
  const tail = '</body></html>\n';
  writeFileSync(join(root, 'index.html'), head + 'x'.repeat(STATIC_FILE_BYTES - head.length - tail.length) + tail);
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
    ${tls ? `ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};` : ''}
    root ${root};
    location / { }
  }
}
`);
  await runCommand('nginx', ['-t', '-c', conf, '-e', join(dir, 'error.log')]);
  const c = startChild('nginx', ['-c', conf, '-e', join(dir, 'error.log')]);
  await waitForPort(port);
  await waitFor('the nginx worker', () => childrenOf(c.pid).length === 1);
  return appOf('nginx', port, c, () => [c.pid, ...childrenOf(c.pid)], () => rmSync(dir, { recursive: true, force: true }));
}

export interface NodeAppOptions {
  /** absolute path of a CommonJS module to `--require` first (the SDK's register hook) */
  readonly require?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export async function startNodeApp(port: number, script: string, opts: NodeAppOptions = {}): Promise<App> {
  const args = [...(opts.require ? ['--require', opts.require] : []), script, String(port)];
  const c = startChild(process.execPath, args, { env: opts.env ?? process.env });
  await waitForPort(port, 30_000);
  return appOf('node', port, c, () => [c.pid]);
}

export async function startRedis(port: number): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-bench-redis-'));
  const c = startChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no']);
  await waitForPort(port);
  return appOf('redis', port, c, () => [c.pid], () => rmSync(dir, { recursive: true, force: true }));
}

/** the gRPC unary server (grpc-js, bench/apps/grpc-server.mjs) */
export async function startGrpcServer(port: number, script: string): Promise<App> {
  const c = startChild(process.execPath, [script, String(port)], { env: process.env });
  await waitForPort(port, 30_000);
  return appOf('grpc', port, c, () => [c.pid]);
}

/** the GenAI test server (test/helpers/apps/genai-server.mjs: OpenAI and Anthropic API formats) over HTTPS */
export async function startGenaiServer(port: number, script: string, tls: TlsFiles, h2 = false): Promise<App> {
  const c = startChild(process.execPath, [script, String(port), tls.cert, tls.key, ...(h2 ? ['h2'] : [])], { env: process.env });
  await waitForPort(port, 30_000);
  return appOf('genai', port, c, () => [c.pid]);
}

function appOf(name: string, port: number, c: Child, pids: () => number[], cleanup?: () => void): App {
  return {
    name,
    port,
    pid: c.pid,
    pids,
    output: () => c.output(),
    stop: async () => {
      await c.stop('SIGTERM', 12_000);
      cleanup?.();
    },
  };
}
