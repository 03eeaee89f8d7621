/**
 * Protocol fixtures: parser tests as data (house rule 6), shared by every protocol.
 *
 * A fixture file is Markdown holding one or more cases:
 *
 *     ## case: keep-alive two requests
 *     Free text is ignored.
 *     ### request
 *     ```http
 *     GET /a HTTP/1.1\r\n
 *     Host: example.com\r\n
 *     \r\n
 *     ```
 *     ### response ts=2500
 *     ```http
 *     HTTP/1.1 200 OK\r\n
 *     Content-Length: 5\r\n
 *     \r\n
 *     hello
 *     <gap 5000>
 *     ```
 *     ### close
 *     ### expect
 *     ```json
 *     [{ "method": "GET", "status": 200 }]
 *     ```
 *     ### counters
 *     ```json
 *     { "invalidFrames": 0 }
 *     ```
 *
 * Steps run in file order. `### request` / `### response` blocks feed data in that direction;
 * `### close` closes the connection. Each step has a timestamp: `ts=N` on its heading, else
 * 1000 x its 1-based step number (a block split by gaps yields several steps).
 *
 * Data blocks: the lines of the fenced block are joined with nothing (the file's own line
 * breaks are not data); escapes are decoded: `\r`, `\n`, `\t`, `\\`, `\xNN`. A line holding
 * only `<gap N>` ends the current segment with N more wire bytes that were not captured (a
 * block may therefore hold several segments; a gap first in a block is a segment with no
 * captured bytes).
 *
 * `### expect`: a JSON array of records; each actual record must have exactly the listed
 * fields with those values (`null` matches a missing field); unlisted fields are not compared.
 * `### counters` (optional): a JSON object compared with `ProtocolSession.counters()`
 * after the whole-segment replay only (counters depend on how bytes were split).
 *
 * Replay modes: `whole` (one segment per step), `split` (for each segment with >= 2 captured
 * bytes and each split point, that segment fed as two; the gap stays with the second part),
 * `bytes` (every segment fed one captured byte at a time; the gap with the last byte).
 * Split parts keep their segment's timestamp, so expectations hold in every mode.
 *
 * `loadFixtures()` reads files (test support; the rest of this module is pure).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { FrameTiming, MessageType, ProtocolParser } from '../../src/protocols/common/contract.ts';
import { ProtocolSession } from '../../src/protocols/common/session.ts';
import type { SessionCounters, SessionOptions } from '../../src/protocols/common/session.ts';

export interface FixtureSegment {
  readonly kind: 'data';
  readonly type: MessageType;
  readonly data: Buffer;
  readonly wireLen: number;
  readonly tsNs: number;
}

export interface FixtureClose {
  readonly kind: 'close';
  readonly tsNs: number;
}

export type FixtureStep = FixtureSegment | FixtureClose;

export interface FixtureCase {
  readonly file: string;
  /** 1-based line of the `## case:` heading */
  readonly line: number;
  readonly name: string;
  readonly steps: readonly FixtureStep[];
  readonly expect: readonly Record<string, unknown>[];
  readonly counters?: Readonly<Record<string, number>>;
}

export type ReplayMode = 'whole' | 'split' | 'bytes';

export interface ReplayRun {
  /** which replay this is, e.g. `whole`, `split step 2 at 17`, `bytes` */
  readonly label: string;
  readonly records: readonly unknown[];
  readonly counters: SessionCounters;
}

