/**
 * Real message brokers for the messaging integration tests, started from scratch on loopback
 * on free ports in temporary directories (Debian packages, see scripts/install-deps.sh --test):
 * nats-server, mosquitto and rabbitmq-server. Nothing is shared with a broker the machine may
 * already run: RabbitMQ gets its own node name, data/log/config directories, Erlang cookie
 * (HOME) and its own epmd port (ERL_EPMD_PORT), which is stopped with the node.
 *
 * Traced clients run behind the gate of db-servers.ts (createGate / runGated).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, startProcess, waitFor, waitForPort } from './harness.ts';
import type { SimpleServer } from './db-servers.ts';

export async function startNats(): Promise<SimpleServer> {
  const port = await freePort();
  const proc = startProcess('nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
  await waitForPort(port);
  return { port, stop: () => proc.kill() };
}

export async function startMosquitto(): Promise<SimpleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\n`);
  const proc = startProcess('mosquitto', ['-c', conf]);
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RabbitServer extends SimpleServer {
  readonly nodeName: string;
}

/**
 * rabbitmq-server (3.10 in Debian 12) as its own node: slow to start (Erlang boot, ~5-15 s on a
 * loaded machine), so test files start it once.
 */
export async function startRabbit(): Promise<RabbitServer> {
  const dir = mkdtempSync(join(tmpdir(), 'obi-rabbit-'));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const nodeName = `obi${process.pid}x${port}@localhost`;
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\nlog.console = false\nlog.file.level = warning\n`);
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
  };
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const proc = startProcess('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { env, cwd: dir });
  try {
    await waitFor('rabbitmq-server listening', async () => {
      if (proc.child.exitCode !== null) throw new Error(`rabbitmq-server exited ${proc.child.exitCode}: ${proc.output()}`);
      try {
        await waitForPort(port, '127.0.0.1', 500);
        return true;
      } catch {
        return false;
      }
    }, 90_000, 250);
  } catch (err) {
    await proc.kill();
    stopEpmd(epmdPort);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    nodeName,
    stop: async () => {
      await proc.kill();
      stopEpmd(epmdPort);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** the epmd the node started on its own port (and only that one) */
function stopEpmd(port: number): void {
  spawnSync('epmd', ['-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(port) }, stdio: 'ignore', timeout: 5000 });
}
