/** The benchmark's result model (what bench/results/<date>.json holds). */
import type { Spread } from './stats.ts';
import type { KernelEntryResult } from './kernel-entry.ts';

/** `none`: no instrumentation; `idle`: agent attached, selecting nothing; `obi`: agent instrumenting the app; `sdk`: OpenTelemetry Node SDK */
export type ConfigId = 'none' | 'idle' | 'obi' | 'sdk';

export const CONFIG_LABEL: Readonly<Record<ConfigId, string>> = {
  none: 'no instrumentation',
  idle: 'obi-ts attached, selecting nothing',
  obi: 'obi-ts instrumenting',
  sdk: 'OTel Node SDK (auto-instrumentations-node, OTLP)',
};

/** groups of runs sharing one application: `redis` yields the `redis-set` and `redis-get` scenarios */
/** `genai-https` / `genai-https-large` (and `genai-h2` / `genai-h2-large`, HTTP/2 over TLS): the GenAI test server, 20 KB chat answers, GenAI on; `-large` with
 * the larger HTTP capture (`ebpf.buffer_sizes.http` 65536) */
/** `<app>-prop-<mode>`: the client (wrk) traced as well, context propagation `disabled`, `tcp` or `headers` (the cost of each mode) */
export type GroupId = 'nginx-http' | 'nginx-http-noprop' | 'nginx-https' | 'node' | 'redis' | 'grpc' | 'genai-https' | 'genai-https-large' | 'genai-h2' | 'genai-h2-large' | PropGroupId;

export type PropMode = 'off' | 'tcp' | 'headers';
export type PropGroupId = `${'nginx' | 'node'}-prop-${PropMode}`;

/** context-propagation counters over the load window, per request (`obi_context_propagation_*` deltas) */
export interface PropagationMeasure {
  /** TCP segments sent with the trace-context option */
  readonly optionsWrittenPerRequest: number;
  /** segments received with it */
  readonly optionsReadPerRequest: number;
  /** server requests whose parent came from a received option */
  readonly parentsPerRequest: number;
  /** requests given a traceparent header by the kernel */
  readonly injectionsPerRequest: number;
  /** request starts not given one (every reason) */
  readonly skippedPerRequest: number;
  /** sockets or the agent fallen back to the option */
  readonly fallbacks: number;
  /** the mode that ran (`obi_context_propagation_mode`) */
  readonly mode: string;
  /** spans given a parent at their start, by link (`obi_correlated_spans_total{link}`: tcp_option, remote_parent, connection_join, …) */
  readonly linksPerRequest: Readonly<Record<string, number>>;
}

/** resident memory by kind, MB (10^6 B) */
export interface RssByKind {
  /** the process's own executable (`node`: V8, its builtins and Node's code) */
  readonly executable: number;
  /** other mapped files: shared libraries, the native addon */
  readonly libraries: number;
  /** anonymous memory: V8's heaps, malloc, thread stacks */
  readonly anonymous: number;
  /** BPF maps mapped into the process (the ring buffer) */
  readonly bpf: number;
}

export interface AgentMeasure {
  /** agent CPU over the load window plus the drain of its tail, seconds */
  readonly cpuS: number;
  /** agent CPU in millicores per 10k requests/s of application throughput */
  readonly mcPer10k: number;
  /** median VmRSS over the second half of the load phases (steady state), MB (10^6 B) */
  readonly rssSteadyMB: number;
  /** largest VmRSS sampled during the load phases, MB */
  readonly rssMaxMB: number;
  /** the resident memory at the end of the load window by kind (/proc/PID/smaps); absent in runs before it was measured */
  readonly rssByKind?: RssByKind;
  /** VmHWM at the end of the run (peak including start-up), MB */
  readonly hwmMB: number;
  /** spawn → selection done, ms */
  readonly startMs: number;
  readonly eventsRead: number;
  readonly eventsPerRequest: number;
  /** bytes read from the ring buffer per request (records and captured payload: what the kernel copied) */
  readonly bytesPerRequest: number;
  /** agent CPU per request, µs (cpuS over requests) */
  readonly cpuUsPerRequest: number;
  /** wall time per request in the agent's stages (`obi_agent_stage_seconds_total`), µs */
  readonly ingestUsPerRequest: number;
  readonly processUsPerRequest: number;
  /** times the agent gave its CPU away mid-drain, per 1,000 requests (absent in runs before it did) */
  readonly yieldsPerKRequest?: number;
  /** TLS reads and writes the uprobes intercepted per request, of the selected application and of other processes running the same library (absent in runs before they were counted) */
  readonly tlsCallsPerRequest?: number;
  readonly tlsOtherCallsPerRequest?: number;
  /** kernel ring-buffer reserve failures during the load window (`obi_ebpf_events_dropped_total` delta) */
  readonly dropped: number;
  /** the same from the agent's start (or the previous window) to this window: the warm-up's losses */
  readonly droppedWarmup: number;
  /** whether `obi_ebpf_events_dropped_total` is on /metrics at all */
  readonly droppedExported: boolean;
  /** spans produced during the window (the `counter` trace printer's count, every protocol) */
  readonly spans: number;
  /** spans recorded in the RED duration histograms during the window (protocols with RED metrics only: HTTP) */
  readonly spansMetrics: number;
  /** spans − requests completed × spans expected per request (2 where the client is traced too) */
  readonly spanDiff: number;
  readonly spansPerRequestExpected?: number;
  readonly propagation?: PropagationMeasure;
  /** the printer's count before shutdown (all phases, warm-up included) */
  readonly spansTotalSettled: number;
  /** the printer's last `Processed N requests` after shutdown (same, plus anything flushed at shutdown) */
  readonly spansTotalPrinted: number;
}