/** Parse the fixture cases in one Markdown text. Throws on a malformed file (a test bug). */
export function parseFixtures(text: string, file = '<inline>'): FixtureCase[] {
  const lines = text.split(/\r?\n/);
  const cases: FixtureCase[] = [];
  let cur: { line: number; name: string; steps: FixtureStep[]; expect?: Record<string, unknown>[]; counters?: Record<string, number> } | undefined;
  let section: { kind: string; ts?: number; line: number } | undefined;
  let fence: string[] | undefined;
  let fenceLine = 0;

  const fail = (line: number, msg: string): never => {
    throw new Error(`${file}:${line}: ${msg}`);
  };
  const endCase = (): void => {
    if (cur === undefined) return;
    if (cur.expect === undefined) fail(cur.line, `case "${cur.name}" has no ### expect block`);
    cases.push({ file, line: cur.line, name: cur.name, steps: cur.steps, expect: cur.expect as Record<string, unknown>[], counters: cur.counters });
    cur = undefined;
  };
  const nextTs = (ts: number | undefined): number => (ts !== undefined ? ts : 1000 * ((cur?.steps.length ?? 0) + 1));

  const closeFence = (lineNo: number): void => {
    const body = fence as string[];
    fence = undefined;
    if (cur === undefined || section === undefined) return fail(fenceLine, 'code block outside a case section');
    const kind = section.kind;
    if (kind === 'request' || kind === 'response') {
      let parts: Buffer[] = [];
      const flush = (gap: number): void => {
        const data = Buffer.concat(parts);
        parts = [];
        if (data.length + gap === 0) return;
        (cur as { steps: FixtureStep[] }).steps.push({ kind: 'data', type: kind, data, wireLen: data.length + gap, tsNs: nextTs(section?.ts) });
      };
      body.forEach((l, k) => {
        const g = /^\s*<gap\s+(\d+)>\s*$/.exec(l);
        if (g !== null) flush(Number(g[1]));
        else parts.push(decodeEscapes(l, file, fenceLine + 1 + k));
      });
      flush(0);
    } else if (kind === 'expect') {
      const v = parseJson(body.join('\n'), file, fenceLine);
      if (!Array.isArray(v) || !v.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) fail(fenceLine, '### expect must be a JSON array of objects');
      cur.expect = v as Record<string, unknown>[];
    } else if (kind === 'counters') {
      const v = parseJson(body.join('\n'), file, fenceLine);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(fenceLine, '### counters must be a JSON object');
      cur.counters = v as Record<string, number>;
    } else {
      fail(lineNo, `a code block is not allowed in ### ${kind}`);
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const lineNo = i + 1;
    if (fence !== undefined) {
      if (/^\s*```\s*$/.test(l)) closeFence(lineNo);
      else fence.push(l);
      continue;
    }
    if (/^\s*```/.test(l)) {
      fence = [];
      fenceLine = lineNo;
      continue;
    }
    const c = /^##\s+case:\s*(.+?)\s*$/.exec(l);
    if (c !== null) {
      endCase();
      cur = { line: lineNo, name: c[1], steps: [] };
      section = undefined;
      continue;
    }
    const h = /^###\s+(\w+)(?:\s+ts=(\d+))?\s*$/.exec(l);
    if (h !== null) {
      if (cur === undefined) fail(lineNo, '### section outside a case');
      const kind = h[1];
      if (!['request', 'response', 'close', 'expect', 'counters'].includes(kind)) fail(lineNo, `unknown section ### ${kind}`);
      section = { kind, ts: h[2] !== undefined ? Number(h[2]) : undefined, line: lineNo };
      if (kind === 'close') (cur as { steps: FixtureStep[] }).steps.push({ kind: 'close', tsNs: nextTs(section.ts) });
      continue;
    }
    if (/^##\s/.test(l)) {
      endCase();
      section = undefined;
    }
  }
  if (fence !== undefined) fail(fenceLine, 'unterminated code block');
  endCase();
  return cases;
}

/** Decode one data line: `\r \n \t \\ \xNN`; other characters are taken as latin1 bytes. */
export function decodeEscapes(line: string, file = '<inline>', lineNo = 0): Buffer {
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch !== 0x5c) {
      if (ch > 0xff) throw new Error(`${file}:${lineNo}: non-latin1 character; use \\xNN`);
      out.push(ch);
      continue;
    }
    const e = line[++i];
    if (e === 'r') out.push(13);
    else if (e === 'n') out.push(10);
    else if (e === 't') out.push(9);
    else if (e === '\\') out.push(0x5c);
    else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 1, i + 3))) {
      out.push(parseInt(line.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`${file}:${lineNo}: bad escape \\${e ?? ''}`);
  }
  return Buffer.from(out);
}

