/**
 * A private Docker engine for tests: Debian's `dockerd` (package docker.io) started by the test
 * with its own socket and exec root in a temp dir, `--iptables=false --ip6tables=false
 * --bridge=none` (no bridge, no netfilter rule: containers use host networking), and its data
 * root cached per checkout in build/docker-root so that image layers survive between runs.
 * `stop()` ends it and checks it left no mount behind; /etc/docker/key.json, which dockerd 20.10
 * writes on first start, is removed when the test created it.
 *
 * The client is /usr/bin/docker of the same package, by absolute path (another `docker` on PATH
 * may be a different version), with the classic builder (DOCKER_BUILDKIT=0), whose
 * `--network host` needs no entitlement.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from './harness.ts';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER_CLI = '/usr/bin/docker';
const repo = join(import.meta.dirname, '../..');

export interface DockerResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class DockerEngine {
  readonly execRoot: string;
  readonly dataRoot: string;
  readonly socket: string;
  private _proc?: ChildProcess;
  private _log = '';
  private _createdKey = false;

  constructor(dataRoot = join(repo, 'build/docker-root')) {
    this.execRoot = mkdtempSync('/tmp/obi-dockerd-');
    this.dataRoot = dataRoot;
    this.socket = join(this.execRoot, 'docker.sock');
  }

  get log(): string {
    return this._log;
  }

  async start(): Promise<void> {
    mkdirSync(this.dataRoot, { recursive: true });
    this._createdKey = !existsSync('/etc/docker/key.json');
    const args = [
      `--data-root=${this.dataRoot}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${join(this.execRoot, 'dockerd.pid')}`,
      `--host=unix://${this.socket}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
      '--log-level=warn',
    ];
    const p = spawn(DOCKERD, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    this._proc = p;
    p.stdout?.on('data', (d: Buffer) => (this._log += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (this._log += d.toString()));
    await waitFor('dockerd ready', async () => {
      if (p.exitCode !== null) throw new Error(`dockerd exited ${p.exitCode}: ${this._log}`);
      return (await this.docker(['version', '--format', '{{.Server.Version}}'])).code === 0;
    }, 60_000, 200);
  }

  /** the client against this engine; never throws */
  docker(args: string[], input?: string): Promise<DockerResult> {
    return new Promise((resolve) => {
      const c = spawn(DOCKER_CLI, ['-H', `unix://${this.socket}`, ...args], {
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' },
      });
      let stdout = '';
      let stderr = '';
      c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      if (input !== undefined) c.stdin!.end(input);
      c.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** like docker(), but rejects on a non-zero exit */
  async ok(args: string[]): Promise<string> {
    const r = await this.docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** ends dockerd (its containers first) and removes the exec root */
  async stop(): Promise<void> {
    const p = this._proc;
    if (p && p.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '-f', ...ids]);
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => p.kill('SIGKILL'))]);
      await exited;
    }
    // nothing of it stays mounted (overlay layers, netns, shm)
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(this.execRoot) || l.includes(this.dataRoot));
    for (const m of mounts) {
      const target = m.split(' ')[1];
      await new Promise<void>((r) => spawn('umount', ['-l', target]).once('exit', () => r()));
    }
    rmSync(this.execRoot, { recursive: true, force: true });
    if (this._createdKey) rmSync('/etc/docker/key.json', { force: true });
  }
}
