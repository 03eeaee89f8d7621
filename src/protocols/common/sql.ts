/**
 * SQL text helpers shared by the SQL wire protocols (PostgreSQL, MySQL): the operation
 * (`db.operation.name`: the statement's first keyword), the table it works on
 * (`db.collection.name`), and literal masking for `db.query.text` (string, numeric, hex,
 * bit and dollar-quoted literals become `?`, so secrets and personal data do not leave the host).
 *
 * A small lexer, not a parser: it knows comments, quoting and literals of both dialects and
 * finds the table after FROM / INTO / UPDATE / TABLE at the statement's top level. Input may
 * be cut short (the captured prefix of a long statement): unterminated quotes run to the end.
 * Pure and total: never throws.
 */

export type SqlDialect = 'postgresql' | 'mysql';

/** statement text looked at for the operation and table (longer input is cut here) */
export const MAX_SQL_SCAN = 8192;

const T_EOF = 0;
const T_WORD = 1;
const T_QIDENT = 2;
const T_STRING = 3;
const T_NUMBER = 4;
const T_PARAM = 5;
const T_PUNCT = 6;

type TokenKind = typeof T_EOF | typeof T_WORD | typeof T_QIDENT | typeof T_STRING | typeof T_NUMBER | typeof T_PARAM | typeof T_PUNCT;

function isWordStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
}

function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x24;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
}

/** Tokens of one SQL text; `next()` moves to the next token and returns its kind. */
class SqlLexer {
  readonly text: string;
  readonly end: number;
  readonly mysql: boolean;
  kind: TokenKind = T_EOF;
  start = 0;
  stop = 0;
  private _pos = 0;

  constructor(text: string, dialect: SqlDialect, limit = text.length) {
    this.text = text;
    this.end = limit < text.length ? limit : text.length;
    this.mysql = dialect === 'mysql';
  }

  /** the current token's text */
  get value(): string {
    return this.text.slice(this.start, this.stop);
  }