export interface SdkMeasure {
  /** spans received by the harness's OTLP receiver over the whole run (warm-up included, after the SDK's shutdown flush) */
  readonly spansReceived: number;
  /** requests completed over the whole run (warm-up included) */
  readonly requestsTotal: number;
  readonly traceRequests: number;
  readonly metricRequests: number;
}

export interface Sample {
  readonly scenario: string;
  readonly group: GroupId;
  readonly config: ConfigId;
  readonly rep: number;
  /** position in the whole run's sequence (for drift analysis) */
  readonly seq: number;
  readonly startedAt: string;
  /** load window, seconds */
  readonly durationS: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** socket errors + non-2xx responses */
  readonly errors: number;
  /** requests that may be in flight at the cut-off (connections) */
  readonly inFlightBound: number;
  readonly appCpuS: number;
  readonly appCpuUsPerRequest: number;
  /** CPU of the load generator (wrk / redis-benchmark) over the window, in cores */
  readonly loadGenCores: number;
  /** the same per request, µs (where the client is traced, its share of the capture lands here) */
  readonly loadGenCpuUsPerRequest?: number;
  /** whole machine over the window: busy CPU in cores (of `cpus`) */
  readonly machineBusyCores: number;
  /** busy cores not accounted to the application, the agent or the load generator: other work on the machine, softirq */
  readonly otherCores: number;
  readonly agent?: AgentMeasure;
  readonly sdk?: SdkMeasure;
}

export interface RunError {
  readonly group: GroupId;
  readonly config: ConfigId;
  readonly rep: number;
  readonly message: string;
}

export interface Row {
  readonly scenario: string;
  readonly config: ConfigId;
  readonly label: string;
  readonly rps: Spread;
  /** this config's req/s over the same repetition's `none`, per repetition */
  readonly ratio?: Spread;
  readonly ratioOfMedians?: number;
  readonly p50Us: Spread;
  readonly p99Us: Spread;
  readonly appCpuUsPerRequest: Spread;
  readonly machineBusyCores: Spread;
  readonly otherCores: Spread;
  readonly agentMcPer10k?: Spread;
  readonly agentRssSteadyMB?: Spread;
  /** medians, by kind, of the resident memory at the end of each window */
  readonly agentRssByKind?: RssByKind;
  readonly agentHwmMB?: Spread;
  readonly eventsPerRequest?: Spread;
  readonly bytesPerRequest?: Spread;
  readonly agentUsPerRequest?: Spread;
  readonly ingestUsPerRequest?: Spread;
  readonly processUsPerRequest?: Spread;
  readonly yieldsPerKRequest?: Spread;
  readonly tlsCallsPerRequest?: Spread;
  readonly tlsOtherCallsPerRequest?: Spread;
  /** p50 / p99 latency over the same repetition's uninstrumented run */
  readonly p50Ratio?: Spread;
  readonly p99Ratio?: Spread;
  readonly dropped?: number;
  /** events lost in the warm-ups before the windows (summed over repetitions) */
  readonly droppedWarmup?: number;
  /** spans − requests × spans expected per request, per repetition */
  readonly spanDiffs?: readonly number[];
  readonly loadGenCpuUsPerRequest?: Spread;
  /** spans expected per request (the bound on spanDiffs is inFlightBound × this) */
  readonly spansPerRequest?: number;
  readonly optionsWrittenPerRequest?: Spread;
  readonly parentsPerRequest?: Spread;
  readonly injectionsPerRequest?: Spread;
  /** median per request of each parent link seen (prop rows) */
  readonly linksPerRequest?: Readonly<Record<string, number>>;
  /** the propagation mode(s) that ran */
  readonly propModes?: readonly string[];
  readonly inFlightBound?: number;
  readonly sdkSpansVsRequests?: readonly string[];
}

export type TargetStatus = 'PASS' | 'FAIL' | 'UNTESTED' | 'PENDING';

export interface TargetResult {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  readonly status: TargetStatus;
  readonly note: string;
}

export interface MicroResult {
  readonly file: string;
  readonly seconds: number;
  readonly output: string;
  readonly ok: boolean;
}

export interface MachineInfo {
  readonly kernel: string;
  /** what a system call and a uprobe hit cost here (bench/lib/kernel-entry.ts); absent in runs before it existed */
  readonly kernelEntry?: KernelEntryResult;
  /** a bare node process's resident memory by kind (bench/lib/memory.ts); absent in runs before it was measured */
  readonly bareNodeRss?: RssByKind;
  readonly cpu: string;
  readonly cpus: number;
  readonly memMB: number;
  readonly node: string;
  readonly nginx?: string;
  readonly wrk?: string;
  readonly redis?: string;
  readonly sdk?: string;
  readonly commit?: string;
  readonly loadAvgStart: readonly number[];
  readonly loadAvgEnd: readonly number[];
}

export interface BenchOptions {
  readonly smoke: boolean;
  readonly reps: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly wrkThreads: number;
  readonly redisRequests: number;
  readonly redisClients: number;
  /** requests per second of the fixed-rate (paced) scenarios */
  readonly rate: number;
  readonly groups: readonly GroupId[];
  readonly configs: readonly ConfigId[];
  readonly https: 'auto' | 'on' | 'off';
  readonly micro: boolean;
  readonly outDir: string;
}

export interface BenchResult {
  readonly schema: 1;
  readonly date: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly samples: readonly Sample[];
  readonly errors: readonly RunError[];
  readonly rows: readonly Row[];
  readonly targets: readonly TargetResult[];
  readonly pending: readonly string[];
  readonly notes: readonly string[];
  readonly micro: readonly MicroResult[];
}
