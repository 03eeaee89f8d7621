/**
 * The response side of a GenAI call, read incrementally (fed chunk by chunk, the same result at
 * every split): a whole JSON body, or a stream of server-sent events (SSE, as both APIs stream:
 * OpenAI `data: {chunk}` lines ending with `data: [DONE]` and, with `stream_options.include_usage`,
 * a last chunk holding `usage`; Anthropic `message_start` / `message_delta` / `message_stop`
 * events, the output token count in the last `message_delta`). Bounded: one SSE event or one JSON
 * body is kept up to a cap, past which it is skipped. Pure; never throws.
 */
import { parseObject } from './request.ts';
import type { GenaiProvider, GenaiResponse } from './types.ts';

/** bytes of one SSE event's data kept; a longer event is skipped (its fields are not read) */
export const MAX_SSE_EVENT = 64 * 1024;
/** bytes of a JSON body kept; a longer body is not read */
export const MAX_JSON_BODY = 1 << 20;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export class GenaiResponseReader {
  private readonly _provider: GenaiProvider;
  /** undefined until the first bytes (or the content type) tell */
  private _sse: boolean | undefined;
  private readonly _r: GenaiResponse = { finishReasons: [], events: 0 };
  private readonly _finish = new Map<number, string>();
  /** SSE: the bytes of the line being read, and the data lines of the event being read */
  private _line: Buffer[] = [];
  private _lineLen = 0;
  private _data: string[] = [];
  private _dataLen = 0;
  private _skipEvent = false;
  /** JSON: the body so far */
  private _json: Buffer[] = [];
  private _jsonLen = 0;
  private _overflow = false;
  private _bytes = 0;

  /** `contentType` of the response when the headers were captured (`text/event-stream` = SSE) */
  constructor(provider: GenaiProvider, contentType?: string) {
    this._provider = provider;
    if (contentType !== undefined && contentType.length > 0) this._sse = contentType.toLowerCase().includes('text/event-stream');
  }

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this._sse === undefined) {
      const head = chunk.subarray(0, 6).toString('latin1');
      this._sse = head.startsWith('data:') || head.startsWith('event:') || head.startsWith(':');
    }
    this._bytes += chunk.length;
    if (this._sse) this._feedSse(chunk);
    else if (!this._overflow) {
      if (this._jsonLen + chunk.length > MAX_JSON_BODY) {
        this._overflow = true;
        this._json = [];
      } else {
        this._json.push(chunk);
        this._jsonLen += chunk.length;
      }
    }
  }

  /** What the bytes fed say; `complete`: they are the whole body (a cut JSON body is not read). */
  finish(complete: boolean): GenaiResponse {
    if (this._sse === false && complete && !this._overflow && this._jsonLen > 0) {
      const o = parseObject(Buffer.concat(this._json, this._jsonLen).toString('utf8'));
      if (o !== undefined) this._fold(o);
    }
    this._json = [];
    const r = this._r;
    r.finishReasons = [...this._finish.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    return r;
  }

  private _feedSse(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl < 0) {
        this._keepLine(chunk.subarray(from));
        return;
      }
      this._keepLine(chunk.subarray(from, nl));
      const line = this._line.length === 1 ? this._line[0] : Buffer.concat(this._line, Math.min(this._lineLen, MAX_SSE_EVENT));
      const cut = this._lineLen > MAX_SSE_EVENT;
      this._line = [];
      this._lineLen = 0;
      this._onLine(line, cut);
      from = nl + 1;
    }
  }

  private _keepLine(part: Buffer): void {
    if (part.length === 0) return;
    if (this._lineLen + part.length <= MAX_SSE_EVENT) this._line.push(part);
    this._lineLen += part.length;
  }

  private _onLine(raw: Buffer, cut: boolean): void {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 13) end--;
    if (end === 0) {
      this._dispatch();
      return;
    }
    if (cut) {
      this._skipEvent = true;
      return;
    }
    const line = raw.subarray(0, end).toString('utf8');
    if (!line.startsWith('data:')) return; // event:, id:, retry:, comments: the JSON says all we read
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    this._dataLen += value.length + 1;
    if (this._dataLen > MAX_SSE_EVENT) this._skipEvent = true;
    else this._data.push(value);
  }

  private _dispatch(): void {
    const data = this._data;
    const skip = this._skipEvent;
    this._data = [];
    this._dataLen = 0;
    this._skipEvent = false;
    if (data.length === 0 || skip) return;
    this._r.events++;
    const text = data.join('\n');
    if (text === '[DONE]') return;
    const o = parseObject(text);
    if (o !== undefined) this._fold(o);
  }

  private _fold(o: Record<string, unknown>): void {
    if (this._provider === 'anthropic') this._foldAnthropic(o);
    else this._foldOpenai(o);
    const err = obj(o.error);
    if (err !== undefined) {
      this._r.errorType ??= str(err.type) ?? str(err.code) ?? '_OTHER';
      this._r.errorMessage ??= str(err.message);
    }
  }

  private _foldOpenai(o: Record<string, unknown>): void {
    const r = this._r;
    r.id ??= str(o.id);
    r.model ??= str(o.model);
    if (Array.isArray(o.choices)) {
      for (let i = 0; i < o.choices.length; i++) {
        const c = obj(o.choices[i]);
        const reason = c === undefined ? undefined : str(c.finish_reason);
        if (c === undefined || reason === undefined) continue;
        this._finish.set(int(c.index) ?? i, reason);
      }
    }
    const u = obj(o.usage);
    if (u !== undefined) {
      const input = int(u.prompt_tokens) ?? int(u.input_tokens);
      const output = int(u.completion_tokens) ?? int(u.output_tokens);
      if (input !== undefined) r.inputTokens = input;
      if (output !== undefined) r.outputTokens = output;
    }
  }

  private _foldAnthropic(o: Record<string, unknown>): void {
    const r = this._r;
    const type = str(o.type);
    const msg = type === 'message_start' ? obj(o.message) : type === 'message' ? o : undefined;
    if (msg !== undefined) {
      r.id ??= str(msg.id);
      r.model ??= str(msg.model);
      const stop = str(msg.stop_reason);
      if (stop !== undefined) this._finish.set(0, stop);
      // message_start's output count is the stream's first (1), not its total: only message_delta's is read
      this._anthropicUsage(obj(msg.usage), type === 'message');
    } else if (type === 'message_delta') {
      const d = obj(o.delta);
      const stop = d === undefined ? undefined : str(d.stop_reason);
      if (stop !== undefined) this._finish.set(0, stop);
      this._anthropicUsage(obj(o.usage), true);
    }
  }

  /** input tokens include cache reads and writes (OTel GenAI conventions); output counts are cumulative */
  private _anthropicUsage(u: Record<string, unknown> | undefined, withOutput: boolean): void {
    if (u === undefined) return;
    const input = int(u.input_tokens);
    if (input !== undefined) this._r.inputTokens = input + (int(u.cache_creation_input_tokens) ?? 0) + (int(u.cache_read_input_tokens) ?? 0);
    const output = int(u.output_tokens);
    if (output !== undefined && withOutput) this._r.outputTokens = output;
  }
}

/** Read one whole response body (or its captured prefix). */
export function readGenaiResponse(provider: GenaiProvider, body: Buffer, complete: boolean, contentType?: string): GenaiResponse {
  const r = new GenaiResponseReader(provider, contentType);
  r.feed(body);
  return r.finish(complete);
}
