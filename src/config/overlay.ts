/** The environment overlay: OTEL_EBPF_* variables set YAML keys, converted to the schema's types. */
import { envBindings, formatPath, resolveNode, typesOf, type SchemaNode } from './schema-meta.ts';
import { parseGoBool, splitList, type Env } from './env.ts';
import { closest, getAt, SCHEMA, setAt, type Context, type Converted, type Json } from './problems.ts';

function convertEnv(raw: string, node: SchemaNode, name: string): Converted {
  if (node['x-env-syntax']?.[name] === 'milliseconds') {
    return /^\d+$/.test(raw.trim()) ? { ok: true, value: `${raw.trim()}ms` } : { ok: false, message: 'must be a whole number of milliseconds' };
  }
  const types = typesOf(node);
  if (types.length !== 1) return { ok: true, value: raw };
  switch (types[0]) {
    case 'string':
      return { ok: true, value: raw };
    case 'integer':
      return /^\s*[+-]?\d+\s*$/.test(raw) ? { ok: true, value: Number(raw) } : { ok: false, message: 'must be an integer' };
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: 'must be a number' };
    }
    case 'boolean': {
      const b = parseGoBool(raw.trim());
      return b === undefined ? { ok: false, message: 'must be true or false' } : { ok: true, value: b };
    }
    case 'array': {
      const item = node.items === undefined ? undefined : resolveNode(SCHEMA, node.items);
      const parts = splitList(raw);
      if (item !== undefined && typesOf(item).some((t) => t === 'number' || t === 'integer')) {
        const nums = parts.map(Number);
        return nums.every(Number.isFinite) ? { ok: true, value: nums } : { ok: false, message: 'must be a comma-separated list of numbers' };
      }
      return { ok: true, value: parts };
    }
    default:
      return { ok: false, message: 'cannot be set from the environment' };
  }
}

export function overlayEnv(data: Json, env: Env, ctx: Context): void {
  const bindings = envBindings(SCHEMA);
  for (const b of bindings) {
    const name = b.env.find((e) => env[e] !== undefined && env[e] !== '');
    if (name === undefined) continue;
    applyEnv(data, b.path, b.node, name, env[name]!, ctx);
  }
  for (const b of bindings) {
    if (b.fallback.length === 0 || getAt(data, b.path) !== undefined) continue;
    const name = b.fallback.find((e) => env[e] !== undefined && env[e] !== '');
    if (name !== undefined) applyEnv(data, b.path, b.node, name, env[name]!, ctx);
  }
}

function applyEnv(data: Json, path: readonly string[], node: SchemaNode, name: string, raw: string, ctx: Context): void {
  ctx.envSources.set(formatPath(path), name);
  const c = convertEnv(raw, node, name);
  if (!c.ok) {
    ctx.report(path, c.message, raw);
    return;
  }
  setAt(data, path, c.value);
}

export function warnUnknownEnv(env: Env, ctx: Context): void {
  const known = new Set<string>(['OTEL_EBPF_CONFIG_PATH']);
  for (const b of envBindings(SCHEMA)) for (const e of [...b.env, ...b.fallback]) known.add(e);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('OTEL_EBPF_') || known.has(name)) continue;
    const hint = closest(name, known);
    ctx.warnings.push(`unknown environment variable ${name} is ignored${hint !== undefined ? `; did you mean ${hint}?` : ''}`);
  }
}

// ------------------------------------------------------------------ normalisation

/** null = unset; YAML 1.1 booleans; scalars into string keys; comma strings into lists; case. */
