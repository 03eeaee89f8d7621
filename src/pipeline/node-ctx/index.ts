/**
 * The Node.js context correlation as the agent wires it (docs/devdocs/correlation-node.md): an
 * attacher for selected Node processes and the linker its reports feed, behind four calls the
 * agent makes (selected, removed, spans of a batch, stop).
 */
import type { CorrelationPolicy, Correlator } from '../../telemetry/correlate.ts';
import type { FamilyTarget } from '../../telemetry/family.ts';
import { NodeContextLinker } from '../../telemetry/node-links.ts';
import type { Span } from '../../telemetry/span.ts';
import type { Logger } from '../log.ts';
import { isNodeExecutable, NodeCtxAttacher, type SigProbeMaps } from './attach.ts';

export interface NodeContextOptions {
  readonly bpf: SigProbeMaps;
  readonly log: Logger;
  /** where the obi_nodejs_context_* self-metrics go */
  readonly internalStore: FamilyTarget;
  readonly watchdogMs?: number;
  /** the request correlator (telemetry/correlate.ts): an attached process gets the `custom` policy */
  readonly correlator?: Pick<Correlator, 'setPolicy'>;
}

/**
 * The correlator's policy for an attached process: its client spans are not linked at request
 * start (thread correlation is wrong on an event loop) nor counted `event_loop`; the linker links
 * them when their reports and server span are in (its own obi_nodejs_context_links_total). Their
 * request ctx stays pending until then (`defers`), so that the server at the other end of the
 * connection, joined under it, takes the trace the linker decides.
 */
const ATTACHED: CorrelationPolicy = { kind: 'custom', provider: { defers: true, parentOf: () => undefined } };

export class NodeContext {
  readonly linker: NodeContextLinker;
  readonly attacher: NodeCtxAttacher;

  constructor(o: NodeContextOptions) {
    this.linker = new NodeContextLinker({ onTracked: (pid, on) => o.correlator?.setPolicy(pid, on ? ATTACHED : undefined) });
    this.attacher = new NodeCtxAttacher({ bpf: o.bpf, log: o.log, linker: this.linker, watchdogMs: o.watchdogMs });
    this.linker.registerMetrics(o.internalStore);
    this.attacher.registerMetrics(o.internalStore);
  }

  /** A process was selected: attach when it is Node.js. */
  selected(pid: number, language: string, exe: string): void {
    if (language === 'nodejs' || isNodeExecutable(exe)) this.attacher.attach(pid);
  }

  removed(pid: number): void {
    this.attacher.forget(pid);
  }

  /** The spans of one batch → the spans ready for export (see NodeContextLinker.link). */
  link(spans: readonly Span[], nowNs: number): Span[] {
    // the agent's own requests to an inspector port it opened (/json/list, the WebSocket upgrade) are not the service's
    const a = this.attacher;
    const own = spans.filter((s) => s.conn !== undefined && s.conn.role === 'server' && a.isInspectorPort(s.conn.pid, s.conn.localPort));
    return this.linker.link(own.length === 0 ? spans : spans.filter((s) => !own.includes(s)), nowNs);
  }

  /** Spans waiting for a report or their server span. */
  get held(): number {
    return this.linker.held;
  }

  /** Detaches from every process: hooks removed, inspectors closed. */
  detach(): Promise<void> {
    return this.attacher.close();
  }

  /** The spans still held, released unlinked where not joined (shutdown, after the last drain). */
  flush(): Span[] {
    return this.linker.flush();
  }
}
