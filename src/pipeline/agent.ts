// Over 400 lines: the ordered wiring of every stage at start-up and shutdown (kernel, ingest, telemetry, export, discovery with its metadata sources) in one place.
/**
 * Wires the stages: kernel (BPF object, ring buffer) → ingest (decode,
 * connections, protocol sessions) → telemetry (spans, metrics) → export
 * (printer, Prometheus), with discovery feeding the in-kernel PID filter.
 * Hot path: one JS call per ring-buffer drain; spans recorded and printed per batch.
 */
import { largeHttpBytes, registerLargeCaptureMetrics, ringBufferBytes } from './large-capture.ts';
import { agentHttpExtractors, agentProtocolSettings, genaiRecorders } from './genai-config.ts';
import { hostname, networkInterfaces } from 'node:os';
import { ObiEventType, ObiMap, ObiProcFlags, type ObiProcEvent } from '../abi/events.ts';
import type { EffectiveConfig } from '../config/index.ts';
import { durationMs, resolveOtlp } from '../config/index.ts';
import { ProcessLifecycle, type TrackedProcess } from '../discovery/lifecycle.ts';
import { PER_PROCESS_MAPS, prepareExecAdmission, purgeKernelState } from './kernel-state.ts';
import { parseResourceAttributes, readEnviron } from '../discovery/index.ts';
import { AgentError } from '../errors.ts';
import { PrometheusServer } from '../export/prometheus/server.ts';
import { readHostId } from '../export/otlp/host.ts';
import type { OtlpExport } from './otlp.ts';
import { TracePrinter } from '../export/printer.ts';
import { decodeBatch, type DecodeStats } from '../ingest/decode.ts';
import { ConnectionTracker } from '../ingest/connections.ts';
import type { ProtocolConn } from '../protocols/common/descriptor.ts';
import type { ProtocolRecord } from '../protocols/common/records.ts';
import { instrumentationNames, PROTOCOLS } from '../protocols/registry.ts';
import { recordToSpan, type SpanContext } from '../telemetry/record.ts';
import { MonoClock } from '../telemetry/clock.ts';
import { redactorFromConfig } from '../telemetry/redact.ts';
import { RandomIdSource } from '../telemetry/ids.ts';
import { InternalMetrics } from '../telemetry/internal.ts';
import { RedMetrics } from '../telemetry/metrics.ts';
import { DB_METRIC_ATTRIBUTES, DbMetrics } from '../telemetry/db.ts';
import { DNS_METRIC_ATTRIBUTES, DnsMetrics, dnsListed } from '../telemetry/dns.ts';
import { createMessagingMetrics, type MessagingMetrics } from '../telemetry/messaging.ts';
import { SpanProcessor } from '../telemetry/processor.ts';
import { createAvoider } from './avoid.ts';
import { MetricStore } from '../telemetry/store.ts';
import { createRouteResolver } from '../telemetry/routes/index.ts';
import { AttributeSelector, selectHttpMetricAttributes, TRACE_ATTRIBUTES } from '../telemetry/select.ts';
import type { Span } from '../telemetry/span.ts';
import type { Logger } from './log.ts';
import { cachedIngestSnapshot } from './ingest-stats.ts';
import { bindAgentProtocols, httpExtractorsFor, rpcRecorders } from './protocol-hooks.ts';
import { Kernel } from './kernel.ts';
import { Propagation, planPropagation, propagationBlocker, registerPropagationMetrics } from './propagation.ts';
import { capabilityStates } from './capabilities.ts';
import { registerTlsCallMetrics, TlsInstrumenter, type TlsLibraryStatus } from './tls.ts';
import { preflight, type KernelReport } from './preflight.ts';
import { metadataSourcesOn, startMetadata, type MetadataSources } from './metadata.ts';
import { metadataMetricAttributes } from '../telemetry/meta-attrs.ts';
import { createCorrelation, type AgentCorrelation } from './correlation.ts';
import { warmIngest } from './warmup.ts';
import type { SpanCtx } from '../common/trace.ts';
import { NodeContext } from './node-ctx/index.ts';
import { AGENT_SLICE_NS, CpuYield } from './yield.ts';
import { schedYield, setSchedSlice } from '../native/binding.ts';

