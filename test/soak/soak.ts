/**
 * Soak (issue 14, item 6): `make soak` runs it for 10 minutes; test/integration/soak-smoke.test.ts
 * runs it for one minute in `make test`.
 *
 * The agent (bin/obi-ts, its own process) instruments a Python HTTP server, a Python HTTPS
 * server (libssl), Redis and PostgreSQL, and the short-lived clients that hit them at a steady
 * rate (curl over HTTP and HTTPS, redis-cli, psql: one new process per request, so the process
 * churn is the load), and exports spans over OTLP to a receiver that is down for a while in the
 * middle (60 s in the full run). Every 5 s it samples the agent's RSS after a full garbage
 * collection forced through the agent's inspector (test/helpers/inspector.ts; the agent runs with
 * `--inspect` on a free loopback port); at the start and the end it reads the agent's per-process
 * kernel maps (bpftool, the maps the agent's process holds). The report: RSS over time (after
 * the collection, and as it was just before), heap used, drops (kernel ring buffer, OTLP queue,
 * all counted), spans vs requests, map sizes. It fails when RSS trends upward after warm-up
 * (least-squares slope of the RSS after collection over the second half of the samples, and
 * not before 5 s after the outage ended, above `maxSlopeMbPerMin`), when a kernel map holds an entry of a process that has exited, or when
 * user space instruments other processes than the kernel filter holds.
 *
 * Why after a forced collection: the RSS V8 leaves uncollected is GC lag, not retention. Measured
 * here (issue 14) in one-minute runs, before the fixes of exited-process series and idle thread
 * states: RSS sampled as it comes rose 133 -> 139 MB over the second half (7.6 MB/min; CI once
 * 10.42 MB/min, over the 10 MB/min threshold), while in the same load with a collection forced
 * before each sample RSS stayed at 111.3-111.9 MB (about 1 MB/min) and the heap used after
 * collection grew 2.2 MB/min (the series of exited clients, now bounded: telemetry/exited.ts).
 * The threshold is unchanged; what it is applied to is memory the agent holds.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, sleep, startProcess, waitFor, waitForPort, type Proc } from '../helpers/harness.ts';
import { startPostgres, startRedis, type PostgresServer, type SimpleServer } from '../helpers/db-servers.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';
import { projectRoot } from '../../src/native/binding.ts';
import { InspectorMemory } from '../helpers/inspector.ts';

export interface SoakOptions {
  readonly seconds: number;
  readonly outageSeconds: number;
  /** when the outage starts, in seconds from the start (default: centred in the run) */
  readonly outageStart?: number;
  /** client processes started per second */
  readonly rate: number;
  readonly maxSlopeMbPerMin: number;
  readonly log?: (line: string) => void;
}

export interface SoakReport {
  readonly seconds: number;
  readonly requests: Record<string, number>;
  readonly failedRequests: number;
  readonly spansReceived: number;
  readonly clientSpans: number;
  /** RSS after a forced full collection (what the trend check reads) */
  readonly rssMb: readonly { t: number; mb: number }[];
  /** RSS just before that collection (GC lag included) */
  readonly rssBeforeGcMb: readonly number[];
  /** V8 heap used after the collection */
  readonly heapUsedMb: readonly number[];
  readonly slopeMbPerMin: number;
  readonly drops: Record<string, number>;
  readonly mapsStart: Record<string, number>;
  readonly mapsEnd: Record<string, number>;
  /** map entries of processes that are gone, at the end */
  readonly mapsDead: Record<string, number>;
  /** processes the agent instruments (user space, `obi_instrumented_processes`) at the start and the end */
  readonly instrumented: readonly [number, number];
  readonly failures: readonly string[];
}

const PY_SERVER = `
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = b'soak\\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
`;

/** where each per-process map's key holds the process id (bpf/maps/*.h; inflight: the tgid half of a pid_tgid) */
const PID_AT: Record<string, number> = { pids: 0, conns: 0, ssl_fds: 0, h2_conns: 8, inflight: 4 };

