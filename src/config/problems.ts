/**
 * How configuration problems are collected and worded: every problem of a load is reported at
 * once, each line naming the YAML path, the env vars that set it, and the bad value with where it
 * came from (file line or env var); unknown keys get the closest known key as a suggestion.
 */
import type { ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import schemaJson from './schema.json' with { type: 'json' };
import { allKeys, formatPath, knownKeys, nodeAtPath, parseInstancePath, type PathSegment, type SchemaNode } from './schema-meta.ts';

export const SCHEMA = schemaJson as unknown as SchemaNode;

/** top-level keys of other configuration formats, answered with a specific message */
const FOREIGN_KEYS: Readonly<Record<string, string>> = {
  version: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
  file_format: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
  extensions: 'configuration format v2 (OpenTelemetry declarative configuration) is not supported yet; use the v1 format',
};

export type Json = Record<string, unknown>;

export interface Problem {
  readonly path: readonly PathSegment[] | undefined;
  readonly message: string;
  readonly value?: unknown;
  readonly hasValue: boolean;
}

export class Context {
  readonly problems: Problem[] = [];
  readonly warnings: string[] = [];
  /** formatted YAML path → env var that set it */
  readonly envSources = new Map<string, string>();
  doc: Document | undefined;
  lines: LineCounter | undefined;

  report(path: readonly PathSegment[] | undefined, message: string, ...value: [] | [unknown]): void {
    this.problems.push({ path, message, value: value[0], hasValue: value.length > 0 });
  }

  format(p: Problem): string {
    if (p.path === undefined) return `  - ${p.message}`;
    const node = nodeAtPath(SCHEMA, p.path);
    const envs = [...(node?.['x-env'] ?? []), ...(node?.['x-env-fallback'] ?? [])];
    let line = `  - ${formatPath(p.path)}${envs.length > 0 ? ` (env ${envs.join(', ')})` : ''}: ${p.message}`;
    const origin = this.origin(p.path);
    if (p.hasValue) {
      line += `; got ${show(p.value)}`;
      if (origin !== undefined) line += origin.env !== undefined ? ` from ${origin.env}` : ` at line ${origin.line}`;
    } else if (origin !== undefined) {
      line += origin.env !== undefined ? ` (from ${origin.env})` : ` (line ${origin.line})`;
    }
    return line;
  }

  /** The env var that set the value at `path` (or an ancestor), else its line in the file. */
  origin(path: readonly PathSegment[]): { env?: string; line?: number } | undefined {
    for (let n = path.length; n > 0; n--) {
      const env = this.envSources.get(formatPath(path.slice(0, n)));
      if (env !== undefined) return { env };
    }
    if (this.doc === undefined || this.lines === undefined) return undefined;
    const offset = keyOffset(this.doc, path);
    return offset === undefined ? undefined : { line: this.lines.linePos(offset).line };
  }
}

export function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Offset of the key (or sequence item) at `path` in the file; undefined when not written there. */
function keyOffset(doc: Document, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let found: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      const k = pair?.key as { range?: [number, number, number] } | null | undefined;
      if (pair === undefined || k?.range === undefined) return undefined;
      found = k.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (item?.range === undefined) return undefined;
      found = item.range[0];
      node = item;
    } else {
      return undefined;
    }
  }
  return found;
}

// ------------------------------------------------------------------ suggestions

/** optimal string alignment distance: Levenshtein plus adjacent transpositions (`prot` → `port` is 1) */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 4 ? 1 : word.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

let keyIndex: Map<string, string[]> | undefined;

export function unknownKeyMessage(parentPath: readonly PathSegment[], parent: SchemaNode, key: string): string {
  if (parentPath.length === 0 && FOREIGN_KEYS[key] !== undefined) return `unknown key: ${FOREIGN_KEYS[key]}`;
  const sibling = closest(key, knownKeys(SCHEMA, parent));
  if (sibling !== undefined) return `unknown key; did you mean "${sibling}"?`;
  keyIndex ??= (() => {
    const m = new Map<string, string[]>();
    for (const k of allKeys(SCHEMA)) {
      const last = k.path[k.path.length - 1]!;
      m.set(last, [...(m.get(last) ?? []), formatPath(k.path)]);
    }
    return m;
  })();
  const elsewhere = keyIndex.get(key);
  if (elsewhere !== undefined && elsewhere.length <= 3) return `unknown key here; did you mean ${elsewhere.map((p) => `"${p}"`).join(' or ')}?`;
  return 'unknown key';
}

// ------------------------------------------------------------------ data helpers

export function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function getAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Sets a value, creating intermediate mappings; false when an intermediate is not a mapping. */
export function setAt(data: Json, path: readonly string[], value: unknown): boolean {
  let cur: Json = data;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (next === undefined) cur[seg] = {};
    else if (!isPlainObject(next)) return false;
    cur = cur[seg] as Json;
  }
  cur[path[path.length - 1]!] = value;
  return true;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ------------------------------------------------------------------ env overlay

export type Converted = { ok: true; value: unknown } | { ok: false; message: string };

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping', null: 'null',
};

function joinOr(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

export function schemaErrorMessage(err: ErrorObject, node: SchemaNode | undefined): string {
  const custom = node?.['x-message'];
  if (custom !== undefined && err.keyword !== 'additionalProperties') return custom;
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      const t = p.type;
      const list = Array.isArray(t) ? (t as string[]) : String(t).split(',');
      return `must be ${joinOr(list.map((x) => TYPE_WORDS[x] ?? x))}`;
    }
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
    case 'minimum': return `must be >= ${String(p.limit)}`;
    case 'maximum': return `must be <= ${String(p.limit)}`;
    case 'exclusiveMinimum': return `must be > ${String(p.limit)}`;
    case 'exclusiveMaximum': return `must be < ${String(p.limit)}`;
    case 'minLength': return p.limit === 1 && node?.maxLength === 1 ? 'must be exactly one character' : `must have at least ${String(p.limit)} characters`;
    case 'maxLength': return p.limit === 1 ? 'must be exactly one character' : `must have at most ${String(p.limit)} characters`;
    case 'uniqueItems': return `must not repeat an entry (items ${String(p.j)} and ${String(p.i)} are equal)`;
    case 'pattern': return `must match ${String(p.pattern)}`;
    default: return err.message ?? err.keyword;
  }
}

export function reportSchemaErrors(errors: readonly ErrorObject[], data: Json, ctx: Context): void {
  const seen = new Set<string>();
  for (const err of errors) {
    const base = parseInstancePath(err.instancePath, data);
    // ajv's schemaPath is relative to the referenced schema for $refs it compiles separately,
    // so the node is found from the instance path instead.
    const owner = nodeAtPath(SCHEMA, base) ?? SCHEMA;
    const key = `${err.instancePath}|${err.keyword}|${String((err.params as Record<string, unknown>).additionalProperty ?? '')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (err.keyword === 'additionalProperties') {
      const prop = String((err.params as { additionalProperty: string }).additionalProperty);
      ctx.report([...base, prop], unknownKeyMessage(base, owner, prop));
      continue;
    }
    ctx.report(base, schemaErrorMessage(err, owner), getAt(data, base));
  }
}
