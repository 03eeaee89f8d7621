/**
 * Glob patterns as OBI evaluates them (gobwas/glob compiled without separators):
 *
 * - `*` (and `**`) any run of characters, `/` included
 * - `?` exactly one character (one code point)
 * - `[abc]`, `[a-z]` one character of the class; `[!abc]`, `[!a-z]` one character outside it
 * - `{alt1,alt2}` one of the alternatives; alternatives may hold globs and may nest
 * - `\x` the character `x` literally (also inside classes and alternatives)
 *
 * A `^` after `[` is a literal, as in gobwas (negation is `!` only); `,` is a literal outside
 * braces. An unclosed `[` or `{`, an empty class or a trailing `\` are compile errors.
 *
 * Compile once, match many: simple shapes (literal, `*`, `prefix*`, `*suffix`, `*infix*`)
 * become string comparisons; everything else becomes one anchored RegExp.
 */
import { AgentError } from '../errors.ts';

export type GlobMatcher = (s: string) => boolean;

type Node =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly items: readonly (readonly [string, string])[] }
  | { readonly kind: 'alt'; readonly options: readonly (readonly Node[])[] };

function fail(pattern: string, why: string): never {
  throw new AgentError('OBI_ERR_CONFIG_INVALID', `invalid glob ${JSON.stringify(pattern)}: ${why}`);
}

/** Recursive-descent parser. `depth` > 0 means we are inside `{…}`, where `,` and `}` end a sequence. */
class Parser {
  readonly pattern: string;
  readonly chars: readonly string[];
  pos = 0;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.chars = Array.from(pattern); // code points, so `?` and classes work on non-BMP characters
  }

  sequence(depth: number): Node[] {
    const out: Node[] = [];
    let lit = '';
    const flush = (): void => {
      if (lit !== '') {
        out.push({ kind: 'lit', text: lit });
        lit = '';
      }
    };
    const c = this.chars;
    while (this.pos < c.length) {
      const ch = c[this.pos];
      if (depth > 0 && (ch === ',' || ch === '}')) break;
      this.pos++;
      switch (ch) {
        case '\\':
          if (this.pos >= c.length) fail(this.pattern, 'trailing escape character');
          lit += c[this.pos++];
          break;
        case '*':
          flush();
          while (this.pos < c.length && c[this.pos] === '*') this.pos++; // `**` ≡ `*` without separators
          out.push({ kind: 'any' });
          break;
        case '?':
          flush();
          out.push({ kind: 'one' });
          break;
        case '[':
          flush();
          out.push(this.charClass());
          break;
        case '{':
          flush();
          out.push(this.alternatives(depth));
          break;
        default:
          lit += ch;
      }
    }
    flush();
    return out;
  }

  charClass(): Node {
    const c = this.chars;
    let negated = false;
    if (c[this.pos] === '!') {
      negated = true;
      this.pos++;
    }
    const items: [string, string][] = [];
    const readChar = (): string => {
      if (this.pos >= c.length) fail(this.pattern, 'unclosed character class');
      let ch = c[this.pos++];
      if (ch === '\\') {
        if (this.pos >= c.length) fail(this.pattern, 'trailing escape character');
        ch = c[this.pos++];
      }
      return ch;
    };
    for (;;) {
      if (this.pos >= c.length) fail(this.pattern, 'unclosed character class');
      if (c[this.pos] === ']') {
        this.pos++;
        break;
      }
      const lo = readChar();
      if (c[this.pos] === '-' && this.pos + 1 < c.length && c[this.pos + 1] !== ']') {
        this.pos++;
        const hi = readChar();
        if (hi.codePointAt(0)! < lo.codePointAt(0)!) fail(this.pattern, `inverted range ${lo}-${hi}`);
        items.push([lo, hi]);
      } else {
        items.push([lo, lo]);
      }
    }
    if (items.length === 0) fail(this.pattern, 'empty character class');
    return { kind: 'class', negated, items };
  }

  alternatives(depth: number): Node {
    const options: Node[][] = [];
    for (;;) {
      options.push(this.sequence(depth + 1));
      if (this.pos >= this.chars.length) fail(this.pattern, 'unclosed {');
      const ch = this.chars[this.pos++];
      if (ch === '}') break;
      // ch === ','
    }
    return { kind: 'alt', options };
  }
}

const RE_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const escapeRe = (s: string): string => s.replace(RE_SPECIAL, '\\$&');
const CLASS_SPECIAL = /[\\\]\[^-]/g;
const escapeClass = (s: string): string => s.replace(CLASS_SPECIAL, '\\$&');

function toRegExpSource(nodes: readonly Node[]): string {
  let src = '';
  for (const n of nodes) {
    switch (n.kind) {
      case 'lit':
        src += escapeRe(n.text);
        break;
      case 'any':
        src += '[^]*';
        break;
      case 'one':
        src += '[^]';
        break;
      case 'class': {
        let body = '';
        for (const [lo, hi] of n.items) body += lo === hi ? escapeClass(lo) : `${escapeClass(lo)}-${escapeClass(hi)}`;
        src += n.negated ? `[^${body}]` : `[${body}]`;
        break;
      }
      case 'alt':
        src += `(?:${n.options.map(toRegExpSource).join('|')})`;
        break;
    }
  }
  return src;
}