export interface AgentOptions {
  readonly log: Logger;
  /** where the trace printer writes; default stdout */
  readonly out?: { write(s: string): unknown };
  readonly bpfObjectPath?: string;
  /** skip privilege/BTF/mount checks (tests that run the preflight themselves) */
  readonly skipPreflight?: boolean;
  /**
   * tests: fill each drain with 0xA5 once it has been walked. The ring writes every drain into one
   * Buffer, so a view of a record kept past its call would read the next drain's bytes; poisoned,
   * it reads garbage at once, and the test that kept it fails.
   */
  readonly poisonDrains?: boolean;
}

export interface AgentStatus {
  readonly eventsRead: number;
  readonly kernelEvents: bigint;
  /** events lost before decoding: not submitted by the kernel (ring full), or not kept by a drain (no memory) */
  readonly kernelDropped: bigint;
  /** socket reads and writes of muted connections (no protocol recognised) the kernel skipped */
  readonly kernelMuted: bigint;
  readonly spans: number;
  readonly connections: number;
  /** the processes holding those connections */
  readonly connectionPids: readonly number[];
  readonly tracked: readonly TrackedProcess[];
  /** the lifecycle's other per-process state (ProcessLifecycle) */
  readonly lifecycle: { readonly allowed: number; readonly revoked: number; readonly exited: number; readonly lateSelections: number };
}

export class Agent {
  readonly config: EffectiveConfig;
  readonly store = new MetricStore(); // the application metrics: Prometheus and OTLP are views of it
  private readonly _log: Logger;
  private readonly _opts: AgentOptions;
  private _kernel?: Kernel;
  private _lifecycle?: ProcessLifecycle;
  private _tls?: TlsInstrumenter;
  private _prop?: Propagation;
  private _tracker?: ConnectionTracker;
  private _corr?: AgentCorrelation;
  private _prom?: PrometheusServer;
  private _printer?: TracePrinter;
  private _metrics?: RedMetrics;
  private _dbMetrics?: DbMetrics;
  private _dnsMetrics?: DnsMetrics;
  private _messagingMetrics: MessagingMetrics[] = [];
  private _otlp?: OtlpExport;
  private _internal?: InternalMetrics;
  private _internalStore?: MetricStore;
  private _internalProm?: PrometheusServer;
  private _processor?: SpanProcessor;
  private readonly _clock = new MonoClock();
  private readonly _ids = new RandomIdSource();
  private _spanCtx?: SpanContext;
  private _timers: NodeJS.Timeout[] = [];
  private _batchSpans: Span[] = [];
  /** short stretches of work: the drain gives the CPU away every 0.25 ms (yield.ts) */
  private readonly _cpu = new CpuYield(() => schedYield());
  /** a drain this large means the agent is behind the ring (an eighth of its size, set at start) */
  private _behindBytes = Number.POSITIVE_INFINITY;
  /** the ring is being drained (started, not yet stopped) */
  private _ringOn = false;
  /** records the ring's drains consumed but could not keep (see _eventsLost) */
  private _ringLost = 0;
  private readonly _decodeStats: DecodeStats = { records: 0, malformed: 0, bytesLost: 0 };
  private _spanCount = 0;
  private _kernelReport?: KernelReport;
  private _meta?: MetadataSources;
  private _nodeCtx?: NodeContext;

  constructor(config: EffectiveConfig, opts: AgentOptions) {
    this.config = config;
    this._log = opts.log;
    this._opts = opts;
  }

  get prometheusPort(): number | undefined {
    return this._prom?.port;
  }

  /** where the obi_* metrics are: their own store with internal_metrics.prometheus, else `store` */
  get internalStore(): MetricStore {
    return this._internalStore ?? this.store;
  }

