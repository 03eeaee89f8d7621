/** A throw-away nginx (Debian package) on loopback, configured in a temp dir. */
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startProcess, waitFor, waitForPort, type Proc } from './harness.ts';

export interface Nginx {
  readonly proc: Proc;
  readonly port: number;
  readonly root: string;
  readonly dir: string;
  workerPids(): number[];
  stop(): Promise<void>;
}

export async function startNginx(port: number, opts: { workers?: number; extraServer?: string; files?: Record<string, string | Buffer> } = {}): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-nginx-'));
  chmodSync(dir, 0o755); // workers run as nobody
  const root = join(dir, 'www');
  mkdirSync(root);
  for (const [name, body] of Object.entries(opts.files ?? { 'index.html': 'hello from nginx\n' })) writeFileSync(join(root, name), body);
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
worker_processes ${opts.workers ?? 1};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
    location = /teapot { return 418; }
  }
  ${opts.extraServer ?? ''}
}
`);
  await run('nginx', ['-t', '-c', conf, '-e', join(dir, 'error.log')]);
  const proc = startProcess('nginx', ['-c', conf, '-e', join(dir, 'error.log')]);
  await waitForPort(port);
  const workers = (): number[] => {
    try {
      return readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  await waitFor('nginx workers', () => workers().length === (opts.workers ?? 1));
  return { proc, port, root, dir, workerPids: workers, stop: () => proc.kill() };
}
