/**
 * The operations of a GraphQL document, read from its executable definitions (GraphQL spec,
 * "Document" and "Operations"): `query|mutation|subscription [Name] ... { ... }`, the query
 * shorthand `{ ... }`, fragments skipped. A lexical scan, not a parser: ignored tokens
 * (whitespace, commas, `#` comments, a BOM), strings and block strings are skipped, selection
 * sets are skipped by brace depth. A document cut anywhere yields the operations whose headers
 * were read. Bounded: at most MAX_OPERATIONS operations, one pass.
 */

export type GraphqlOperationType = 'query' | 'mutation' | 'subscription';

export interface GraphqlOperation {
  readonly type: GraphqlOperationType;
  /** undefined for an anonymous operation */
  readonly name?: string;
}

const MAX_OPERATIONS = 64;

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

/** skip ignored tokens from `i` */
function skipIgnored(d: string, i: number): number {
  while (i < d.length) {
    const c = d.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2c || c === 0xfeff) i++;
    else if (c === 0x23) {
      while (i < d.length && d.charCodeAt(i) !== 0x0a && d.charCodeAt(i) !== 0x0d) i++;
    } else break;
  }
  return i;
}

/** index after the string or block string at `i` (d[i] === '"'); d.length when cut */
function skipString(d: string, i: number): number {
  if (d.startsWith('"""', i)) {
    for (let j = i + 3; j < d.length; j++) {
      if (d.charCodeAt(j) === 0x5c && d.startsWith('\\"""', j)) j += 3;
      else if (d.startsWith('"""', j)) return j + 3;
    }
    return d.length;
  }
  for (let j = i + 1; j < d.length; j++) {
    const c = d.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
    else if (c === 0x0a || c === 0x0d) return j; // unterminated: the line ends it
  }
  return d.length;
}

/** index after the braced block (selection set) opening at `i`; d.length when cut */
function skipBlock(d: string, i: number): number {
  let depth = 0;
  for (let j = i; j < d.length; j++) {
    const c = d.charCodeAt(j);
    if (c === 0x22) j = skipString(d, j) - 1;
    else if (c === 0x23) {
      while (j < d.length && d.charCodeAt(j) !== 0x0a && d.charCodeAt(j) !== 0x0d) j++;
    } else if (c === 0x7b) depth++;
    else if (c === 0x7d) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return d.length;
}

/** skip from `i` (after a definition's header) to the end of its selection set */
function skipToBlockEnd(d: string, i: number): number {
  for (let j = i; j < d.length; j++) {
    const c = d.charCodeAt(j);
    if (c === 0x22) j = skipString(d, j) - 1;
    else if (c === 0x7b) return skipBlock(d, j);
  }
  return d.length;
}

/** The operations of `doc` in order (empty when it has none: not an executable document). */
export function graphqlOperations(doc: string): GraphqlOperation[] {
  const ops: GraphqlOperation[] = [];
  let i = 0;
  while (ops.length < MAX_OPERATIONS) {
    i = skipIgnored(doc, i);
    if (i >= doc.length) break;
    const c = doc.charCodeAt(i);
    if (c === 0x7b) {
      ops.push({ type: 'query' });
      i = skipBlock(doc, i);
      continue;
    }
    if (!isNameStart(c)) break;
    let e = i + 1;
    while (e < doc.length && isNameChar(doc.charCodeAt(e))) e++;
    const word = doc.slice(i, e);
    if (word === 'fragment') {
      i = skipToBlockEnd(doc, e);
      continue;
    }
    if (word !== 'query' && word !== 'mutation' && word !== 'subscription') break;
    if (e >= doc.length) break; // the keyword itself may be cut (`que…`): not read
    let p = skipIgnored(doc, e);
    let name: string | undefined;
    if (p < doc.length && isNameStart(doc.charCodeAt(p))) {
      let q = p + 1;
      while (q < doc.length && isNameChar(doc.charCodeAt(q))) q++;
      if (q >= doc.length) {
        ops.push({ type: word }); // the name is cut: left out
        break;
      }
      name = doc.slice(p, q);
      p = q;
    } else if (p < doc.length && !(doc.charCodeAt(p) === 0x7b || doc.charCodeAt(p) === 0x28 || doc.charCodeAt(p) === 0x40)) {
      break; // neither a name, variables, directives nor a selection set
    }
    ops.push(name === undefined ? { type: word } : { type: word, name });
    i = skipToBlockEnd(doc, p);
  }
  return ops;
}

/**
 * The operation a request executes: the one named `operationName` when given, else the first
 * (a valid document with no operationName has exactly one). Undefined when none matches.
 */
export function graphqlOperation(doc: string, operationName?: string): GraphqlOperation | undefined {
  const ops = graphqlOperations(doc);
  if (operationName === undefined || operationName === '') return ops[0];
  for (const op of ops) if (op.name === operationName) return op;
  return undefined;
}
