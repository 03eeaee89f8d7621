/**
 * Environment handling: Beyla compatibility copies, `${VAR}` substitution in the YAML text,
 * and conversion of env strings to the types the schema expects. Pure: the environment is
 * passed in, never read from `process.env` here.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Beyla compatibility, as OBI does: every `BEYLA_X` is copied to `OTEL_EBPF_X` when the latter
 * is unset; then every `BEYLA_OTEL_X` to `OTEL_EBPF_X` when still unset. Returns a new object.
 */
export function withBeylaCompat(env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  const names = Object.keys(env).filter((k) => k.startsWith('BEYLA_')).sort();
  for (const name of names) {
    const target = `OTEL_EBPF_${name.slice(6)}`;
    if (out[target] === undefined) out[target] = env[name];
  }
  for (const name of names) {
    if (!name.startsWith('BEYLA_OTEL_')) continue;
    const target = `OTEL_EBPF_${name.slice(11)}`;
    if (out[target] === undefined) out[target] = env[name];
  }
  return out;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Expansion {
  readonly text: string;
  /** variables referenced without a default while unset (substituted by '') */
  readonly unset: readonly string[];
}

/**
 * Substitutes `${VAR}`, `$(VAR)`, `${env:VAR}` and `${VAR:-default}` (default used when VAR is
 * unset or empty); `$$` yields `$`. Anything else (a bare `$VAR`, `$` before other text, an
 * unterminated reference) is left as written, so regular expressions such as `^/api$` survive.
 */
export function expandEnvReferences(text: string, env: Env): Expansion {
  const unset: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const d = text.indexOf('$', i);
    if (d === -1 || d === text.length - 1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, d);
    const next = text[d + 1];
    if (next === '$') {
      out += '$';
      i = d + 2;
      continue;
    }
    const close = next === '{' ? '}' : next === '(' ? ')' : undefined;
    const end = close === undefined ? -1 : text.indexOf(close, d + 2);
    if (end === -1) {
      out += '$';
      i = d + 1;
      continue;
    }
    let inner = text.slice(d + 2, end);
    let fallback: string | undefined;
    if (close === '}') {
      if (inner.startsWith('env:')) inner = inner.slice(4);
      const sep = inner.indexOf(':-');
      if (sep !== -1) {
        fallback = inner.slice(sep + 2);
        inner = inner.slice(0, sep);
      }
    }
    if (!NAME.test(inner)) {
      out += '$';
      i = d + 1;
      continue;
    }
    const value = env[inner];
    if (fallback !== undefined) {
      out += value === undefined || value === '' ? fallback : value;
    } else {
      if (value === undefined && !unset.includes(inner)) unset.push(inner);
      out += value ?? '';
    }
    i = end + 1;
  }
  return { text: out, unset };
}

/** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. */
export function parseGoBool(text: string): boolean | undefined {
  switch (text) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

/** YAML 1.1 booleans that Go's yaml.v3 accepts for bool fields (matched case-insensitively). */
export function parseYaml11Bool(text: string): boolean | undefined {
  switch (text.toLowerCase()) {
    case 'y': case 'yes': case 'on': case 'true':
      return true;
    case 'n': case 'no': case 'off': case 'false':
      return false;
    default:
      return undefined;
  }
}

/** `a, b,,c` → ['a', 'b', 'c'] (trimmed, empty entries dropped). */
export function splitList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}