  status(): AgentStatus {
    return {
      eventsRead: this._decodeStats.records,
      kernelEvents: this._kernel?.eventsSubmitted ?? 0n,
      kernelDropped: this._eventsLost(),
      kernelMuted: this._kernel?.mutedIo ?? 0n,
      spans: this._spanCount,
      connections: this._tracker?.size ?? 0,
      connectionPids: this._tracker?.pids ?? [],
      tracked: [...(this._lifecycle?.tracked.values() ?? [])],
      lifecycle: {
        allowed: this._lifecycle?.allowedCount ?? 0,
        revoked: this._lifecycle?.revokedCount ?? 0,
        exited: this._lifecycle?.exitedCount ?? 0,
        lateSelections: this._lifecycle?.lateSelections ?? 0,
      },
    };
  }

  /** the processes owning entries of each per-process kernel map (kernel-state.ts PER_PROCESS_MAPS) */
  kernelMapOwners(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    const bpf = this._kernel?.bpf;
    for (const { map, pidOffset } of PER_PROCESS_MAPS) out[map] = bpf ? bpf.mapKeys(map).map((k) => k.readUInt32LE(pidOffset)) : [];
    return out;
  }

  /** the kernel PID filter's keys (for tests: exited processes leave nothing behind) */
  kernelPids(): number[] {
    return this._kernel?.pids() ?? [];
  }

  /** whether the kernel's fast PID filter (the bitmap) traces `pid` */
  kernelPidBit(pid: number): boolean {
    return this._kernel?.pidBit(pid) ?? false;
  }

  /** pids present in the kernel `conns` map */
  kernelConnPids(): number[] {
    return this._kernel?.connPids() ?? [];
  }