function parseJson(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}:${line}: invalid JSON: ${(err as Error).message}`);
  }
}

/** All cases of every `*.md` file in `dir`, files in name order. */
export function loadFixtures(dir: string): FixtureCase[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort();
  const out: FixtureCase[] = [];
  for (const f of files) out.push(...parseFixtures(readFileSync(join(dir, f), 'utf8'), f));
  return out;
}

function run<Req extends FrameTiming, Resp extends FrameTiming, Rec, State>(
  parser: ProtocolParser<Req, Resp, Rec, State>,
  steps: readonly FixtureStep[],
  label: string,
  options?: SessionOptions,
): ReplayRun {
  const s = new ProtocolSession(parser, options);
  const records: Rec[] = [];
  for (const st of steps) {
    if (st.kind === 'close') records.push(...s.close(st.tsNs));
    else records.push(...s.feed(st.type, st.data, st.wireLen, st.tsNs));
  }
  return { label, records, counters: s.counters() };
}

/**
 * Replay one case through a fresh ProtocolSession per run. `whole` and `bytes` give one run,
 * `split` one run per (segment, split point).
 */
export function replayFixture<Req extends FrameTiming, Resp extends FrameTiming, Rec, State>(
  parser: ProtocolParser<Req, Resp, Rec, State>,
  fixture: FixtureCase,
  mode: ReplayMode,
  options?: SessionOptions,
): ReplayRun[] {
  const steps = fixture.steps;
  if (mode === 'whole') return [run(parser, steps, 'whole', options)];
  if (mode === 'bytes') {
    const out: FixtureStep[] = [];
    for (const st of steps) {
      if (st.kind === 'close' || st.data.length <= 1) {
        out.push(st);
        continue;
      }
      for (let i = 0; i < st.data.length; i++) {
        const last = i === st.data.length - 1;
        out.push({ ...st, data: st.data.subarray(i, i + 1), wireLen: last ? st.wireLen - i : 1 });
      }
    }
    return [run(parser, out, 'bytes', options)];
  }
  const runs: ReplayRun[] = [];
  steps.forEach((st, k) => {
    if (st.kind === 'close') return;
    for (let at = 1; at < st.data.length; at++) {
      const a: FixtureSegment = { ...st, data: st.data.subarray(0, at), wireLen: at };
      const b: FixtureSegment = { ...st, data: st.data.subarray(at), wireLen: st.wireLen - at };
      runs.push(run(parser, [...steps.slice(0, k), a, b, ...steps.slice(k + 1)], `split step ${k + 1} at ${at}`, options));
    }
  });
  return runs;
}

/** Compare records with expectations; returns a description of the first mismatch, or undefined. */
export function matchRecords(actual: readonly unknown[], expected: readonly Record<string, unknown>[]): string | undefined {
  if (actual.length !== expected.length) {
    return `expected ${expected.length} record(s), got ${actual.length}: ${JSON.stringify(actual)}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected[i])) {
      const got = a?.[k];
      const ok = v === null ? got === undefined || got === null : isDeepStrictEqual(got, v);
      if (!ok) return `record ${i}: ${k} expected ${JSON.stringify(v)}, got ${JSON.stringify(got)}`;
    }
  }
  return undefined;
}

/**
 * Replay a case in every mode and check records (all modes) and counters (whole mode).
 * Returns one message per failing mode (the first failing run of each), empty when all pass.
 */
export function checkFixture<Req extends FrameTiming, Resp extends FrameTiming, Rec, State>(
  parser: ProtocolParser<Req, Resp, Rec, State>,
  fixture: FixtureCase,
  options?: SessionOptions,
): string[] {
  const failures: string[] = [];
  for (const mode of ['whole', 'split', 'bytes'] as const) {
    for (const r of replayFixture(parser, fixture, mode, options)) {
      let msg = matchRecords(r.records, fixture.expect);
      if (msg === undefined && mode === 'whole' && fixture.counters !== undefined) {
        for (const [k, v] of Object.entries(fixture.counters)) {
          const got = (r.counters as unknown as Record<string, number>)[k];
          if (got !== v) {
            msg = `counter ${k} expected ${v}, got ${got}`;
            break;
          }
        }
      }
      if (msg !== undefined) {
        failures.push(`${fixture.file}:${fixture.line} "${fixture.name}" [${r.label}] ${msg}`);
        break;
      }
    }
  }
  return failures;
}
