/**
 * obi-ts [--config FILE] [--print-config[=yaml|json]] [--help] [--version]
 * obi-ts doctor [--json] [--config FILE]
 * Configured like OBI: YAML file + OTEL_EBPF_* environment (env wins).
 */
import { loadConfig, formatConfig } from '../config/index.ts';
import { AgentError } from '../errors.ts';
import { Agent } from '../pipeline/agent.ts';
import { createLogger } from '../pipeline/log.ts';
import { OBI_TS_VERSION } from '../version.ts';

const USAGE = `Usage: obi-ts [--config FILE] [--print-config[=yaml|json]]
       obi-ts doctor [--json] [--config FILE]

Zero-code OpenTelemetry instrumentation on eBPF (OBI-compatible).
  --config FILE        YAML configuration (OBI v1 keys); OTEL_EBPF_CONFIG_PATH wins when set
  --print-config[=F]   print the effective configuration (yaml, or json) and exit
  --help               this text
  --version            print the version
  doctor               tell what will work here (kernel, capabilities, features) and exit:
                       0 when everything the configuration asks for works, 1 otherwise;
                       --json for machines

Environment: OTEL_EBPF_OPEN_PORT=80,443,8000-8999, OTEL_EBPF_AUTO_TARGET_EXE='*/nginx',
OTEL_EBPF_TARGET_PID=1234, OTEL_EBPF_TRACE_PRINTER=text|json|counter|disabled,
OTEL_EBPF_PROMETHEUS_PORT=9400, OTEL_EBPF_LOG_LEVEL=DEBUG|INFO|WARN|ERROR, ...
See docs/reference/config.md for every key.
`;

interface Args {
  doctor?: boolean;
  json?: boolean;
  config?: string;
  printConfig?: 'yaml' | 'json';
  help: boolean;
  version: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const out: Args = { help: false, version: false };
  let i = 0;
  if (argv[0] === 'doctor') {
    out.doctor = true;
    i = 1;
  }
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--json' && out.doctor) out.json = true;
    else if (a === '--version') out.version = true;
    else if (a === '--config' || a === '-config') {
      const v = argv[++i];
      if (!v) throw new AgentError('OBI_ERR_USAGE', `${a} needs a file path`, { exitCode: 64 });
      out.config = v;
    } else if (a.startsWith('--config=') || a.startsWith('-config=')) out.config = a.slice(a.indexOf('=') + 1);
    else if (a === '--print-config') out.printConfig = 'yaml';
    else if (a.startsWith('--print-config=')) {
      const f = a.slice('--print-config='.length);
      if (f !== 'yaml' && f !== 'json') throw new AgentError('OBI_ERR_USAGE', `--print-config takes yaml or json, not "${f}"`, { exitCode: 64 });
      out.printConfig = f;
    } else throw new AgentError('OBI_ERR_USAGE', `unknown argument "${a}"\n\n${USAGE}`, { exitCode: 64 });
  }
  return out;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`obi-ts: ${(err as Error).message}\n`);
    return AgentError.is(err) ? err.exitCode : 64;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`obi-ts ${OBI_TS_VERSION}\n`);
    return 0;
  }
  let config;
  try {
    // doctor without a configuration checks against the embedded default (deploy/default.yaml)
    const configPath = args.config ?? (args.doctor && !env.OTEL_EBPF_CONFIG_PATH ? (await import('../pipeline/doctor.ts')).DOCTOR_DEFAULT_CONFIG : undefined);
    config = loadConfig({ configPath, env });
  } catch (err) {
    if (AgentError.is(err)) {
      process.stderr.write(`obi-ts: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (args.doctor) {
    const { formatDoctor, runDoctor } = await import('../pipeline/doctor.ts');
    const report = runDoctor(config);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    return report.ok ? 0 : 1;
  }
  if (args.printConfig) {
    process.stdout.write(formatConfig(config, args.printConfig));
    return 0;
  }
  const log = createLogger(config.log_level, config.log_format);
  for (const w of config.loadWarnings) log.warn(w);
  log.info('obi-ts starting', { version: OBI_TS_VERSION, node: process.version, pid: process.pid, config: config.configPath ?? '(env only)' });
  const agent = new Agent(config, { log });
  try {
    await agent.start();
  } catch (err) {
    if (AgentError.is(err)) {
      log.error(err.message, { code: err.code });
      await agent.stop().catch(() => undefined);
      return err.exitCode;
    }
    throw err;
  }
  log.info('obi-ts running; Ctrl-C to stop');
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal: sig });
      const timeout = setTimeout(() => resolve(1), 10_000);
      timeout.unref();
      agent.stop().then(
        () => {
          const s = agent.status();
          log.info('stopped', { events: s.eventsRead, spans: s.spans, kernel_dropped: s.kernelDropped.toString() });
          resolve(0);
        },
        (err: unknown) => {
          log.error('shutdown failed', { error: String(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`obi-ts: fatal: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(70);
    },
  );
}
