/** The report's chart: throughput ratios as horizontal bars (SVG). Pure. */
import { isPaced, isProp, TARGETS } from './report.ts';
import type { ConfigId, Row } from './types.ts';

const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const SHORT_LABEL: Readonly<Record<ConfigId, string>> = { none: 'no instrumentation', idle: 'obi-ts attached, idle', obi: 'obi-ts', sdk: 'OTel Node SDK' };

const CONFIG_COLOR: Readonly<Record<ConfigId, string>> = { none: '#999999', idle: '#9bb7d4', obi: '#1f7a6d', sdk: '#d9822b' };

/** Horizontal bars: throughput ratio (median, min–max whiskers) per scenario and configuration, with each scenario's target. */
export function renderSvg(rows: readonly Row[], title: string): string {
  const bars = rows.filter((r) => r.ratio && !isPaced(r.scenario) && !isProp(r.scenario));
  const targetOf = (sc: string): number | undefined => (sc.startsWith('nginx') ? TARGETS.nginxRatio : sc === 'node' ? TARGETS.nodeRatio : undefined);
  const left = 250;
  const plotW = 420;
  const rowH = 26;
  const top = 48;
  const width = left + plotW + 70;
  const height = top + Math.max(1, bars.length) * rowH + 56;
  const xMax = Math.max(1.1, ...bars.map((b) => b.ratio!.max + 0.05));
  const x = (v: number): number => left + (Math.max(0, v) / xMax) * plotW;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  o.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${xmlEsc(title)}</text>`);
  o.push(`<text x="${width / 2}" y="36" text-anchor="middle" fill="#555">throughput / throughput without instrumentation (median; whiskers min–max; red tick = target)</text>`);
  for (let v = 0; v <= xMax + 1e-9; v += 0.25) {
    const gx = x(v).toFixed(1);
    o.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + bars.length * rowH}" stroke="${Math.abs(v - 1) < 1e-9 ? '#333' : '#ddd'}" stroke-width="1"/>`);
    o.push(`<text x="${gx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#333">${v.toFixed(2)}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const r = b.ratio!;
    const label = `${b.scenario} · ${SHORT_LABEL[b.config]}`;
    o.push(`<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${xmlEsc(label)}</text>`);
    o.push(`<rect x="${left}" y="${y + 5}" width="${(x(r.median) - left).toFixed(1)}" height="${rowH - 10}" fill="${CONFIG_COLOR[b.config]}"/>`);
    const cy = y + rowH / 2;
    o.push(`<line x1="${x(r.min).toFixed(1)}" y1="${cy}" x2="${x(r.max).toFixed(1)}" y2="${cy}" stroke="#000" stroke-width="1"/>`);
    for (const v of [r.min, r.max]) o.push(`<line x1="${x(v).toFixed(1)}" y1="${cy - 4}" x2="${x(v).toFixed(1)}" y2="${cy + 4}" stroke="#000" stroke-width="1"/>`);
    const t = b.config === 'obi' ? targetOf(b.scenario) : undefined;
    const tx = Math.max(x(r.max), t !== undefined ? x(t) : 0) + 6;
    o.push(`<text x="${tx.toFixed(1)}" y="${cy + 4}" fill="#000">${r.median.toFixed(3)}</text>`);
    if (t !== undefined) o.push(`<line x1="${x(t).toFixed(1)}" y1="${y + 2}" x2="${x(t).toFixed(1)}" y2="${y + rowH - 2}" stroke="#d62728" stroke-width="2"/>`);
  });
  if (bars.length === 0) o.push(`<text x="${width / 2}" y="${top + 16}" text-anchor="middle" fill="#555">no configuration with a baseline in this run</text>`);
  const ly = top + bars.length * rowH + 36;
  let lx = left;
  for (const c of ['idle', 'obi', 'sdk'] as const) {
    o.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${CONFIG_COLOR[c]}"/>`);
    o.push(`<text x="${lx + 16}" y="${ly}">${xmlEsc(c === 'idle' ? 'obi-ts idle' : c === 'obi' ? 'obi-ts' : 'OTel Node SDK')}</text>`);
    lx += 130;
  }
  o.push(`<line x1="${lx + 6}" y1="${ly - 11}" x2="${lx + 6}" y2="${ly + 2}" stroke="#d62728" stroke-width="2"/>`);
  o.push(`<text x="${lx + 16}" y="${ly}">target</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}
