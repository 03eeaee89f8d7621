/**
 * OBI's `IntEnum` syntax for ports and PIDs: a number, a list of numbers, or a
 * comma-separated string of numbers and inclusive ranges (`80,443,8000-8999`), spaces allowed.
 */
import { AgentError } from '../errors.ts';
import type { PortRange } from '../common/selector.ts';

/** Most PIDs a PID list may expand to (ranges included). */
export const MAX_PIDS = 4096;

type IntEnumInput = number | string | readonly (number | string)[];

const TOKEN = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/;

function fail(message: string): never {
  throw new AgentError('OBI_ERR_CONFIG_INVALID', message);
}

function tokens(input: IntEnumInput, what: string, example: string): { start: number; end: number; text: string }[] {
  const parts: string[] = [];
  const push = (v: number | string): void => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) fail(`${v} is not ${what}`);
      parts.push(String(v));
    } else {
      for (const p of v.split(',')) parts.push(p);
    }
  };
  if (typeof input === 'number' || typeof input === 'string') push(input);
  else for (const v of input) push(v);
  const out: { start: number; end: number; text: string }[] = [];
  for (const raw of parts) {
    const text = raw.trim();
    if (text === '') {
      if (parts.length === 1) fail(`empty list: expected something like ${example}`);
      fail(`empty entry in the list`);
    }
    const m = TOKEN.exec(text);
    if (m === null) fail(`${JSON.stringify(text)} is not ${what} or a range of them`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    out.push({ start, end, text: text.replace(/\s+/g, '') });
  }
  return out;
}

/**
 * Parses ports and port ranges (`80,443,8000-8999`, `8080`, `[80, 443]`).
 * @throws AgentError OBI_ERR_CONFIG_INVALID on bad syntax, a port outside 1-65535, or a reversed range
 */
export function parsePortRanges(input: IntEnumInput): PortRange[] {
  const out: PortRange[] = [];
  for (const t of tokens(input, 'a port', '"80,443,8000-8999"')) {
    for (const p of [t.start, t.end]) if (p < 1 || p > 65535) fail(`port ${p} is out of range 1-65535`);
    if (t.start > t.end) fail(`port range ${t.text} is reversed (start > end)`);
    out.push(Object.freeze({ start: t.start, end: t.end }));
  }
  return out;
}

/**
 * Parses PIDs (`1234,5678`, `[1234]`, ranges `100-110` expanded), de-duplicated, in input order.
 * @throws AgentError OBI_ERR_CONFIG_INVALID on bad syntax, PID 0, a reversed range, or more than MAX_PIDS PIDs
 */
export function parsePidList(input: IntEnumInput): number[] {
  const seen = new Set<number>();
  for (const t of tokens(input, 'a PID', '"1234,5678"')) {
    if (t.start < 1 || t.end < 1) fail(`PID 0 is not a process`);
    if (t.start > t.end) fail(`PID range ${t.text} is reversed (start > end)`);
    if (t.end - t.start + seen.size >= MAX_PIDS) fail(`more than ${MAX_PIDS} PIDs`);
    for (let p = t.start; p <= t.end; p++) seen.add(p);
  }
  return [...seen];
}
