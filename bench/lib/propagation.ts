/** The report's context-propagation table (the `<app>-prop-<mode>` rows). Pure. */
import { f0, f2, f3, fmtSpread } from './format.ts';
import type { Spread } from './stats.ts';
import type { Row } from './types.ts';

/**
 * The cost of each context-propagation mode, per application: throughput over the same
 * repetition's baseline and over the `off` mode's, and where the cost lands (server CPU,
 * client CPU, agent CPU), with what each mode put on the wire.
 */
export function propagationTable(rows: readonly Row[]): string[] {
  const row = (scenario: string, config: Row['config']): Row | undefined => rows.find((r) => r.scenario === scenario && r.config === config);
  const L: string[] = [];
  for (const app of ['nginx', 'node'] as const) {
    const of = (mode: string): Row | undefined => row(`${app}-prop-${mode}`, 'obi');
    const off = of('off');
    const modes = (['off', 'tcp', 'headers'] as const).filter((m) => of(m));
    if (modes.length === 0) continue;
    if (L.length === 0) {
      L.push('## Context propagation: the cost of each mode');
      L.push('');
      L.push('wrk traced as well as the server (2 spans per request); ratio vs none: over the same repetition\'s run without the agent; vs off: that ratio over the `off` mode\'s. Per request: options written (TCP segments with the option), server requests whose ids the kernel took from a received option (nginx; Node.js servers are decided in user space and count under the `tcp_option` link), traceparent headers inserted, and how spans got their parent (`obi_correlated_spans_total{link}`: on one host `off` still joins both ends by connection).');
    }
    L.push('');
    L.push(`### ${app === 'nginx' ? 'nginx static file' : 'Node.js http server'}`);
    L.push('');
    L.push('| mode (ran) | req/s | ratio vs none | vs off | p99 ratio | server CPU per request | wrk CPU per request | agent CPU per request | options written | server parents from an option in the kernel | headers inserted | spans given a parent, by link |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const mode of modes) {
      const x = of(mode)!;
      const none = row(`${app}-prop-${mode}`, 'none');
      const withNone = (v: Spread | undefined, n: Spread | undefined): string => `${fmtSpread(v, f2, ' µs')}${n ? ` (none ${f2(n.median)})` : ''}`;
      const vsOff = x.ratio && off?.ratio && mode !== 'off' ? f3(x.ratio.median / off.ratio.median) : '1';
      const links = Object.entries(x.linksPerRequest ?? {}).filter(([, v]) => v >= 0.005).map(([k, v]) => `${k} ${f2(v)}`).join(', ') || '–';
      L.push(`| ${mode}${x.propModes ? ` (${x.propModes.join('; ')})` : ''} | ${fmtSpread(x.rps, f0)} | ${fmtSpread(x.ratio, f3)} | ${vsOff} | ${fmtSpread(x.p99Ratio, f2)} | ${withNone(x.appCpuUsPerRequest, none?.appCpuUsPerRequest)} | ${withNone(x.loadGenCpuUsPerRequest, none?.loadGenCpuUsPerRequest)} | ${fmtSpread(x.agentUsPerRequest, f2, ' µs')} | ${fmtSpread(x.optionsWrittenPerRequest, f2)} | ${fmtSpread(x.parentsPerRequest, f2)} | ${fmtSpread(x.injectionsPerRequest, f2)} | ${links} |`);
    }
  }
  return L;
}