/** a live process (zombies have exited: the kernel reported them) */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

export interface MapState {
  /** entries per map */
  readonly sizes: Record<string, number>;
  /** entries whose process is gone, per map */
  readonly dead: Record<string, number>;
  /** the processes in the PID filter (`pids`) */
  readonly pids: readonly number[];
}

/** the per-process maps (`pids`, `conns`, `inflight`, `ssl_fds`, `h2_conns`) the agent `pid` holds (its fds' map_id) */
export async function mapState(pid: number): Promise<MapState> {
  const sizes: Record<string, number> = {};
  const dead: Record<string, number> = {};
  let pids: number[] = [];
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^map_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  for (const id of ids) {
    const m = JSON.parse(await run('bpftool', ['map', 'show', 'id', String(id), '-j'])) as { name: string };
    if (!(m.name in PID_AT)) continue;
    let entries: { key: string[] }[];
    try {
      entries = JSON.parse(await run('bpftool', ['map', 'dump', 'id', String(id), '-j'])) as { key: string[] }[];
    } catch (err) {
      // bpftool exits non-zero on an empty map (it prints [])
      if (!/: \[\]\s*$/.test((err as Error).message)) throw err;
      entries = [];
    }
    const owners = entries.map((e) => Buffer.from(e.key.map((b) => parseInt(b, 16))).readUInt32LE(PID_AT[m.name]));
    sizes[m.name] = entries.length;
    dead[m.name] = owners.filter((p) => !alive(p)).length;
    if (m.name === 'pids') pids = owners;
  }
  return { sizes, dead, pids };
}

