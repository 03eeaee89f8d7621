/**
 * `attributes.kubernetes.service_name_template`: OBI computes service.name from a Go
 * `text/template` over the pod's metadata (in its place of the annotation and label rules,
 * before the owner name; an empty result falls through to the next rule). obi-ts evaluates the
 * subset such templates are written in:
 *
 * - text, and actions `{{ … }}` with Go's trim markers `{{-` / `-}}` (adjacent white space removed);
 * - the fields `.Meta.Name` (pod), `.Meta.Namespace`, `.ContainerName`;
 * - `index .Meta.Labels "key"` and `index .Meta.Annotations "key"` (a missing key is `""`);
 * - `{{ if X }} … {{ else if X }} … {{ else }} … {{ end }}` over those values (non-empty is true).
 *
 * Anything else (pipelines, functions, variables, `range`, `with`, comments) is rejected when the
 * configuration loads: {@link compileServiceNameTemplate} throws a {@link TemplateError} whose
 * `unsupported` says whether the template is valid Go but outside this subset.
 */

/** What a template reads. */
export interface TemplateInput {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containerName: string;
}

export class TemplateError extends Error {
  /** valid Go template syntax, not supported by obi-ts (else: malformed) */
  readonly unsupported: boolean;
  constructor(message: string, unsupported: boolean) {
    super(message);
    this.unsupported = unsupported;
  }
}

type Value = (i: TemplateInput) => string;
type Node = { t: 'text'; s: string } | { t: 'value'; v: Value } | { t: 'if'; branches: { cond: Value | undefined; body: Node[] }[] };

const FIELDS: Readonly<Record<string, Value>> = {
  '.Meta.Name': (i) => i.name,
  '.Meta.Namespace': (i) => i.namespace,
  '.ContainerName': (i) => i.containerName,
};

const STRING = /^"((?:[^"\\]|\\.)*)"$|^`([^`]*)`$/;

function unquote(tok: string): string | undefined {
  const m = STRING.exec(tok);
  if (m === null) return undefined;
  if (m[2] !== undefined) return m[2];
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return undefined;
  }
}

/** splits an action's words, keeping quoted strings whole */
function words(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\S+/g) ?? [];
}

const SUPPORTED = 'supported: .Meta.Name, .Meta.Namespace, .ContainerName, index .Meta.Labels "key", index .Meta.Annotations "key", if/else/end';

function value(expr: string): Value {
  const w = words(expr);
  if (w.length === 1 && FIELDS[w[0]] !== undefined) return FIELDS[w[0]];
  if (w.length === 3 && w[0] === 'index' && (w[1] === '.Meta.Labels' || w[1] === '.Meta.Annotations')) {
    const key = unquote(w[2]);
    if (key === undefined) throw new TemplateError(`index needs a quoted key, got ${w[2]}`, false);
    return w[1] === '.Meta.Labels' ? (i) => i.labels[key] ?? '' : (i) => i.annotations[key] ?? '';
  }
  if (w.length === 0) throw new TemplateError('empty action {{ }}', false);
  throw new TemplateError(`{{ ${expr} }} is not supported (${SUPPORTED})`, true);
}

/** Parses `text` into a renderer. @throws TemplateError */
export function compileServiceNameTemplate(text: string): (input: TemplateInput) => string {
  // tokens: text and actions, with trim markers applied to the neighbouring text
  const tokens: ({ t: 'text'; s: string } | { t: 'action'; s: string })[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    let chunk = open < 0 ? text.slice(pos) : text.slice(pos, open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    if (open < 0) {
      if (chunk !== '') tokens.push({ t: 'text', s: chunk });
      break;
    }
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed action at offset ${open}`, false);
    let inner = text.slice(open + 2, close);
    if (inner.startsWith('- ') || inner === '-') {
      chunk = chunk.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = false;
    if (inner.endsWith(' -') || inner === '-') {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    if (chunk !== '') tokens.push({ t: 'text', s: chunk });
    tokens.push({ t: 'action', s: inner.trim() });
    pos = close + 2;
  }

  // nodes, with if/else/end nesting
  let at = 0;
  const block = (inIf: boolean): { body: Node[]; end: 'end' | 'else' | 'eof'; elseCond?: string } => {
    const body: Node[] = [];
    while (at < tokens.length) {
      const tok = tokens[at++];
      if (tok.t === 'text') {
        body.push({ t: 'text', s: tok.s });
        continue;
      }
      const a = tok.s;
      if (a.startsWith('/*')) throw new TemplateError('template comments are not supported', true);
      const w = words(a);
      if (w[0] === 'if') {
        const branches: { cond: Value | undefined; body: Node[] }[] = [];
        let cond: Value | undefined = value(a.slice(2));
        for (;;) {
          const r = block(true);
          branches.push({ cond, body: r.body });
          if (r.end === 'end') break;
          if (r.end === 'eof') throw new TemplateError('{{ if }} without {{ end }}', false);
          if (cond === undefined) throw new TemplateError('{{ else }} after {{ else }}', false);
          cond = r.elseCond === undefined ? undefined : value(r.elseCond);
        }
        body.push({ t: 'if', branches });
        continue;
      }
      if (w[0] === 'end' && w.length === 1) {
        if (!inIf) throw new TemplateError('{{ end }} without {{ if }}', false);
        return { body, end: 'end' };
      }
      if (w[0] === 'else') {
        if (!inIf) throw new TemplateError('{{ else }} without {{ if }}', false);
        if (w.length === 1) return { body, end: 'else' };
        if (w[1] === 'if') return { body, end: 'else', elseCond: a.replace(/^else\s+if\s+/, '') };
        throw new TemplateError(`{{ ${a} }} is not supported (${SUPPORTED})`, true);
      }
      if (['range', 'with', 'define', 'template', 'block', 'break', 'continue'].includes(w[0]) || a.includes('|') || a.includes('$') || a.includes('(')) {
        throw new TemplateError(`{{ ${a} }} is not supported (${SUPPORTED})`, true);
      }
      body.push({ t: 'value', v: value(a) });
    }
    return { body, end: 'eof' };
  };
  const root = block(false);

  const render = (nodes: readonly Node[], i: TemplateInput): string => {
    let out = '';
    for (const n of nodes) {
      if (n.t === 'text') out += n.s;
      else if (n.t === 'value') out += n.v(i);
      else {
        const b = n.branches.find((br) => br.cond === undefined || br.cond(i) !== '');
        if (b !== undefined) out += render(b.body, i);
      }
    }
    return out;
  };
  return (input) => render(root.body, input);
}
