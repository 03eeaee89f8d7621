/** gRPC test support: the grpc-js test app, gated servers, certificates. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gate } from './db-servers.ts';
import { run, waitFor, type TestAgent } from './harness.ts';

export const grpcApp = join(import.meta.dirname, 'apps/grpc-app.mjs');

export interface GatedServer {
  readonly pid: number;
  readonly output: () => string;
  stop(): void;
}

/** start `cmd args` through the gate (so it is traced from its first syscall) and wait for `ready` on its output */
export async function startGatedServer(agent: TestAgent, gate: Gate, cmd: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<GatedServer> {
  const child = spawn(gate.exe, ['-c', 'read _ ; exec "$@"', 'obi-server', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const pid = child.pid!;
  await agent.waitTracked(pid);
  child.stdin.write('go\n');
  await waitFor(`${cmd} ready`, () => ready.test(output), 15_000);
  return { pid, output: () => output, stop: () => child.kill('SIGKILL') };
}

/** a self-signed certificate for `localhost` in a new directory */
export async function makeCert(prefix: string): Promise<{ dir: string; cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  return { dir, cert, key };
}

