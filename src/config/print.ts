/**
 * `--print-config`: the effective configuration as YAML or JSON. The output is the YAML-shaped
 * part of EffectiveConfig (derived views left out), so it loads back with `--config`.
 * Secrets are masked: header values (`k=***`) and passwords in endpoint URLs.
 */
import { stringify } from 'yaml';
import schemaJson from './schema.json' with { type: 'json' };
import { DERIVED_KEYS, type EffectiveConfig } from './load.ts';
import { childNode, resolveNode, type SchemaNode } from './schema-meta.ts';

const SCHEMA = schemaJson as unknown as SchemaNode;
export const MASK = '***';

function maskHeaders(text: string): string {
  return text
    .split(',')
    .map((entry) => {
      const eq = entry.indexOf('=');
      return eq === -1 ? entry : `${entry.slice(0, eq + 1)}${MASK}`;
    })
    .join(',');
}

function maskUrl(text: string): string {
  if (!URL.canParse(text)) return text;
  const u = new URL(text);
  if (u.password === '') return text;
  u.password = MASK;
  return u.href;
}

function plain(value: unknown, node: SchemaNode | undefined): unknown {
  const r = node === undefined ? undefined : resolveNode(SCHEMA, node);
  if (typeof value === 'string' && r !== undefined) {
    if (r['x-obi-ts-secret'] === true) return maskHeaders(value);
    if (r['x-obi-ts-format'] === 'url') return maskUrl(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => plain(v, r?.items));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (node === SCHEMA && DERIVED_KEYS.includes(k)) continue;
      out[k] = plain(v, r === undefined ? undefined : childNode(SCHEMA, r, k));
    }
    return out;
  }
  return value;
}

/** The effective configuration, secrets masked, as YAML (with a comment header) or JSON. */
export function formatConfig(config: EffectiveConfig, format: 'yaml' | 'json'): string {
  const doc = plain(config, SCHEMA);
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  const head = [
    '# obi-ts effective configuration (built-in defaults < file < environment)',
    `# loaded from: ${config.configPath ?? '(no file)'}`,
    ...config.loadWarnings.map((w) => `# warning: ${w}`),
  ];
  return `${head.join('\n')}\n${stringify(doc, { lineWidth: 0 })}`;
}