  /** the current token is the word `kw` (upper case), case-insensitively */
  is(kw: string): boolean {
    if (this.kind !== T_WORD || this.stop - this.start !== kw.length) return false;
    const s = this.text;
    for (let i = 0; i < kw.length; i++) {
      const c = s.charCodeAt(this.start + i);
      // ASCII letters compared case-insensitively; `_` and digits exactly
      if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== kw.charCodeAt(i)) return false;
    }
    return true;
  }

  /** the current token is the punctuation character `ch` */
  isPunct(ch: number): boolean {
    return this.kind === T_PUNCT && this.text.charCodeAt(this.start) === ch;
  }

  next(): TokenKind {
    const s = this.text;
    const end = this.end;
    let i = this._pos;
    // whitespace and comments
    for (;;) {
      while (i < end && isSpace(s.charCodeAt(i))) i++;
      if (i >= end) break;
      const c = s.charCodeAt(i);
      const d = i + 1 < end ? s.charCodeAt(i + 1) : -1;
      if ((c === 0x2d && d === 0x2d) || (c === 0x23 && this.mysql)) {
        const nl = s.indexOf('\n', i);
        i = nl < 0 || nl >= end ? end : nl + 1;
        continue;
      }
      if (c === 0x2f && d === 0x2a) {
        const close = s.indexOf('*/', i + 2);
        i = close < 0 || close + 2 > end ? end : close + 2;
        continue;
      }
      break;
    }
    if (i >= end) {
      this._pos = this.start = this.stop = end;
      return (this.kind = T_EOF);
    }
    this.start = i;
    const c = s.charCodeAt(i);
    let kind: TokenKind;
    if (c === 0x27 /* ' */) {
      i = this._quoted(i, 0x27, this.mysql);
      kind = T_STRING;
    } else if (c === 0x22 /* " */) {
      i = this._quoted(i, 0x22, this.mysql);
      kind = this.mysql ? T_STRING : T_QIDENT;
    } else if (c === 0x60 /* ` */ && this.mysql) {
      i = this._quoted(i, 0x60, false);
      kind = T_QIDENT;
    } else if (isDigit(c) || (c === 0x2e && i + 1 < end && isDigit(s.charCodeAt(i + 1)))) {
      i = this._number(i);
      kind = T_NUMBER;
    } else if (c === 0x24 /* $ */ && !this.mysql) {
      const r = this._dollar(i);
      i = r.end;
      kind = r.kind;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < end && isWordChar(s.charCodeAt(j))) j++;
      // prefixed string literals: E'..' B'..' X'..' N'..' (and MySQL _charset'..')
      if (j < end && s.charCodeAt(j) === 0x27 && (j - i === 1 || (this.mysql && c === 0x5f))) {
        const p = c | 0x20;
        const escapes = p === 0x65 /* e */ || this.mysql;
        if (j - i > 1 || p === 0x65 || p === 0x62 || p === 0x78 || p === 0x6e) {
          i = this._quoted(j, 0x27, escapes);
          kind = T_STRING;
        } else {
          i = j;
          kind = T_WORD;
        }
      } else {
        i = j;
        kind = T_WORD;
      }
    } else if (c === 0x3f /* ? */) {
      i++;
      kind = T_PARAM;
    } else {
      i++;
      kind = T_PUNCT;
    }
    this._pos = this.stop = i;
    return (this.kind = kind);
  }

  /** end of a quoted run opened at `i` (doubled quote escapes; backslash escapes when `bs`) */
  private _quoted(i: number, q: number, bs: boolean): number {
    const s = this.text;
    const end = this.end;
    let j = i + 1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (bs && c === 0x5c) {
        j += 2;
        continue;
      }
      if (c === q) {
        if (j + 1 < end && s.charCodeAt(j + 1) === q) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return end;
  }

  private _number(i: number): number {
    const s = this.text;
    const end = this.end;
    let j = i;
    if (s.charCodeAt(j) === 0x30 && j + 1 < end && (s.charCodeAt(j + 1) | 0x20) === 0x78) {
      j += 2;
      while (j < end) {
        const h = s.charCodeAt(j) | 0x20;
        if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66))) break;
        j++;
      }
      return j;
    }
    while (j < end && isDigit(s.charCodeAt(j))) j++;
    if (j < end && s.charCodeAt(j) === 0x2e) {
      j++;
      while (j < end && isDigit(s.charCodeAt(j))) j++;
    }
    if (j < end && (s.charCodeAt(j) | 0x20) === 0x65) {
      let k = j + 1;
      if (k < end && (s.charCodeAt(k) === 0x2b || s.charCodeAt(k) === 0x2d)) k++;
      if (k < end && isDigit(s.charCodeAt(k))) {
        j = k;
        while (j < end && isDigit(s.charCodeAt(j))) j++;
      }
    }
    // `1abc` is not a number followed by a word: treat the whole run as one token
    while (j < end && isWordChar(s.charCodeAt(j))) j++;
    return j;
  }

  /** `$1` (parameter) or `$tag$ ... $tag$` (dollar-quoted string) or a lone `$` */
  private _dollar(i: number): { end: number; kind: TokenKind } {
    const s = this.text;
    const end = this.end;
    let j = i + 1;
    if (j < end && isDigit(s.charCodeAt(j))) {
      while (j < end && isDigit(s.charCodeAt(j))) j++;
      return { end: j, kind: T_PARAM };
    }
    while (j < end && isWordChar(s.charCodeAt(j)) && s.charCodeAt(j) !== 0x24) j++;
    if (j < end && s.charCodeAt(j) === 0x24) {
      const tag = s.slice(i, j + 1);
      const close = s.indexOf(tag, j + 1);
      return { end: close < 0 || close + tag.length > end ? end : close + tag.length, kind: T_STRING };
    }
    return { end: i + 1, kind: T_PUNCT };
  }
}

/** Strip the quotes of a quoted identifier (`"a""b"` → `a"b`). */
function unquote(v: string): string {
  if (v.length < 2) return v;
  const q = v[0];
  if (q !== '"' && q !== '`') return v;
  const inner = v.endsWith(q) ? v.slice(1, -1) : v.slice(1);
  return inner.replaceAll(q + q, q);
}

/** A (schema-)qualified name starting at the current token, or undefined; leaves the lexer after it. */
function qualifiedName(lx: SqlLexer): string | undefined {
  if (lx.kind !== T_WORD && lx.kind !== T_QIDENT) return undefined;
  let name = lx.kind === T_QIDENT ? unquote(lx.value) : lx.value;
  for (;;) {
    const s = lx.text;
    const at = lx.stop;
    if (at >= lx.end || s.charCodeAt(at) !== 0x2e) return name;
    lx.next(); // the dot
    const k = lx.next();
    if (k !== T_WORD && k !== T_QIDENT) return name;
    name += '.' + (k === T_QIDENT ? unquote(lx.value) : lx.value);
  }
}

/** Advance to the word `kw` at the top level (parentheses depth <= 0); false if not found. */
function seekTopLevel(lx: SqlLexer, kws: readonly string[]): boolean {
  let depth = 0;
  for (;;) {
    const k = lx.next();
    if (k === T_EOF) return false;
    if (k === T_PUNCT) {
      const c = lx.text.charCodeAt(lx.start);
      if (c === 0x28) depth++;
      else if (c === 0x29) depth--;
      else if (c === 0x3b && depth <= 0) return false; // next statement
      continue;
    }
    if (k === T_WORD && depth <= 0) {
      for (const kw of kws) if (lx.is(kw)) return true;
    }
  }
}

