/**
 * Reading JSON bodies that may be cut: the HTTP payload extractors see a body prefix
 * (src/protocols/common/http-extract.ts), so a whole-document parser would lose every field of a
 * body cut anywhere. `jsonMembers` walks the members of the top-level object and reports each
 * member whose value is complete; `jsonStringAt` decodes one string value. Bounded work (one
 * pass), never throws, never invents a value that was cut.
 */

/**
 * A top-level member: its value is `text.slice(start, end)`, or, when `end` is -1, was cut
 * (the key is known, the value starts at `start` and runs to the end of the text).
 */
export interface JsonMember {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** JSON's one-character escapes */
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', '/': '/' };

/** most members reported (a body with more is read up to them) */
const MAX_MEMBERS = 256;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWs(t: string, i: number): number {
  while (i < t.length && isWs(t.charCodeAt(i))) i++;
  return i;
}

/** end of the string starting at the quote `i` (index after its closing quote), or -1 when cut */
function stringEnd(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** end of the value starting at `i`, or -1 when cut or malformed */
function valueEnd(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return stringEnd(t, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t.charCodeAt(j);
      if (d === 0x22) {
        const e = stringEnd(t, j);
        if (e < 0) return -1;
        j = e - 1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // number, true, false, null: up to a delimiter, which must be present (else it may be cut)
  let j = i;
  while (j < t.length) {
    const d = t.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
    j++;
  }
  return j === i || j >= t.length ? -1 : j;
}

/**
 * The members of the top-level object of `text` (which may be cut anywhere), in order; the last
 * may be cut (`end` -1); stops there or at the first malformed member. Empty when `text` is not
 * an object.
 */
export function jsonMembers(text: string): JsonMember[] {
  const out: JsonMember[] = [];
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return out;
  i++;
  while (out.length < MAX_MEMBERS) {
    i = skipWs(text, i);
    if (text.charCodeAt(i) !== 0x22) return out;
    const ke = stringEnd(text, i);
    if (ke < 0) return out;
    const key = jsonStringAt(text, i);
    if (key === undefined) return out;
    i = skipWs(text, ke);
    if (text.charCodeAt(i) !== 0x3a) return out;
    i = skipWs(text, i + 1);
    if (i >= text.length) return out;
    const ve = valueEnd(text, i);
    if (ve < 0) {
      out.push({ key, start: i, end: -1 });
      return out;
    }
    out.push({ key, start: i, end: ve });
    i = skipWs(text, ve);
    if (text.charCodeAt(i) !== 0x2c) return out;
    i++;
  }
  return out;
}

/** The member `key`'s complete value as text, or undefined. */
export function jsonMember(members: readonly JsonMember[], text: string, key: string): string | undefined {
  for (const m of members) if (m.key === key && m.end >= 0) return text.slice(m.start, m.end);
  return undefined;
}

/** The string value starting at the quote at `i`, decoded; undefined when cut or malformed. */
export function jsonStringAt(text: string, i: number): string | undefined {
  if (text.charCodeAt(i) !== 0x22) return undefined;
  const e = stringEnd(text, i);
  if (e < 0) return undefined;
  return parseJson(text.slice(i, e)) as string | undefined;
}

/**
 * The string starting at the quote at `i`, decoded as far as it goes when cut (a partial escape
 * at the end is dropped): `{ value, complete }`, or undefined when there is no string at `i`.
 */
export function jsonStringPrefix(text: string, i: number): { value: string; complete: boolean } | undefined {
  if (text.charCodeAt(i) !== 0x22) return undefined;
  const whole = jsonStringAt(text, i);
  if (whole !== undefined) return { value: whole, complete: true };
  if (stringEnd(text, i) >= 0) return undefined; // closed but malformed
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = text[j + 1];
    if (n === undefined) break;
    if (n === 'u') {
      const hex = text.slice(j + 2, j + 6);
      if (hex.length < 4 || !/^[0-9a-fA-F]{4}$/.test(hex)) break;
      out += String.fromCharCode(parseInt(hex, 16));
      j += 5;
      continue;
    }
    const m = ESCAPES[n];
    if (m === undefined) return undefined;
    out += m;
    j++;
  }
  return { value: out, complete: false };
}

/** `JSON.parse` that returns undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
