/**
 * Read-only helpers over `schema.json`, the single source of truth of the configuration.
 * Used at start-up (env overlay, coercion, error messages, key suggestions) and by
 * `scripts/gen-config.ts` (types and reference docs). Pure: no I/O.
 *
 * Custom keywords used in the schema (all start with `x-`, ignored by JSON Schema itself):
 * - `x-env`: env vars that set the key, highest priority first.
 * - `x-env-fallback`: env vars used only when neither the file nor `x-env` set the key.
 * - `x-env-syntax`: `{ VAR: 'milliseconds' }` for env vars not in the key's own syntax.
 * - `x-obi-ts-status`: `accepted-not-implemented` (loads, has no effect yet); inherited by children.
 * - `x-obi-ts-extension`: key that OBI does not have (or reads only from env).
 * - `x-obi-ts-format`: duration | port-ranges | pid-list | glob | regex | url | headers.
 * - `x-obi-ts-coerce`: uppercase | string | comma-list | duration (normalisation before validation).
 * - `x-obi-ts-secret`: value masked by `--print-config`.
 * - `x-message`: human message replacing ajv's for any failure of this node.
 * - `x-ts-name`: interface name in the generated types.
 */

export interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly deprecated?: boolean;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly $defs?: Readonly<Record<string, SchemaNode>>;
  readonly 'x-env'?: readonly string[];
  readonly 'x-env-fallback'?: readonly string[];
  readonly 'x-env-syntax'?: Readonly<Record<string, 'milliseconds'>>;
  readonly 'x-obi-ts-status'?: 'accepted-not-implemented';
  readonly 'x-obi-ts-extension'?: boolean;
  readonly 'x-obi-ts-format'?: 'duration' | 'port-ranges' | 'pid-list' | 'glob' | 'regex' | 'url' | 'headers';
  readonly 'x-obi-ts-coerce'?: 'uppercase' | 'string' | 'comma-list' | 'duration';
  readonly 'x-obi-ts-secret'?: boolean;
  readonly 'x-message'?: string;
  readonly 'x-ts-name'?: string;
}

/** Every custom keyword, declared to ajv so that strict mode accepts them. */
export const CUSTOM_KEYWORDS: readonly string[] = [
  'x-env',
  'x-env-fallback',
  'x-env-syntax',
  'x-obi-ts-status',
  'x-obi-ts-extension',
  'x-obi-ts-format',
  'x-obi-ts-coerce',
  'x-obi-ts-secret',
  'x-message',
  'x-ts-name',
];

export type PathSegment = string | number;

/** Follows a local `$ref`; the referring node's own keywords (description, default, x-env...) win. */
export function resolveNode(root: SchemaNode, node: SchemaNode): SchemaNode {
  if (node.$ref === undefined) return node;
  const target = pointer(root, node.$ref);
  const { $ref: _ref, ...own } = node;
  return { ...resolveNode(root, target), ...own };
}

/** Node at a JSON pointer such as `#/$defs/duration` or `#/properties/discovery/additionalProperties`. */
export function pointer(root: SchemaNode, ref: string): SchemaNode {
  if (!ref.startsWith('#')) throw new Error(`only local $ref are supported: ${ref}`);
  let cur: unknown = root;
  for (const raw of ref.slice(1).split('/')) {
    if (raw === '') continue;
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (cur === null || typeof cur !== 'object') throw new Error(`bad schema pointer ${ref}`);
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === null || typeof cur !== 'object') throw new Error(`bad schema pointer ${ref}`);
  return cur as SchemaNode;
}

export function typesOf(node: SchemaNode): readonly string[] {
  if (node.type === undefined) return [];
  return typeof node.type === 'string' ? [node.type] : node.type;
}

/** Schema of `key` inside an object node (a declared property, or the map value schema). */
export function childNode(root: SchemaNode, node: SchemaNode, key: string): SchemaNode | undefined {
  const r = resolveNode(root, node);
  const declared = r.properties?.[key];
  if (declared !== undefined) return resolveNode(root, declared);
  if (typeof r.additionalProperties === 'object') return resolveNode(root, r.additionalProperties);
  return undefined;
}

/** Schema at an instance path, or undefined if the path leaves the schema. */
export function nodeAtPath(root: SchemaNode, path: readonly PathSegment[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = resolveNode(root, root);
  for (const seg of path) {
    if (node === undefined) return undefined;
    if (typeof seg === 'number') {
      node = node.items === undefined ? undefined : resolveNode(root, node.items);
    } else {
      node = childNode(root, node, seg);
    }
  }
  return node;
}

/** Declared keys of an object node (empty for maps). */
export function knownKeys(root: SchemaNode, node: SchemaNode): readonly string[] {
  const r = resolveNode(root, node);
  return r.properties === undefined ? [] : Object.keys(r.properties);
}

export interface EnvBinding {
  /** YAML path of the key, e.g. ['otel_traces_export', 'sampler', 'name'] */
  readonly path: readonly string[];
  readonly node: SchemaNode;
  readonly env: readonly string[];
  readonly fallback: readonly string[];
}

/**
 * Every key settable from the environment. Walks declared properties only (env vars cannot
 * address list items or map entries). A `$defs` node reached from two places yields two
 * bindings sharing the env var, which then sets both keys (as OBI does).
 */
export function envBindings(root: SchemaNode): readonly EnvBinding[] {
  const out: EnvBinding[] = [];
  const walk = (node: SchemaNode, path: string[]): void => {
    const r = resolveNode(root, node);
    const env = r['x-env'] ?? [];
    const fallback = r['x-env-fallback'] ?? [];
    if (env.length > 0 || fallback.length > 0) out.push({ path, node: r, env, fallback });
    if (r.properties === undefined) return;
    for (const [key, child] of Object.entries(r.properties)) walk(child, [...path, key]);
  };
  walk(root, []);
  return out;
}

export interface LeafInfo {
  readonly path: readonly string[];
  readonly node: SchemaNode;
  /** nearest status on the path (own or inherited) */
  readonly status: 'implemented' | 'accepted-not-implemented';
  readonly deprecated: boolean;
  readonly extension: boolean;
}

/** Every declared key (objects included), depth first, in schema order. */
export function allKeys(root: SchemaNode): readonly LeafInfo[] {
  const out: LeafInfo[] = [];
  const walk = (node: SchemaNode, path: string[], inherited: LeafInfo['status']): void => {
    const r = resolveNode(root, node);
    const status = r['x-obi-ts-status'] ?? inherited;
    if (path.length > 0) {
      out.push({ path, node: r, status, deprecated: r.deprecated === true, extension: r['x-obi-ts-extension'] === true });
    }
    if (r.properties === undefined) return;
    for (const [key, child] of Object.entries(r.properties)) walk(child, [...path, key], status);
  };
  walk(root, [], 'implemented');
  return out;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `discovery.instrument[0].open_ports`; map keys that are not identifiers are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Splits an ajv instancePath (`/discovery/instrument/0/open_ports`) into segments. */
export function parseInstancePath(instancePath: string, data: unknown): PathSegment[] {
  if (instancePath === '') return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