/** Parses `pattern` and throws `AgentError(OBI_ERR_CONFIG_INVALID)` if it is malformed. */
export function compileGlob(pattern: string): GlobMatcher {
  const parser = new Parser(pattern);
  const nodes = parser.sequence(0);
  if (parser.pos !== parser.chars.length) fail(pattern, `unexpected ${parser.chars[parser.pos]}`);

  // Fast paths for the shapes selectors mostly use.
  const isLit = (n: Node | undefined): n is { kind: 'lit'; text: string } => n?.kind === 'lit';
  const isAny = (n: Node | undefined): boolean => n?.kind === 'any';
  if (nodes.length === 0) return (s) => s === '';
  if (nodes.length === 1) {
    const [a] = nodes;
    if (isLit(a)) return (s) => s === a.text;
    if (isAny(a)) return () => true;
  }
  if (nodes.length === 2) {
    const [a, b] = nodes;
    if (isLit(a) && isAny(b)) return (s) => s.startsWith(a.text);
    if (isAny(a) && isLit(b)) return (s) => s.endsWith(b.text);
  }
  if (nodes.length === 3) {
    const [a, b, c] = nodes;
    if (isAny(a) && isLit(b) && isAny(c)) return (s) => s.includes(b.text);
  }
  const re = new RegExp(`^${toRegExpSource(nodes)}$`, 'u');
  return (s) => re.test(s);
}

/**
 * The literal text a pattern starts with, up to its first wildcard, class or alternative
 * (escapes resolved). `compileGlob` must accept the pattern.
 */
export function globLiteralPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' || ch === '?' || ch === '[' || ch === '{') break;
    if (ch === '\\' && i + 1 < pattern.length) {
      out += pattern[++i];
      continue;
    }
    out += ch;
  }
  return out;
}

/** how many brace expansions `globBaseFacts` follows before it gives up */
const MAX_EXPANSIONS = 64;
/** the shortest suffix `globBaseFacts` gives */
const MIN_SUFFIX = 3;

/** a fact about the base name (the text after the last `/`) of a path a glob matches */
export interface BaseNameFact {
  readonly text: string;
  /** exact: the whole base name; prefix / suffix: its first / last bytes */
  readonly kind: 'exact' | 'prefix' | 'suffix';
}

/**
 * What the base name of a path matching this glob must look like, one fact per alternative
 * (braces expanded), for exec admission in the kernel (discovery/exec-admission.ts):
 *
 * - literal text holding a `/` at the end: the text after it is the exact base name
 *   (`*\/curl`, `/usr/bin/{curl,wget}`);
 * - literal text without `/` at the end, after a wildcard: the path ends with it, and so does
 *   its base name (`*\/bin/*server` → suffix `server`; `*curl` → suffix `curl`);
 * - a wildcard at the end, after literal text holding a `/` (`*\/python3*` → prefix `python3`):
 *   the base name begins with the text after that `/` unless a trailing wildcard matches a `/`
 *   itself (`/opt/python3/bin/app`); such a path is not admitted in the kernel but still
 *   selected from user space after exec (compileGlob decides every selection).
 *
 * undefined when some alternative gives no fact (`*`, `*\/`, `/opt/*\/cu?l`, too many braces).
 */
export function globBaseFacts(pattern: string): BaseNameFact[] | undefined {
  const parser = new Parser(pattern);
  const nodes = parser.sequence(0);
  if (parser.pos !== parser.chars.length) return undefined;
  const seqs = globSequences(nodes);
  if (!seqs) return undefined;
  const out = new Map<string, BaseNameFact>();
  const add = (f: BaseNameFact): void => void out.set(`${f.kind}:${f.text}`, f);
  for (const s of seqs) {
    let tail = '';
    let i = s.length - 1;
    for (; i >= 0; i--) {
      const n = s[i];
      if (n.kind !== 'lit') break;
      tail = n.text + tail;
    }
    const slash = tail.lastIndexOf('/');
    if (tail !== '') {
      const base = tail.slice(slash + 1);
      if (base === '') return undefined;
      // a fully literal pattern without `/` never equals an absolute path: its name is still exact
      const kind = slash >= 0 || i < 0 ? 'exact' : 'suffix';
      // a suffix of a byte or two would admit much of the host at exec, for user space to revoke
      if (kind === 'suffix' && Buffer.byteLength(base) < MIN_SUFFIX) return undefined;
      add({ text: base, kind });
      continue;
    }
    // ends with wildcards: the literal before them, after its last `/`, begins the base name
    let j = i;
    while (j >= 0 && s[j].kind !== 'lit') j--;
    if (j < 0) return undefined;
    const lit = (s[j] as { text: string }).text;
    const at = lit.lastIndexOf('/');
    if (at < 0 || at === lit.length - 1) return undefined;
    add({ text: lit.slice(at + 1), kind: 'prefix' });
  }
  return [...out.values()];
}

function globSequences(nodes: readonly Node[]): Node[][] | undefined {
  let seqs: Node[][] = [[]];
  for (const n of nodes) {
    if (n.kind !== 'alt') {
      for (const s of seqs) s.push(n);
      continue;
    }
    const next: Node[][] = [];
    for (const s of seqs) {
      for (const opt of n.options) {
        const sub = globSequences(opt);
        if (!sub) return undefined;
        for (const o of sub) next.push([...s, ...o]);
      }
      if (next.length > MAX_EXPANSIONS) return undefined;
    }
    seqs = next;
  }
  return seqs;
}