function slope(points: readonly { t: number; mb: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mm = points.reduce((a, p) => a + p.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.mb - mm);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60; // MB per minute (t in s)
}

export function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

export async function soak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'obi-soak-'));
  chmodSync(dir, 0o755);
  const procs: Proc[] = [];
  let redis: SimpleServer | undefined;
  let pg: PostgresServer | undefined;
  let rx: OtlpReceiver | undefined;
  let agent: Proc | undefined;
  let mem: InspectorMemory | undefined;
  const failures: string[] = [];
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    writeFileSync(join(dir, 'srv.py'), PY_SERVER);
    const [httpPort, httpsPort, promPort, inspectPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    procs.push(startProcess('python3', [join(dir, 'srv.py'), String(httpPort)]), startProcess('python3', [join(dir, 'srv.py'), String(httpsPort), cert, key]));
    redis = await startRedis();
    pg = await startPostgres();
    await waitForPort(httpPort);
    await waitForPort(httpsPort);
    rx = await OtlpReceiver.start({ grpcPort: false });
    const otlpPort = rx.httpPort;
    const cfg = join(dir, 'obi.yaml');
    writeFileSync(cfg, `discovery:
  instrument:
    - open_ports: "${httpPort},${httpsPort},${redis.port},${pg.port}"
    - exe_path: "{*/curl,*/redis-cli,*/psql}"
prometheus_export:
  port: ${promPort}
trace_printer: disabled
`);
    agent = startProcess(join(projectRoot, 'bin', 'obi-ts'), ['--config', cfg], {
      env: { ...process.env, NODE_OPTIONS: InspectorMemory.nodeOptions(inspectPort), OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${otlpPort}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
    });
    await waitFor('agent running', () => agent!.output().includes('obi-ts running') || agent!.child.exitCode !== null, 60_000, 100);
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output()}`);
    const agentPid = agent.pid;
    mem = new InspectorMemory(inspectPort);
    await sleep(1000);
    const start = await mapState(agentPid);
    const mapsStart = start.sizes;
    const instrumentedStart = metric(await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text(), 'obi_instrumented_processes');

    const clients: [string, string, string[]][] = [
      ['http', 'curl', ['-sS', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/soak`]],
      ['https', 'curl', ['-sS', '-o', '/dev/null', '--cacert', cert, `https://127.0.0.1:${httpsPort}/soak`]],
      ['redis', 'redis-cli', ['-p', String(redis.port), 'INCR', 'soak']],
      ['postgres', 'psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'SELECT 1']],
    ];
    const requests: Record<string, number> = { http: 0, https: 0, redis: 0, postgres: 0 };
    let failed = 0;
    let inflight = 0;
    const isClient = (x: { kind: unknown }): boolean => x.kind === 3 || String(x.kind).toLowerCase().includes('client');
    const before = { spans: 0, client: 0 };
    const rss: { t: number; mb: number }[] = [];
    const rssBefore: number[] = [];
    const heap: number[] = [];
    const t0 = Date.now();
    const outageFrom = opts.outageStart ?? opts.seconds / 2 - opts.outageSeconds / 2;
    let down = false;
    let k = 0;
    let nextSample = 0;
    while (Date.now() - t0 < opts.seconds * 1000) {
      const t = (Date.now() - t0) / 1000;
      if (!down && opts.outageSeconds > 0 && t >= outageFrom && t < outageFrom + opts.outageSeconds) {
        // what this receiver got before the outage counts too (the next one starts empty); counted
        // once it is closed: an export answered while it closed is in (a 10-min soak had counted
        // 60 client spans fewer than clients, with no drop, before)
        await rx.close();
        before.spans += rx.spans.length;
        before.client += rx.spans.filter(isClient).length;
        down = true;
        log(`# ${t.toFixed(0)} s: collector down`);
      } else if (down && t >= outageFrom + opts.outageSeconds) {
        rx = await OtlpReceiver.start({ httpPort: otlpPort, grpcPort: false });
        down = false;
        log(`# ${t.toFixed(0)} s: collector up`);
      }
      if (t >= nextSample) {
        const m = await mem.sample();
        rss.push({ t, mb: m.rss });
        rssBefore.push(m.rssBefore);
        heap.push(m.heapUsed);
        nextSample += 5;
      }
      const [kind, cmd, args] = clients[k++ % clients.length];
      if (inflight < 16) {
        inflight++;
        requests[kind]++;
        execFile(cmd, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '5' } }, (err) => {
          inflight--;
          if (err) failed++;
        });
      }
      await sleep(1000 / opts.rate);
    }
    if (down) rx = await OtlpReceiver.start({ httpPort: otlpPort, grpcPort: false });
    await waitFor('clients done', () => inflight === 0, 30_000, 50);
    await sleep(8000); // exits processed, the export queue retried
    const end = await mapState(agentPid);
    const mapsEnd = end.sizes;
    const metrics = await (await fetch(`http://127.0.0.1:${promPort}/metrics`)).text();
    const instrumentedEnd = metric(metrics, 'obi_instrumented_processes');
    const drops = {
      kernel_ring_buffer: metric(metrics, 'obi_ebpf_events_dropped_total'),
      otlp_spans_dropped: metric(metrics, 'obi_otlp_spans_dropped_total') + metric(metrics, 'otel_ebpf_otlp_spans_dropped_total'),
      spans_dropped: metric(metrics, 'obi_spans_dropped_total'),
    };
    // after warm-up and after the outage's transient (the retained spans' export once the
    // collector is back): the second half, starting no earlier than 5 s after the outage
    const trendFrom = Math.max(opts.seconds / 2, opts.outageSeconds > 0 ? outageFrom + opts.outageSeconds + 5 : 0);
    const half = rss.filter((p) => p.t >= trendFrom);
    const s = slope(half);
    if (s > opts.maxSlopeMbPerMin) failures.push(`RSS trends upward after warm-up: ${s.toFixed(2)} MB/min > ${opts.maxSlopeMbPerMin}`);
    // Every per-process entry is of a live process, and user space instruments exactly the
    // processes in the kernel's filter. Counts may differ from the start by what is alive now
    // (a PostgreSQL autovacuum worker, a keep-alive connection), never by what has exited.
    for (const [name, n] of Object.entries(end.dead)) if (n > 0) failures.push(`kernel map ${name}: ${n} entries of exited processes`);
    const livePids = end.pids.filter(alive);
    if (instrumentedEnd !== livePids.length) failures.push(`user space instruments ${instrumentedEnd} processes, the kernel filter holds ${livePids.length} live ones`);
    const cmdline = (p: number): string => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
      } catch {
        return 'gone';
      }
    };
    const extra = end.pids.filter((p) => !start.pids.includes(p));
    if (extra.length > 0) log(`# pids at the end not there at the start: ${extra.map((p) => `${p} ${cmdline(p)}`).join('; ')}`);
    const clientSpans = before.client + rx.spans.filter(isClient).length;
    return {
      seconds: opts.seconds,
      requests,
      failedRequests: failed,
      spansReceived: before.spans + rx.spans.length,
      clientSpans,
      rssMb: rss,
      rssBeforeGcMb: rssBefore,
      heapUsedMb: heap,
      slopeMbPerMin: s,
      drops,
      mapsStart,
      mapsEnd,
      mapsDead: end.dead,
      instrumented: [instrumentedStart, instrumentedEnd],
      failures,
    };
  } finally {
    mem?.close();
    await agent?.kill();
    await rx?.close().catch(() => undefined);
    for (const p of procs) await p.kill();
    await redis?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSoak(r: SoakReport): string {
  const total = Object.values(r.requests).reduce((a, b) => a + b, 0);
  return [
    `soak: ${r.seconds} s, ${total} client processes (${Object.entries(r.requests).map(([k, v]) => `${k} ${v}`).join(', ')}), ${r.failedRequests} failed`,
    `spans received over OTLP: ${r.spansReceived} (client spans ${r.clientSpans}; each request gives a client and a server span, minus the drops below)`,
    `drops: ${Object.entries(r.drops).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `RSS (MB) every 5 s, after a forced full GC: ${r.rssMb.map((p) => p.mb.toFixed(1)).join(' ')}`,
    `RSS (MB) just before each GC: ${r.rssBeforeGcMb.map((v) => v.toFixed(0)).join(' ')}`,
    `heap used (MB) after each GC: ${r.heapUsedMb.map((v) => v.toFixed(1)).join(' ')}`,
    `RSS slope over the second half (after GC): ${r.slopeMbPerMin.toFixed(2)} MB/min; just before GC: ${slope(r.rssMb.map((p, i) => ({ t: p.t, mb: r.rssBeforeGcMb[i] })).filter((p) => p.t >= r.seconds / 2)).toFixed(2)} MB/min; heap used: ${slope(r.rssMb.map((p, i) => ({ t: p.t, mb: r.heapUsedMb[i] })).filter((p) => p.t >= r.seconds / 2)).toFixed(2)} MB/min`,
    `kernel maps at the start: ${JSON.stringify(r.mapsStart)}, at the end: ${JSON.stringify(r.mapsEnd)}; entries of exited processes at the end: ${JSON.stringify(r.mapsDead)}`,
    `processes instrumented (user space): ${r.instrumented[0]} at the start, ${r.instrumented[1]} at the end`,
    r.failures.length === 0 ? 'PASS' : `FAIL: ${r.failures.join('; ')}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.env.SOAK_SECONDS ?? 600);
  soak({ seconds, outageSeconds: Math.min(60, seconds / 4), rate: Number(process.env.SOAK_RATE ?? 10), maxSlopeMbPerMin: Number(process.env.SOAK_MAX_SLOPE ?? 1) }).then(
    (r) => {
      process.stdout.write(`${formatSoak(r)}\n`);
      process.exit(r.failures.length === 0 ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`soak failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