/** Skip optional words; returns with the first token that is none of them current. */
function skipWords(lx: SqlLexer, words: readonly string[]): void {
  for (;;) {
    let hit = false;
    for (const w of words) {
      if (lx.is(w)) {
        hit = true;
        break;
      }
    }
    if (!hit) return;
    lx.next();
  }
}

export interface SqlSummary {
  /** first keyword of the statement (of the main statement after a WITH clause), upper case */
  readonly operation?: string;
  /** the table the statement works on, as written, without quotes */
  readonly collection?: string;
}

const EMPTY_SUMMARY: SqlSummary = Object.freeze({});
const MAIN_AFTER_WITH = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE'];
const DDL_MODIFIERS = ['OR', 'REPLACE', 'TEMPORARY', 'TEMP', 'UNLOGGED', 'GLOBAL', 'LOCAL', 'EXTERNAL', 'IF', 'NOT', 'EXISTS'];
const DDL_AFTER_TABLE = ['IF', 'NOT', 'EXISTS', 'ONLY'];

/** Operation and table of one SQL statement. */
export function sqlSummary(text: string, dialect: SqlDialect = 'postgresql'): SqlSummary {
  const lx = new SqlLexer(text, dialect, MAX_SQL_SCAN);
  let k = lx.next();
  while (k === T_PUNCT && lx.isPunct(0x28)) k = lx.next(); // `(SELECT ...) UNION ...`
  if (k !== T_WORD) return EMPTY_SUMMARY;
  let op = lx.value.toUpperCase();
  if (op === 'WITH') {
    if (!seekTopLevel(lx, MAIN_AFTER_WITH)) return { operation: op };
    op = lx.value.toUpperCase();
  }
  let table: string | undefined;
  switch (op) {
    case 'SELECT':
    case 'DELETE':
      if (seekTopLevel(lx, ['FROM'])) {
        lx.next();
        skipWords(lx, ['ONLY']);
        table = qualifiedName(lx);
      }
      break;
    case 'INSERT':
    case 'REPLACE':
      if (seekTopLevel(lx, ['INTO'])) {
        lx.next();
        table = qualifiedName(lx);
      }
      break;
    case 'UPDATE':
      lx.next();
      skipWords(lx, ['LOW_PRIORITY', 'IGNORE', 'ONLY']);
      table = qualifiedName(lx);
      break;
    case 'CREATE':
    case 'DROP':
    case 'ALTER':
      lx.next();
      skipWords(lx, DDL_MODIFIERS);
      if (lx.is('TABLE')) {
        lx.next();
        skipWords(lx, DDL_AFTER_TABLE);
        table = qualifiedName(lx);
      }
      break;
    case 'TRUNCATE':
      lx.next();
      skipWords(lx, ['TABLE', 'ONLY']);
      table = qualifiedName(lx);
      break;
    case 'COPY':
      lx.next();
      table = qualifiedName(lx);
      break;
  }
  if (table !== undefined && isKeywordNotTable(table)) table = undefined;
  return table === undefined ? { operation: op } : { operation: op, collection: table };
}

/** words that follow FROM/INTO/... without naming a table */
function isKeywordNotTable(name: string): boolean {
  switch (name.toUpperCase()) {
    case 'SELECT':
    case 'VALUES':
    case 'LATERAL':
    case 'UNNEST':
    case 'DUAL':
      return true;
  }
  return false;
}

/** First keyword of the statement, upper case (`db.operation.name`), or undefined. */
export function sqlOperation(text: string, dialect: SqlDialect = 'postgresql'): string | undefined {
  return sqlSummary(text, dialect).operation;
}

/**
 * Replace literal values with `?`: quoted strings (all prefixed forms), numbers (decimal,
 * exponent, hex), dollar-quoted strings (PostgreSQL) and, in MySQL, double-quoted strings.
 * Identifiers, keywords, parameters (`$1`, `?`) and comments are kept.
 */
export function maskSql(text: string, dialect: SqlDialect = 'postgresql'): string {
  const lx = new SqlLexer(text, dialect);
  let out = '';
  let copied = 0;
  for (let k = lx.next(); k !== T_EOF; k = lx.next()) {
    if (k !== T_STRING && k !== T_NUMBER) continue;
    out += text.slice(copied, lx.start) + '?';
    copied = lx.stop;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
