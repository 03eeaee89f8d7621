/**
 * The GenAI fixtures (src/protocols/genai/fixtures/*.md): per case a `request` block (method and
 * target on the fence line, the JSON body inside), a `response` block (the Content-Type on the
 * fence line, the body inside; `\r` stands for a carriage return) and an `expect` block (JSON).
 * Used by src/protocols/genai/fixtures.test.ts and scripts/gen-reference.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GenaiCase {
  title: string;
  method: string;
  path: string;
  request: Buffer;
  contentType: string;
  response: Buffer;
  expect: { name: string; events?: number; errorType?: string; errorMessage?: string; attributes: Record<string, string | number> };
}

function loadFile(file: string): GenaiCase[] {
  const text = readFileSync(file, 'utf8');
  const out: GenaiCase[] = [];
  for (const section of text.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'));
    const blocks = new Map<string, { info: string; body: string }>();
    const re = /^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm;
    for (let m = re.exec(section); m !== null; m = re.exec(section)) blocks.set(m[1], { info: m[2].trim(), body: m[3] });
    const req = blocks.get('request')!;
    const res = blocks.get('response')!;
    const [method, path] = req.info.split(' ');
    const raw = (s: string): Buffer => Buffer.from(s.replace(/\\r/g, '\r'), 'utf8');
    out.push({
      title,
      method,
      path,
      request: raw(req.body.replace(/\n$/, '')),
      contentType: res.info,
      response: raw(res.body),
      expect: JSON.parse(blocks.get('expect')!.body) as GenaiCase['expect'],
    });
  }
  return out;
}


/** every case of every fixture file in `dir`, with its file name */
export function loadGenaiCases(dir: string): { file: string; c: GenaiCase }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .flatMap((f) => loadFile(join(dir, f)).map((c) => ({ file: f, c })));
}