  /** TLS library files with uprobes attached, and the selected processes using each */
  tlsLibraries(): TlsLibraryStatus[] {
    return this._tls?.libraries() ?? [];
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const log = this._log;
    if (!this._opts.skipPreflight) {
      this._kernelReport = preflight();
      log.info('kernel features', { ...this._kernelReport, capabilities: this._kernelReport.capabilities.join(','), warnings: undefined });
      for (const w of this._kernelReport.warnings) log.warn(w);
    }

    // telemetry and exporters first: a taken port fails before anything is attached
    // obi_* metrics get their own endpoint with internal_metrics.prometheus, else sit next to the application metrics
    const internalProm = cfg.internalMetricsExporter === 'prometheus' ? cfg.internal_metrics.prometheus : undefined;
    this._internalStore = internalProm ? new MetricStore() : this.store;
    this._internal = new InternalMetrics(this._internalStore);
    const hostId = readHostId(cfg.attributes.host_id.override);
    // container / Kubernetes metadata labels on application metrics, when a source is on
    const selector = new AttributeSelector(cfg.attributes.select, metadataMetricAttributes(metadataSourcesOn(cfg)));
    const dnsEnabled = dnsListed([cfg.otel_traces_export.instrumentations, cfg.otel_metrics_export.instrumentations, cfg.prometheus_export.instrumentations]);
    const buckets = cfg.prometheus_export.port ? cfg.prometheus_export.buckets : cfg.otel_metrics_export.buckets;
    this._metrics = new RedMetrics(this.store, {
      resource: { hostName: hostname(), hostId },
      attributes: selectHttpMetricAttributes(selector),
      buckets: { duration: buckets.duration_histogram, requestSize: buckets.request_size_histogram, responseSize: buckets.response_size_histogram },
    });
    // OTLP traces/metrics when an endpoint resolves; spans reach it per batch, sent off the capture path.
    // Loaded only then: the exporter packages (protobuf, gRPC) cost ~70 MB of RSS.
    const createOtlpExport =
      resolveOtlp(cfg, 'traces') || resolveOtlp(cfg, 'metrics') ? (await import('./otlp.ts')).createOtlpExport : () => undefined;
    this._otlp = createOtlpExport({
      config: cfg,
      metrics: this._metrics,
      internal: this._internal,
      store: this._internalStore,
      clock: this._clock,
      log,
      hostName: hostname(),
      hostId,
      dbInstrumentations: instrumentationNames(PROTOCOLS.filter((p) => p.category === 'db')),
      messagingInstrumentations: instrumentationNames(PROTOCOLS.filter((p) => p.category === 'messaging')),
      processAttributes: (svc) => {
        const attrs = readEnviron(svc.pid)?.get('OTEL_RESOURCE_ATTRIBUTES');
        return attrs ? parseResourceAttributes(attrs) : undefined;
      },
    });
    this._otlp?.start();
    const routeConfig = {
      patterns: cfg.routes.patterns ?? [],
      unmatched: cfg.routes.unmatched,
      wildcardChar: cfg.routes.wildcard_char,
      maxPathSegmentCardinality: cfg.routes.max_path_segment_cardinality,
      ignoredPatterns: cfg.routes.ignored_patterns,
    };
    const routes = createRouteResolver(routeConfig);
    // db_client_operation_duration_seconds (DB client spans), with the `application` feature
    // dns_lookup_duration_seconds, when the `dns` instrumentation is on
    this._dnsMetrics = dnsEnabled && cfg.metricFeatures.includes('application') ? new DnsMetrics(this.store, { buckets: buckets.duration_histogram, attributes: selector.select('dns.lookup.duration', DNS_METRIC_ATTRIBUTES) }) : undefined;
    if (this._dnsMetrics !== undefined) this._otlp?.addDnsMetrics(this._dnsMetrics);
    if (cfg.metricFeatures.includes('application')) {
      this._dbMetrics = new DbMetrics(this.store, {
        buckets: buckets.duration_histogram,
        attributes: selector.select('db.client.operation.duration', DB_METRIC_ATTRIBUTES),
        instrumentations: cfg.prometheus_export.instrumentations,
      });
      this._otlp?.addDbMetrics(this._dbMetrics);
      // messaging_client_operation_duration_seconds and messaging_process_duration_seconds
      this._messagingMetrics = createMessagingMetrics(this.store, (m, defs) => selector.select(m, defs), { buckets: buckets.duration_histogram, instrumentations: cfg.prometheus_export.instrumentations });
      for (const m of this._messagingMetrics) this._otlp?.addMessagingMetrics(m);
    }
    const queryText = selector.select('traces', TRACE_ATTRIBUTES).includes('db.query.text');
    const redactQuery = redactorFromConfig(cfg.attributes.sensitive_query_params); // url.query / url.full
    this._spanCtx = { ids: this._ids, route: (path, svc) => routes.resolve(path, svc.instanceId), queryText, redactQuery, httpExtractors: agentHttpExtractors(cfg, httpExtractorsFor(agentProtocolSettings(cfg))), httpExtractStats: new Map() };
    // filters, metric features, span-attribute selection and series TTL (telemetry/processor.ts)
    this._processor = new SpanProcessor(this.store, this._metrics, {
      features: cfg.metricFeatures,
      recorders: [this._dbMetrics, this._dnsMetrics, ...genaiRecorders(cfg, this.store, this._otlp), ...this._messagingMetrics, ...rpcRecorders(this.store, { on: cfg.metricFeatures.includes('application'), buckets: buckets.duration_histogram, select: (m, d) => selector.select(m, d), instrumentations: cfg.prometheus_export.instrumentations, otlp: this._otlp })].filter((r) => r !== undefined),
      selector,
      filter: cfg.filter.application,
      isIgnoredPath: cfg.routes.ignored_patterns.length > 0 ? (path) => routes.isIgnored(path) : undefined,
      ignoreMode: cfg.routes.ignore_mode,
      ttlMs: durationMs(cfg.prometheus_export.port ? cfg.prometheus_export.ttl : cfg.otel_metrics_export.ttl),
      durationBuckets: buckets.duration_histogram,
      spanNamesLimit: cfg.attributes.metric_span_names_limit,
      allowSelfReferences: cfg.prometheus_export.allow_service_graph_self_references || cfg.otel_metrics_export.allow_service_graph_self_references,
      resource: { hostName: hostname(), hostId },
      listeners: () => this._lifecycle?.tracked.values() ?? [],
      localAddresses: new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address))),
      avoid: createAvoider(cfg, this._internal, log), // exclude_otel_instrumented_services
    });
    this._internal.setExitedSeriesSource(() => this._processor!.exited.evictedSeries); // telemetry/exited.ts
    // span metrics, service graph and traces_target_info over OTLP too
    this._otlp?.addSpanMetrics(this._processor);
    this._printer = new TracePrinter(cfg.trace_printer, { out: this._opts.out as never, clock: this._clock });
    if (cfg.prometheus_export.port) {
      this._prom = new PrometheusServer({
        port: cfg.prometheus_export.port,
        path: cfg.prometheus_export.path,
        stores: [this.store],
        internal: this._internal,
        extraPaths: internalProm?.port === cfg.prometheus_export.port ? [{ path: internalProm.path, stores: [this._internalStore] }] : undefined,
      });
      await this._prom.start();
    }
    if (internalProm && internalProm.port !== cfg.prometheus_export.port) {
      this._internalProm = new PrometheusServer({ port: internalProm.port, path: internalProm.path, stores: [this._internalStore], internal: this._internal });
      await this._internalProm.start();
    }

    // kernel side
    const admission = prepareExecAdmission(cfg.selectors, log); // exe/language selectors admitted at exec
    const propPlan = planPropagation(cfg.ebpf.context_propagation);
    const propBlocker = propPlan.tcp || propPlan.headers ? propagationBlocker(capabilityStates().some((c) => c.name === 'CAP_NET_ADMIN' && c.present)) : undefined;
    const ringBytes = ringBufferBytes(cfg);
    const kernel = Kernel.load({
      // `headers` loads the TCP option too: its fallback when the self-test fails
      propagation: propBlocker === undefined ? { tcp: propPlan.tcp || propPlan.headers, headers: propPlan.headers } : undefined,
      headersWithoutSkb: process.env.OBI_TS_TEST_HEADERS_WITHOUT_SKB === '1',
      captureSize: cfg.ebpf.capture_size,
      captureUdp: dnsEnabled,
      captureUnix: true, // FastCGI over unix sockets (nginx -> PHP-FPM); other unix sockets are gated out in the kernel
      largeHttp: largeHttpBytes(cfg),
      ringBufferSize: ringBytes,
      wakeupLen: cfg.ebpf.wakeup_len,
      objectPath: this._opts.bpfObjectPath,
      log,
      beforeLoad: admission.beforeLoad,
    });
    this._kernel = kernel;
    const bpf = kernel.bpf;
    admission.install(bpf);
    this._internal.setKernelDropsSource(() => Number(this._eventsLost()));
    if (largeHttpBytes(cfg) > 0) registerLargeCaptureMetrics(this._internalStore ?? this.store, () => kernel.largeCapture);
    // context propagation (pipeline/propagation.ts): the sockops program on the selected processes' cgroups
    const prop = (this._prop = new Propagation({ plan: propPlan, kernel, log, unavailable: propBlocker }));
    await prop.start(); // `headers`: the self-test, before any application socket can be in the sockhash
    registerPropagationMetrics(this._internalStore ?? this.store, prop, () => ({ ...kernel.propagation, ...kernel.injection }));

    this._corr = createCorrelation(this._ids, this._internalStore!, (pid) => this._lifecycle?.tracked.get(pid));
    this._tracker = new ConnectionTracker({
      sink: (rec, conn, ids) => this._onRecord(rec, conn, ids),
      correlator: this._corr.correlator,
      identify: (pid) => this._lifecycle?.identify(pid),
      // no protocol recognised: the kernel stops copying the connection's socket I/O
      onIgnored: (pid, fd, sockId) => kernel.muteConn(pid, fd, sockId),
      // a provisional exec admission user space revoked: records of a process never selected
      onUnidentified: (pid, n) => prop.selfTestPids.has(pid) || this._internal!.spansDropped(this._lifecycle?.wasRevoked(pid) ? 'not_selected' : 'unknown_process', n),
      idleTimeoutNs: durationMs(cfg.ebpf.max_transaction_time ?? '5m') * 1e6,
      protocols: bindAgentProtocols(agentProtocolSettings(cfg), dnsEnabled, this._internal),
    });
    const tracker = this._tracker;
    // the ingest path compiled and optimized before the first selected process's records come
    // (pipeline/warmup.ts): a cold agent under load lost events. Once, at the first selection: an
    // agent that selects nothing keeps the ~17 MB it would cost
    let warmed = false;
    const spanCtx = this._spanCtx!;
    const warmUp = (): void => {
      if (warmed) return;
      warmed = true;
      const warmRoutes = createRouteResolver(routeConfig);
      const warm = warmIngest({
        protocols: bindAgentProtocols(agentProtocolSettings(cfg), dnsEnabled, undefined),
        spanCtx: { ...spanCtx, route: (path, svc) => warmRoutes.resolve(path, svc.instanceId), httpExtractStats: new Map() },
        ids: this._ids,
      });
      log.debug('ingest warmed up', { rounds: warm.rounds, records: warm.records, spans: warm.spans, ms: Math.round(warm.ms) });
    };
    this._internal.setIngestSource(cachedIngestSnapshot(tracker, this._decodeStats, undefined, this._spanCtx?.httpExtractStats));

    // TLS libraries of selected processes get uprobes (bpf/probes/ssl.h, go_tls.h), per file, ref-counted
    // parent links in Node.js processes through the inspector (pipeline/node-ctx/, nodejs.enabled)
    const nodeCtx = (this._nodeCtx = cfg.nodejs.enabled ? new NodeContext({ bpf, log, internalStore: this.internalStore, correlator: this._corr.correlator }) : undefined);
    const tls = new TlsInstrumenter({ bpf, log, skipGo: cfg.discovery.skip_go_specific_tracers, onError: (name, type) => this._internal!.instrumentationError(name, type) });
    this._tls = tls;
    registerTlsCallMetrics(this._internalStore ?? this.store, () => kernel.tlsCalls);
    // container / Kubernetes metadata, per process (pipeline/metadata.ts)
    const meta = (this._meta = await startMetadata(cfg, log, (id) => this._safe(() => this._lifecycle?.reidentifyContainer(id))));
    this._lifecycle = new ProcessLifecycle({
      decorate: meta.decorate,
      include: cfg.selectors,
      exclude: cfg.excludeSelectors,
      defaultExclude: [],
      selfPid: process.pid,
      minProcessAgeMs: durationMs(cfg.discovery.min_process_age),
      filter: {
        allow: (pid) => (warmUp(), kernel.tracePid(pid, true)),
        block: (pid) => void (kernel.tracePid(pid, false), purgeKernelState(bpf, pid)), // with what it did while traced
      },
      onSelected: (p) => {
        warmUp(); // a process the kernel admitted at exec was traced before this
        this._metrics!.registerService(p.service);
        this._processor!.registerService(p.service);
        this._internal!.instrumentProcess(p.service.name);
        log.info('instrumenting process', {
          pid: p.pid,
          service: p.service.name,
          namespace: p.service.namespace || undefined,
          exe: p.info.exePath,
          ports: p.info.listenPorts.join(',') || undefined,
          language: p.info.language,
          via: p.via,
        });
        tls.instrument(p.pid, p.service.name);
        nodeCtx?.selected(p.pid, p.info.language, p.info.exePath);
        prop.selected(p);
      },
      onRemoved: (p) => {
        tls.release(p.pid);
        nodeCtx?.removed(p.pid);
        prop.removed(p.pid);
        meta.forget(p.pid);
        this._internal!.uninstrumentProcess(p.service.name);
        this._processor!.removeService(p.service);
        this._internal!.removeAvoidedService(p.service.instanceId);
        log.info('process gone', { pid: p.pid, service: p.service.name });
      },
      // the kernel id rule follows the new image (a shell that execs Node.js). Not the inspector linker: a
      // SIGUSR1 right after exec can reach Node before its inspector is ready and abort it (seen in a test)
      onExecTracked: (p) => prop.selected(p),
      // a late span of an exited process registered its service again (metrics.ts): not for ever
      onForgotten: (p) => this._processor!.forgetService(p.service),
    });

    this._behindBytes = ringBytes / 8;
    // a short time slice for the draining thread (pipeline/yield.ts, AGENT_SLICE_NS); older kernels keep theirs
    const sliceErr = setSchedSlice(AGENT_SLICE_NS);
    log.debug('agent time slice', { ns: AGENT_SLICE_NS, set: sliceErr === 0, errno: sliceErr });
    bpf.ringbufStart(ObiMap.events, Math.max(1, durationMs(cfg.ebpf.drain_interval)), (batch) => this._onBatch(batch));
    this._ringOn = true;
    this._lifecycle.scan(true);
    log.info('selection', { selected: this._lifecycle.tracked.size, selectors: cfg.selectors.length });
    prop.report();

    const poll = Math.max(100, durationMs(cfg.discovery.poll_interval) || 5000);
    this._timers.push(setInterval(() => this._safe(() => this._lifecycle!.scan(false)), poll));
    this._timers.push(
      setInterval(() => this._safe(() => (this._tracker!.sweep(this._nowNs()), this._corr!.correlator.expire(this._nowNs()), this._flushSpans())), 10_000),
    );
    // closed TLS connections with requests unanswered end their wait for late plaintext on time,
    // also when no further event comes (their spans would otherwise wait for unrelated traffic)
    this._timers.push(
      setInterval(() => this._safe(() => this._tracker!.lingering > 0 && (this._tracker!.expireLingering(this._nowNs()), this._flushSpans())), 250),
    );
    const ttlMs = this._processor.ttlMs;
    if (ttlMs > 0) this._timers.push(setInterval(() => this._safe(() => this._processor!.expire(performance.now())), Math.max(100, Math.min(ttlMs / 2, 30_000))));
    // spans the Node.js linker holds are released even when no batch arrives
    if (nodeCtx) this._timers.push(setInterval(() => this._safe(() => nodeCtx.held > 0 && this._flushSpans()), 250));
    for (const t of this._timers) t.unref();
    if (this._prom) log.info('Prometheus metrics', { url: `http://localhost:${this._prom.port}${cfg.prometheus_export.path}` });
  }

  /**
   * Events lost before decoding: those the kernel could not submit (ring full), plus those a drain
   * consumed from the ring but had no memory to keep (native/src/ringbuf.c; read from the ring while
   * it runs, kept from its last drain after).
   */
  private _eventsLost(): bigint {
    const kernel = this._kernel;
    if (kernel === undefined) return 0n;
    if (this._ringOn) this._ringLost = kernel.bpf.ringbufLost();
    return kernel.eventsDropped + BigInt(this._ringLost);
  }

  private _nowNs(): number {
    return Number(process.hrtime.bigint());
  }

  private _safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this._log.error('internal error', { error: (err as Error).stack ?? String(err) });
    }
  }

  private _onBatch(batch: Buffer): void {
    const t0 = performance.now();
    const before = this._decodeStats.records;
    const lostBefore = this._decodeStats.bytesLost;
    const tracker = this._tracker!;
    const cpu = this._cpu;
    // a drain of an eighth of the ring or more: the agent is behind, and works through without yielding
    cpu.begin(batch.byteLength >= this._behindBytes);
    const yieldedBefore = cpu.yieldedMs;
    const yieldsBefore = cpu.count;
    let flushMs = 0;
    decodeBatch(
      batch,
      {
        data: (ev, payload) => {
          tracker.onData(ev, payload);
          if (!cpu.due()) return;
          // the spans decided so far go out before the CPU is given away
          const f = performance.now();
          this._flushSpans();
          flushMs += performance.now() - f;
          cpu.yieldNow();
        },
        conn: (ev) => tracker.onConn(ev),
        close: (ev) => tracker.onClose(ev),
        stream: (ev) => tracker.onStream(ev),
        proc: (ev) => this._onProc(ev),
      },
      this._decodeStats,
    );
    const n = this._decodeStats.records - before;
    this._internal!.eventsRead(n);
    this._internal!.tracerFlush(n);
    this._internal!.bytesLost(this._decodeStats.bytesLost - lostBefore);
    this._internal!.bytesRead(batch.length);
    this._corr!.update();
    const t1 = performance.now();
    this._flushSpans();
    const yielded = cpu.yieldedMs - yieldedBefore;
    this._internal!.cpuYields(cpu.count - yieldsBefore);
    this._internal!.stageTime('ingest', (t1 - t0 - flushMs - yielded) / 1000);
    this._internal!.stageTime('process', (performance.now() - t1 + flushMs) / 1000);
    if (this._opts.poisonDrains) batch.fill(0xa5);
  }

  private _onProc(ev: ObiProcEvent): void {
    const lc = this._lifecycle!;
    switch (ev.hdrType) {
      case ObiEventType.OBI_EV_EXEC: {
        const admitted = (ev.flags & ObiProcFlags.OBI_PROC_ADMITTED) !== 0;
        // argv as the kernel saw it at exec (copied: the event is a view into the drain buffer)
        const args = admitted ? Buffer.from(ev.args.subarray(0, Math.min(ev.argsLen, ev.args.length))) : undefined;
        lc.onExec(ev.hdrPid, { admitted, path: ev.path, ppid: ev.ppid, args });
        const t = lc.tracked.get(ev.hdrPid);
        if (t) this._tls?.instrument(t.pid, t.service.name); // its new image's TLS libraries (idempotent)
        break;
      }
      case ObiEventType.OBI_EV_LISTEN:
        lc.onListen(ev.hdrPid, ev.port);
        break;
      case ObiEventType.OBI_EV_FORK:
        lc.onFork(ev.hdrPid, ev.ppid);
        break;
      case ObiEventType.OBI_EV_THREAD:
        this._corr!.correlator.threadCreated(ev.hdrPid, ev.ppid, ev.tid, ev.hdrTsNs);
        break;
      case ObiEventType.OBI_EV_EXIT:
        this._tracker!.dropPid(ev.hdrPid, ev.hdrTsNs);
        // its last spans before its service is removed: recorded after, they would register its
        // series again (metrics.ts `record`), and under churn those would never go
        this._flushSpans();
        this._corr!.correlator.forgetPid(ev.hdrPid);
        lc.onExit(ev.hdrPid);
        break;
    }
  }

  private _onRecord(rec: ProtocolRecord, conn: ProtocolConn, ids: SpanCtx | undefined): void {
    const span = recordToSpan(rec, conn, this._spanCtx!, ids);
    if (span) this._batchSpans.push(span);
  }

  private _flushSpans(): void {
    let spans = this._batchSpans;
    if (spans.length === 0 && !(this._nodeCtx && this._nodeCtx.held > 0)) return;
    this._batchSpans = [];
    if (this._nodeCtx) spans = this._nodeCtx.link(spans, this._nowNs());
    if (spans.length === 0) return;
    this._spanCount += spans.length;
    const { traces, dropped } = this._processor!.process(spans, performance.now());
    if (dropped > 0) this._internal!.spansDropped('filtered', dropped);
    this._printer!.print(traces);
    this._otlp?.offer(traces);
  }

  /** Node.js processes attached for context correlation: pid → inspector port (pipeline/node-ctx/). */
  nodeContextAttached(): ReadonlyMap<number, number> {
    return this._nodeCtx?.attacher.attached ?? new Map();
  }

  /** Resolves when no Node.js attach is in progress. */
  async nodeContextIdle(): Promise<void> {
    await this._nodeCtx?.attacher.idle();
  }

  /** Ordered shutdown: detach, drain once more, flush, close. */
  async stop(): Promise<void> {
    for (const t of this._timers) clearInterval(t);
    this._timers = [];
    // the Node.js hooks go first, while the processes are still traced (their last spans are joined)
    await this._nodeCtx?.detach();
    const kernel = this._kernel;
    if (kernel) {
      const bpf = kernel.bpf;
      this._tls?.close();
      this._prop?.close();
      kernel.detach();
      try {
        this._onBatch(bpf.ringbufDrain());
        this._ringLost = bpf.ringbufLost();
        this._ringOn = false;
        bpf.ringbufStop();
      } catch (err) {
        if (!AgentError.is(err)) throw err;
      }
      this._tracker?.closeAll(this._nowNs());
      this._flushSpans();
      if (this._nodeCtx) this._batchSpans.push(...this._nodeCtx.flush());
      this._flushSpans();
      kernel.close();
      this._kernel = undefined;
    }
    this._printer?.flush();
    this._printer?.close();
    await this._meta?.close();
    await this._otlp?.shutdown();
    await this._prom?.stop();
    await this._internalProm?.stop();
  }
}
